"""Input validation of bayesglm.design: every bad input is named, with its column, row and value."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import families as F
from bayesglm._warnings import DomainWarning, MissingDataWarning
from bayesglm.design import Design, check_vector, make_design, make_exog, naming, ordinal

GAUSS = F.Gaussian()
POIS = F.Poisson()
BINOM = F.Binomial()


def xy(n=6, p=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(size=(n, p))


# -- happy paths ---------------------------------------------------------------------------
def test_basic_numpy_design():
    y, X = xy()
    d = make_design(y, X, GAUSS)
    assert isinstance(d, Design)
    assert d.nobs == 6 and d.n_coef == 2
    assert d.names == ("x0", "x1") and d.endog_name == "y"
    assert d.X.dtype == np.float64 and d.X.flags.c_contiguous and d.y.flags.c_contiguous
    assert d.offset is None and d.exposure is None and d.weights is None and d.trials is None
    assert d.total_offset is None and d.sum_weights == 6.0 and d.const_index is None
    assert d.n_dropped == 0 and d.row_index is None
    np.testing.assert_array_equal(d.X, X)


def test_lists_and_1d_exog_and_fortran_input():
    d = make_design([1, 2, 3], [4.0, 5.0, 6.0], GAUSS)
    assert d.X.shape == (3, 1) and d.names == ("x0",)
    X = np.asfortranarray(np.arange(12.0).reshape(6, 2))
    d = make_design(np.arange(6), X, GAUSS)
    assert d.X.flags.c_contiguous and d.y.dtype == np.float64


def test_names_defaults_and_const():
    y, X = xy()
    Xc = np.column_stack([np.ones(6), X])
    assert make_design(y, Xc, GAUSS).names == ("const", "x1", "x2")
    assert make_design(y, Xc, GAUSS).const_index == 0
    # a constant zero column is not an intercept
    assert make_design(y, np.column_stack([np.zeros(6), X]), GAUSS).names == ("x0", "x1", "x2")
    df = pd.DataFrame({"Intercept": 1.0, "a": X[:, 0], 3: X[:, 1]})
    d = make_design(pd.Series(y, name="resp"), df, GAUSS)
    assert d.names == ("Intercept", "a", "3") and d.endog_name == "resp" and d.const_index == 0
    assert make_design(y, df, GAUSS, names=["c", "u", "v"]).names == ("c", "u", "v")
    assert make_design(y, pd.Series(X[:, 0], name="z"), GAUSS).names == ("z",)
    assert make_design(pd.DataFrame({"yy": y}), X, GAUSS).endog_name == "yy"


def test_bool_columns_and_nullable_dtypes():
    df = pd.DataFrame({"b": [True, False, True], "i": pd.array([1, 2, 3], dtype="Int64")})
    d = make_design(np.array([True, False, True]), df, BINOM)
    np.testing.assert_array_equal(d.X, [[1, 1], [0, 2], [1, 3]])
    np.testing.assert_array_equal(d.y, [1, 0, 1])
    assert d.trials is None


def test_binomial_three_forms_agree():
    s = np.array([0, 2, 3, 5])
    t = np.array([4, 4, 3, 10])
    X = np.ones((4, 1))
    a = make_design(s, X, BINOM, trials=t)
    b = make_design(s / t, X, BINOM, trials=t)
    c = make_design(np.column_stack([s, t - s]), X, BINOM)
    d = make_design(pd.DataFrame({"succ": s, "fail": t - s}), X, BINOM)
    for other in (b, c, d):
        np.testing.assert_array_equal(other.y, a.y)
        np.testing.assert_array_equal(other.trials, a.trials)
    np.testing.assert_allclose(a.y, s / t)
    assert d.endog_name == "succ"


def test_offset_exposure_weights():
    y = np.array([0.0, 1, 2, 3])
    X = np.ones((4, 1))
    off = np.array([0.1, 0.2, 0.3, 0.4])
    exp_ = np.array([1.0, 2, 3, 4])
    w = np.array([1.0, 0, 2, 1])
    d = make_design(y, X, POIS, offset=off, exposure=exp_, weights=w)
    np.testing.assert_allclose(d.total_offset, off + np.log(exp_))
    assert d.sum_weights == 4.0
    np.testing.assert_allclose(make_design(y, X, POIS, exposure=exp_).total_offset, np.log(exp_))
    np.testing.assert_allclose(make_design(y, X, POIS, offset=off).total_offset, off)


def test_family_by_name():
    assert make_design([0, 1, 2], np.ones(3), "poisson").nobs == 3


def test_inputs_not_mutated_and_not_shared():
    y = np.array([1.0, 2.0, np.nan, 4.0])
    X = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 4.0], [1.0, np.nan]])
    off = np.zeros(4)
    w = np.ones(4)
    copies = [a.copy() for a in (y, X, off, w)]
    df = pd.DataFrame(X, columns=["a", "b"])
    df_copy = df.copy()
    with pytest.warns(MissingDataWarning):
        d = make_design(y, X, GAUSS, offset=off, weights=w, missing="drop")
    with pytest.warns(MissingDataWarning):
        make_design(y, df, GAUSS, missing="drop")
    for orig, copy in zip((y, X, off, w), copies):
        np.testing.assert_array_equal(orig, copy)
    pd.testing.assert_frame_equal(df, df_copy)
    d2 = make_design(np.array([1.0, 2.0]), np.array([[1.0], [2.0]]), GAUSS, offset=np.zeros(2))
    for a in (d.y, d.X, d.offset, d.weights):
        assert not any(np.shares_memory(a, b) for b in (y, X, off, w))
    with pytest.raises(ValueError, match="read-only"):  # the design's arrays do not change
        d2.X[0, 0] = 99.0
    assert X[0, 0] == 1.0


def test_design_owns_its_arrays_when_the_input_is_already_aligned():
    # issue 10: an aligned float64 exog was held by reference (the fast path), so editing the
    # user's X afterwards changed model.design.X
    from bayesglm.design import aligned

    X = aligned(np.column_stack([np.ones(6), np.arange(6.0)]))
    y = np.array([1.0, 0.0, 2.0, 3.0, 2.0, 5.0])
    m = bg.GLM(y, X, family="poisson")
    X[0, 1] = 100.0
    assert m.design.X[0, 1] == 0.0 and not np.shares_memory(m.design.X, X)
    assert not m.design.X.flags.writeable and not m.design.y.flags.writeable


def test_missing_drop_rows_counts_and_index():
    idx = pd.Index(["a", "b", "c", "d", "e"])
    y = pd.Series([1.0, np.nan, 3.0, 4.0, 5.0], index=idx)
    X = pd.DataFrame({"x1": [1.0, 2.0, None, np.nan, 5.0], "x2": [1.0, 2, 3, 4, 5]}, index=idx)
    with pytest.warns(
        MissingDataWarning, match=r"dropped 3 of 5 rows.*endog: 1.*exog column 'x1': 2",
    ):
        d = make_design(y, X, GAUSS, missing="drop")
    assert d.n_dropped == 3 and d.nobs == 2
    assert list(d.row_index) == ["a", "e"]
    np.testing.assert_array_equal(d.y, [1.0, 5.0])
    np.testing.assert_array_equal(d.X, [[1, 1], [5, 5]])


def test_missing_drop_none_pd_na_and_extras():
    y = [1.0, 2.0, 3.0, 4.0]
    X = np.array([1, None, 3, 4], dtype=object)
    w = pd.array([1, 1, pd.NA, 1], dtype="Int64")
    with pytest.warns(
        MissingDataWarning, match=r"dropped 2 of 4 rows.*exog column 'x0': 1, weights: 1",
    ):
        d = make_design(y, X, GAUSS, weights=w, missing="drop")
    np.testing.assert_array_equal(d.y, [1.0, 4.0])
    np.testing.assert_array_equal(d.weights, [1.0, 1.0])


def test_no_warning_when_nothing_dropped():
    y, X = xy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make_design(y, X, GAUSS, missing="drop").n_dropped == 0


def test_poisson_non_integer_warns():
    with pytest.warns(
        DomainWarning, match=r"endog: row 1 \(the 2nd row\) has a non-integer value"
                             r" \(1.5\).*poisson",
    ):
        make_design([1.0, 1.5, 2.0], np.ones(3), POIS)


def test_make_exog_by_name():
    df = pd.DataFrame({"b": [1.0, 2.0], "extra": ["u", "v"], "a": [3, 4]})
    np.testing.assert_array_equal(make_exog(df, ("a", "b")), [[3, 1], [4, 2]])
    with pytest.raises(ValueError, match=r"exog: column 'c' is missing"):
        make_exog(df, ("a", "c"))
    np.testing.assert_array_equal(make_exog([1.0, 2.0], ("const", "x")), [[1, 2]])  # one row
    np.testing.assert_array_equal(make_exog([1.0, 2.0], ("x",)), [[1], [2]])  # one column
    row = pd.Series({"a": 5.0, "b": 6.0})
    np.testing.assert_array_equal(make_exog(row, ("b", "a")), [[6, 5]])
    with pytest.raises(ValueError, match=r"exog: has 3 columns but the model has 2"):
        make_exog(np.ones((2, 3)), ("a", "b"))
    bad = pd.DataFrame({"a": [1.0, np.inf]}, index=[10, 20])
    with pytest.raises(
        ValueError,
        match=r"exog: column 'a' has a non-finite value \(inf\) at row label 20 \(the 2nd row\)",
    ):
        make_exog(bad, ("a",))
    with pytest.raises(TypeError, match=r"exog: column 'extra' has non-numeric dtype"):
        make_exog(df, ("extra",))


def test_check_vector():
    np.testing.assert_array_equal(check_vector([1, 2], 2, "offset"), [1.0, 2.0])
    assert check_vector(None, 3, "offset") is None
    with pytest.raises(ValueError, match=r"offset has 2 rows but exog has 3"):
        check_vector([1, 2], 3, "offset")
    with pytest.raises(ValueError,
                       match=r"exposure: row 1 \(the 2nd row\) has a non-positive value \(0\)"):
        check_vector([1, 0], 2, "exposure", positive=True)
    with pytest.raises(ValueError,
                       match=r"offset: row label 'q' \(the 2nd row\) has a non-finite value"):
        check_vector(pd.Series([1.0, np.nan], index=["p", "q"]), 2, "offset")


# -- bad input: shapes and types -----------------------------------------------------------
def test_empty_data():
    with pytest.raises(ValueError, match="empty data set"):
        make_design([], np.empty((0, 2)), GAUSS)


def test_exog_zero_columns():
    with pytest.raises(ValueError, match=r"exog: has 0 columns"):
        make_design([1.0, 2.0], np.empty((2, 0)), GAUSS)


def test_length_mismatch():
    with pytest.raises(ValueError, match=r"exog has 3 rows but endog has 4"):
        make_design(np.ones(4), np.ones((3, 1)), GAUSS)
    for arg in ("offset", "weights"):
        with pytest.raises(ValueError, match=rf"{arg} has 5 rows but endog has 4"):
            make_design(np.ones(4), np.ones((4, 1)), GAUSS, **{arg: np.ones(5)})


def test_bad_dimensions():
    with pytest.raises(ValueError, match=r"exog: must be a 1-D or 2-D.*3-D"):
        make_design(np.ones(2), np.ones((2, 1, 1)), GAUSS)
    with pytest.raises(ValueError, match=r"endog: must be a 1-D or 2-D.*scalar"):
        make_design(1.0, np.ones((1, 1)), GAUSS)
    with pytest.raises(ValueError, match=r"endog: must be 1-D .*got 3 columns"):
        make_design(np.ones((2, 3)), np.ones((2, 1)), BINOM)
    with pytest.raises(ValueError, match=r"weights: must be 1-D, got 2 columns"):
        make_design(np.ones(2), np.ones((2, 1)), GAUSS, weights=np.ones((2, 2)))


def test_non_numeric_columns():
    y = [1.0, 2.0, 3.0]
    cases = {
        "str": pd.DataFrame({"g": ["a", "b", "c"]}),
        "category": pd.DataFrame({"g": pd.Categorical(["a", "b", "a"])}),
        "datetime64": pd.DataFrame({"g": pd.date_range("2020-01-01", periods=3)}),
    }
    for dtype, df in cases.items():
        with pytest.raises(
            TypeError, match=rf"exog: column 'g' has non-numeric dtype {dtype}.*dummy",
        ):
            make_design(y, df, GAUSS)
    with pytest.raises(TypeError, match=r"exog: column 'x0' has non-numeric dtype <U1.*formula"):
        make_design(y, np.array(["a", "b", "c"]), GAUSS)
    mixed = pd.DataFrame({"m": pd.Series([1.0, "two", 3.0], dtype=object, index=[7, 8, 9])})
    with pytest.raises(TypeError, match=r"exog: column 'm' has dtype object.*'two'.* at row "
                                        r"label 8 \(the 2nd row\)"):
        make_design(y, mixed, GAUSS)


def test_complex_rejected():
    with pytest.raises(TypeError, match=r"exog: column 'x0' has complex dtype complex128"):
        make_design([1.0, 2.0], np.array([1 + 1j, 2]), GAUSS)
    with pytest.raises(TypeError, match=r"endog: has complex dtype"):
        make_design(np.array([1 + 1j, 2]), np.ones(2), GAUSS)


def test_bad_names():
    y, X = xy()
    with pytest.raises(ValueError, match=r"names: has 3 entries but exog has 2 columns"):
        make_design(y, X, GAUSS, names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"names are not unique \('a'"):
        make_design(y, X, GAUSS, names=["a", "a"])
    with pytest.raises(ValueError, match=r"names: must be strings, got 1"):
        make_design(y, X, GAUSS, names=["a", 1])
    df = pd.DataFrame(X, columns=["a", "a"])
    with pytest.raises(ValueError, match=r"exog: column names are not unique.*names="):
        make_design(y, df, GAUSS)


def test_bad_missing_option():
    with pytest.raises(ValueError, match=r'"raise", "drop".*ignore'):
        make_design([1.0], [1.0], GAUSS, missing="ignore")


def test_index_mismatch():
    y = pd.Series([1.0, 2.0], index=[0, 1])
    X = pd.DataFrame({"a": [1.0, 2.0]}, index=[5, 6])
    with pytest.raises(ValueError, match=r"exog: its pandas index differs from that of endog"):
        make_design(y, X, GAUSS)


# -- bad input: values ---------------------------------------------------------------------
def test_nan_in_exog_raises_with_column_row_and_hint():
    X = np.ones((20, 3))
    X[17, 2] = np.nan
    with pytest.raises(
        ValueError,
        match=r"exog: column 'x2' has a non-finite value \(nan\) at row 17 \(the 18th row\)"
        r".*missing=\"drop\"",
    ):
        make_design(np.ones(20), X, GAUSS)


def test_pandas_labels_in_messages():
    idx = pd.Index(["a", "b", "c"])
    X = pd.DataFrame({"age": [1.0, np.nan, 3.0]}, index=idx)
    with pytest.raises(
        ValueError,
        match=r"exog: column 'age' has a non-finite value \(nan\) at row label 'b' \(the 2nd row\)",
    ):
        make_design(pd.Series([1.0, 2, 3], index=idx), X, GAUSS)
    mi = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
    with pytest.raises(ValueError,
                       match=r"exog: column 'age' has .* at row label \('a', 2\) \(the 2nd row\)"):
        make_design(pd.Series([1.0, 2, 3], index=mi), X.set_axis(mi), GAUSS)
    # labels also come from exog when endog is plain NumPy
    with pytest.raises(ValueError,
                       match=r"endog: row label 'c' \(the 3rd row\) has value -1 outside the pois"):
        make_design(np.array([1.0, 2, -1]), X.fillna(0), POIS)


def test_rows_named_by_label_and_by_place_in_the_data():
    # issue 9, item 23: a pandas label is not the row's place; say both ("row label 6 (the 7th
    # row)"), and for NumPy input the 0-based position with the 1-based place
    assert [ordinal(k) for k in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 112)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
        "112th"]
    y = pd.Series([1.0, 2.0, -1.0], index=[5, 6, 7])
    with pytest.raises(ValueError, match=r"^endog: row label 7 \(the 3rd row\) has value -1"):
        make_design(y, np.ones(3), POIS)
    with pytest.raises(ValueError, match=r"^endog: row 2 \(the 3rd row\) has value -1"):
        make_design(y.to_numpy(), np.ones(3), POIS)
    # after missing="drop" the place still counts the user's rows, not the kept ones
    X = np.array([np.nan, 1.0, 1.0, 1.0])
    with pytest.warns(MissingDataWarning):
        with pytest.raises(ValueError, match=r"^endog: row 3 \(the 4th row\) has value -1"):
            make_design([1.0, 2.0, 3.0, -1.0], X, POIS, missing="drop")


def test_naming_renames_the_inputs_in_messages():
    # the formula front end words messages for its users: "response 'y'", not "endog"
    y = pd.Series([1.0, 2.0, -1.0], index=[5, 6, 7])
    with naming(response="response 'y'", positions=np.array([0, 2, 9])):
        with pytest.raises(ValueError, match=r"^response 'y': row label 7 \(the 10th row\) has"):
            make_design(y, np.ones(3), POIS)
        with pytest.raises(ValueError, match=r"pass trials= or a 2-column endog"):
            make_design([0, 2, 1], np.ones(3), BINOM)
    with pytest.raises(ValueError, match=r"^endog: row label 7 \(the 3rd row\)"):  # reset
        make_design(y, np.ones(3), POIS)


def test_nan_in_endog_and_extras():
    with pytest.raises(
        ValueError, match=r"endog: row 1 \(the 2nd row\) has a non-finite value"
                          r" \(nan\).*missing=\"drop\"",
    ):
        make_design([1.0, np.nan], np.ones(2), GAUSS)
    with pytest.raises(ValueError, match=r"offset: row 0 \(the 1st row\) has a non-finite"
                                         r" value \(nan\)"):
        make_design([1.0, 2.0], np.ones(2), GAUSS, offset=[np.nan, 0.0])
    with pytest.raises(ValueError, match=r"weights: row 1 \(the 2nd row\) has a non-finite"
                                         r" value \(nan\)"):
        make_design([1.0, 2.0], np.ones(2), GAUSS, weights=[1.0, None])


def test_inf_is_never_missing():
    X = np.ones((3, 1))
    X[1, 0] = np.inf
    with pytest.raises(
        ValueError, match=r"exog: column 'x0' has a non-finite value \(inf\) at row 1 \(the"
                          r" 2nd row\)",
    ):
        make_design(np.ones(3), X, GAUSS, missing="drop")
    with pytest.raises(ValueError, match=r"offset: row 2 \(the 3rd row\) has a non-finite"
                                         r" value \(-inf\)"):
        make_design(np.ones(3), np.ones(3), GAUSS, offset=[0, 0, -np.inf], missing="drop")


def test_all_rows_dropped():
    with pytest.raises(ValueError, match=r"all 2 rows have missing values"):
        make_design([np.nan, 1.0], [1.0, np.nan], GAUSS, missing="drop")


def test_family_domain():
    with pytest.raises(
        ValueError,
        match=r"^endog: row 4 \(the 5th row\) has value -1 outside the poisson family's domain"
              r" \[0, inf\)$",
    ):
        make_design([0, 1, 2, 3, -1], np.ones(5), POIS)
    with pytest.raises(
        ValueError, match=r"endog: row 0 \(the 1st row\) has value 0 outside the gamma"
                          r" family's domain \(0, inf\)",
    ):
        make_design([0.0, 1.0], np.ones(2), F.Gamma())
    with pytest.raises(
        ValueError,
        match=r"endog: row 1 \(the 2nd row\) has value 2 outside the binomial family's domain"
              r" \[0, 1\]"
        r".*trials=",
    ):
        make_design([0, 2], np.ones(2), BINOM)


def test_binomial_proportions_need_trials():
    with pytest.raises(ValueError, match=r"endog: row 1 \(the 2nd row\) has value 0.5, neither"
                                         r" 0 nor 1.*trials="):
        make_design([0, 0.5, 1], np.ones(3), BINOM)


def test_binomial_bad_trials():
    with pytest.raises(
        ValueError, match=r"trials: row 1 \(the 2nd row\) has a non-integer value"
                          r" \(2.5\).*positive integers",
    ):
        make_design([0, 1], np.ones(2), BINOM, trials=[2, 2.5])
    with pytest.raises(ValueError, match=r"trials: row 0 \(the 1st row\) has a non-positive"
                                         r" value \(0\)"):
        make_design([0, 1], np.ones(2), BINOM, trials=[0, 2])


def test_binomial_successes_exceed_trials():
    with pytest.raises(ValueError, match=r"endog: row 1 \(the 2nd row\) has successes > trials"
                                         r" \(5 > 3\)"):
        make_design([1, 5], np.ones(2), BINOM, trials=[2, 3])
    with pytest.raises(ValueError, match=r"endog: row 0 \(the 1st row\) has a negative value"
                                         r" \(-1\)"):
        make_design([-1, 1], np.ones(2), BINOM, trials=[2, 3])


def test_binomial_proportion_times_trials_not_integer():
    with pytest.raises(
        ValueError, match=r"endog: row 1 \(the 2nd row\) has proportion 0.3 with trials 4.*not"
                          r" a whole number",
    ):
        make_design([0.5, 0.3], np.ones(2), BINOM, trials=[4, 4])


def test_binomial_two_columns_errors():
    X = np.ones((2, 1))
    with pytest.raises(ValueError, match=r"trials: cannot be given with a 2-column endog"):
        make_design(np.array([[1, 1], [0, 2]]), X, BINOM, trials=[2, 2])
    with pytest.raises(
        ValueError, match=r"endog: column 'failures' has a negative value \(-1\) at row 1"
                          r" \(the 2nd row\)",
    ):
        make_design(np.array([[1, 1], [0, -1]]), X, BINOM)
    df = pd.DataFrame({"dead": [1, -2], "alive": [1, 1]}, index=["u", "v"])
    with pytest.raises(
        ValueError,
        match=r"endog: column 'dead' has a negative value \(-2\) at row label 'v' \(the 2nd row\)",
    ):
        make_design(df, X, BINOM)
    with pytest.raises(
        ValueError, match=r"endog: column 'successes' has a non-integer value \(0.5\) at row 0"
                          r" \(the 1st row\)",
    ):
        make_design(np.array([[0.5, 1], [0, 2]]), X, BINOM)
    with pytest.raises(ValueError, match=r"endog: row 1 \(the 2nd row\) has 0 trials"):
        make_design(np.array([[1, 1], [0, 0]]), X, BINOM)


def test_binomial_only_arguments():
    with pytest.raises(
        ValueError, match=r"trials: trials applies only to the binomial family, not poisson",
    ):
        make_design([1, 2], np.ones(2), POIS, trials=[3, 3])
    with pytest.raises(
        ValueError, match=r"endog: has 2 columns.*only to the binomial family, not poisson",
    ):
        make_design(np.ones((2, 2)), np.ones(2), POIS)


def test_exposure_requires_log_link():
    with pytest.raises(
        ValueError, match=r"exposure: requires the log link.*gaussian family has the identity link",
    ):
        make_design([1.0, 2.0], np.ones(2), GAUSS, exposure=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"exposure: .*poisson family has the sqrt link"):
        make_design([1, 2], np.ones(2), F.Poisson("sqrt"), exposure=[1.0, 2.0])


def test_exposure_must_be_positive():
    with pytest.raises(
        ValueError, match=r"exposure: row 1 \(the 2nd row\) has a non-positive value"
                          r" \(-2\).*positive",
    ):
        make_design([1, 2], np.ones(2), POIS, exposure=[1.0, -2.0])


def test_negative_weights():
    with pytest.raises(
        ValueError, match=r"weights: row 2 \(the 3rd row\) has a negative value"
                          r" \(-0.5\).*non-negative",
    ):
        make_design([1.0, 2, 3], np.ones(3), GAUSS, weights=[1, 1, -0.5])
    with pytest.raises(ValueError, match=r"weights: all weights are zero"):
        make_design([1.0, 2, 3], np.ones(3), GAUSS, weights=[0, 0, 0])
