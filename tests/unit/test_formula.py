"""The formula front end: ``bg.GLM.from_formula`` / ``bg.glm`` and ``predict(new_df)``.

References: the same model through the array interface (identical numbers), and statsmodels'
``smf.glm`` (patsy) on the same formula and data: params and bse to 1e-6 relative, names equal
(formulaic and patsy name columns alike for everything used here).
"""

from __future__ import annotations

import warnings
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm.formula import FormulaError, FormulaSpec

sm = pytest.importorskip("statsmodels.api")
smf = pytest.importorskip("statsmodels.formula.api")

RTOL = 1e-6


@pytest.fixture(scope="module")
def claims():
    return bg.datasets.load("claims")


@pytest.fixture(scope="module")
def small():
    """40 rows: a count response, two numeric predictors, a string and a categorical factor."""
    rng = np.random.default_rng(7)
    n = 40
    df = pd.DataFrame({
        "x": rng.uniform(0.5, 3.0, n),
        "z": rng.normal(size=n),
        "site": rng.choice(["a", "b", "c"], n),
        "grp": pd.Categorical(rng.choice(["lo", "hi"], n), categories=["lo", "hi"]),
        "t": rng.uniform(1.0, 5.0, n),
    })
    eta = 0.3 + 0.4 * np.log(df.x) - 0.2 * df.z + (df.site == "b") * 0.3 + np.log(df.t)
    df["y"] = rng.poisson(np.exp(eta))
    df["n"] = rng.integers(5, 12, n)
    df["k"] = rng.binomial(df["n"], 1 / (1 + np.exp(-(0.2 * df.z - 0.1 * df.x))))
    return df


def _sm_family(name):
    return {"poisson": sm.families.Poisson(), "binomial": sm.families.Binomial(),
            "gamma": sm.families.Gamma(sm.families.links.Log()),
            "gaussian": sm.families.Gaussian()}[name]


def _same(ours, theirs):
    """Same coefficients by name (patsy puts categorical-only terms first; formulaic keeps the
    formula's order within each degree), same params and bse."""
    names = list(ours.params.index)
    assert sorted(names) == sorted(theirs.params.index)
    np.testing.assert_allclose(ours.params.to_numpy(), theirs.params[names].to_numpy(),
                               rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(ours.bse.to_numpy(), theirs.bse[names].to_numpy(), rtol=RTOL,
                               atol=1e-9)


# -- formula == arrays --------------------------------------------------------------------------
def test_formula_fit_equals_array_fit_of_the_same_design(claims):
    model = bg.glm("claims ~ age + vehicle + region", claims, family="poisson", exposure="holders")
    X = pd.get_dummies(claims[["age", "vehicle", "region"]], drop_first=True, dtype=float)
    X.columns = [f"{c.split('_', 1)[0]}[T.{c.split('_', 1)[1]}]" for c in X.columns]
    X.insert(0, "Intercept", 1.0)
    arrays = bg.GLM(claims["claims"], X, family="poisson", exposure=claims["holders"])
    assert model.names == arrays.names  # the formula's names: Intercept, age[T.25-39], ...
    np.testing.assert_array_equal(model.design.X, arrays.design.X)
    a, b = model.fit_mle(), arrays.fit_mle()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-12)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-12)
    assert model.design.endog_name == "claims"


def test_glm_function_is_from_formula(small):
    a = bg.glm("y ~ x + site", small, family="poisson")
    b = bg.GLM.from_formula("y ~ x + site", small, family=bg.families.Poisson())
    assert a.names == b.names == ("Intercept", "x", "site[T.b]", "site[T.c]")
    np.testing.assert_array_equal(a.design.X, b.design.X)
    assert isinstance(a.formula_spec, FormulaSpec) and a.formula_spec.formula == "y ~ x + site"
    assert bg.GLM(small["y"], small[["x"]]).formula_spec is None


# -- formula == statsmodels ---------------------------------------------------------------------
@pytest.mark.parametrize("formula", [
    "claims ~ age + vehicle + region",
    "claims ~ C(region, Treatment('north')) + age:vehicle",
    "claims ~ age * vehicle - 1",
    "claims ~ 0 + age + np.log(holders) + I(holders ** 0.5)",
])
def test_poisson_with_exposure_matches_statsmodels(claims, formula):
    ours = bg.glm(formula, claims, family="poisson", exposure="holders").fit_mle()
    theirs = smf.glm(formula, claims, family=sm.families.Poisson(),
                     exposure=claims["holders"].to_numpy()).fit()
    _same(ours, theirs)
    assert ours.deviance == pytest.approx(theirs.deviance, rel=RTOL)


def test_offset_column_matches_statsmodels(claims):
    df = claims.assign(logh=np.log(claims["holders"]))
    ours = bg.glm("claims ~ age + region", df, family="poisson", offset="logh").fit_mle()
    theirs = smf.glm("claims ~ age + region", df, family=sm.families.Poisson(),
                     offset=df["logh"]).fit()
    _same(ours, theirs)
    # an array gives the same fit as the column name
    again = bg.glm("claims ~ age + region", df, family="poisson", offset=df["logh"].to_numpy())
    np.testing.assert_allclose(again.fit_mle().params, ours.params, rtol=1e-12)


@pytest.mark.parametrize("formula,family", [
    ("y ~ np.log(x) + z + site + grp", "poisson"),
    ("y ~ x * z + C(site, Treatment('b'))", "poisson"),
    ("y ~ I(x ** 2) + x:site + z", "gaussian"),
    ("I(y + 1) ~ np.log(x) + z:grp", "gamma"),
])
def test_transformations_interactions_categoricals_match_statsmodels(small, formula, family):
    ours = bg.glm(formula, small, family=family, link="log" if family == "gamma" else None)
    # tight tolerances on both sides: Gamma-log IRLS creeps, and the two programs' stopping
    # rules (R's relative deviance change; statsmodels' deviance change) stop ~1e-5 apart
    theirs = smf.glm(formula, small, family=_sm_family(family)).fit(tol=1e-13)
    _same(ours.fit_mle(tol=1e-13), theirs)


def test_frequency_weights_match_statsmodels(small):
    w = np.arange(len(small)) % 3 + 1.0
    ours = bg.glm("y ~ x + site", small.assign(w=w), family="poisson", weights="w").fit_mle()
    theirs = smf.glm("y ~ x + site", small, family=sm.families.Poisson(), freq_weights=w).fit()
    _same(ours, theirs)


def test_binomial_with_trials_matches_statsmodels(small):
    ours = bg.glm("k ~ z + x + site", small, family="binomial", trials="n").fit_mle()
    theirs = smf.glm("k + I(n - k) ~ z + x + site", small, family=sm.families.Binomial()).fit()
    _same(ours, theirs)
    # the statsmodels-style two-column response [successes, failures] works too
    two = bg.glm("k + I(n - k) ~ z + x + site", small, family="binomial").fit_mle()
    np.testing.assert_allclose(two.params, ours.params, rtol=1e-10)


# -- binomial responses ---------------------------------------------------------------------
def test_two_level_string_response_success_is_the_second_level(small):
    df = small.assign(ok=np.where(small["k"] > small["n"] / 2, "yes", "no"))
    model = bg.glm("ok ~ z + x", df, family="binomial")
    assert model.formula_spec.response_levels == ("no", "yes")
    numeric = bg.glm("I((k > n / 2) * 1.0) ~ z + x", df, family="binomial")
    np.testing.assert_allclose(model.fit_mle().params, numeric.fit_mle().params, rtol=1e-12)
    text = str(model.fit_mle().summary())
    assert "success = 'yes'" in text and "failure = 'no'" in text
    # a categorical's own order decides: here 'yes' comes first, so 'no' is the success
    cat = df.assign(ok=pd.Categorical(df["ok"], categories=["yes", "no"]))
    flipped = bg.glm("ok ~ z + x", cat, family="binomial")
    assert flipped.formula_spec.response_levels == ("yes", "no")
    np.testing.assert_allclose(flipped.fit_mle().params, -model.fit_mle().params, rtol=1e-8)
    # booleans: True is the success
    b = bg.glm("flag ~ z + x", df.assign(flag=df["ok"] == "yes"), family="binomial")
    np.testing.assert_allclose(b.fit_mle().params, model.fit_mle().params, rtol=1e-12)


def test_bad_binomial_responses(small):
    with pytest.raises(ValueError, match=r"response 'site' has 3 levels \('a', 'b', 'c'\)"):
        bg.glm("site ~ z", small, family="binomial")
    with pytest.raises(ValueError, match="trials= needs numbers of successes"):
        bg.glm("grp ~ z", small, family="binomial", trials="n")
    with pytest.raises(TypeError, match="response 'site' is not numeric"):
        bg.glm("site ~ z", small, family="poisson")


# -- missing values -------------------------------------------------------------------------
def test_missing_values_raise_with_count_and_columns(small):
    df = small.copy()
    df.loc[[1, 4], "x"] = np.nan
    df.loc[[4, 9], "site"] = None
    df.loc[12, "t"] = np.nan
    msg = (r"4 rows of 40 have missing values \(in column 'x': 2, column 'site': 2, "
           r"column 't': 1\), the first at row label 1 \(the 2nd row\); pass missing=\"drop\"")
    with pytest.raises(ValueError, match=msg):
        bg.glm("y ~ np.log(x) + site", df, family="poisson", exposure="t")
    # a column the model does not use does not matter
    df2 = small.copy()
    df2.loc[3, "z"] = np.nan
    assert bg.glm("y ~ x", df2, family="poisson").nobs == 40


def test_missing_drop_reports_the_count(small):
    df = small.copy()
    df.loc[[1, 4], "x"] = np.nan
    df.loc[[4, 9], "site"] = None
    with pytest.warns(bg.MissingDataWarning, match=r"dropped 3 of 40 rows") as rec:
        model = bg.glm("y ~ np.log(x) + site", df, family="poisson", missing="drop")
    assert Path(rec[0].filename).name == Path(__file__).name  # points at the user's line
    assert model.nobs == 37 and model.design.n_dropped == 3
    assert list(model.design.row_index) == [i for i in range(40) if i not in (1, 4, 9)]
    mle = model.fit_mle()
    assert "3 rows with missing values were dropped." in mle.summary().notes
    ref = bg.glm("y ~ np.log(x) + site", df.dropna(subset=["x", "site"]), family="poisson")
    np.testing.assert_allclose(mle.params, ref.fit_mle().params, rtol=1e-12)


# -- bad formulas and arguments -------------------------------------------------------------
@pytest.mark.parametrize("formula,err,match", [
    ("y ~ x +", FormulaError, r"cannot parse the formula 'y ~ x \+'"),
    ("y ~ nope + x", FormulaError, r"column 'nope' is not in the data"),
    ("nope ~ x", FormulaError, r"column 'nope' is not in the data"),
    ("~ x", FormulaError, r"has no response"),
    ("y x", FormulaError, r"has no '~'"),
    ("y ~ x | z", FormulaError, r"group-level term must be in parentheses"),
    (3, TypeError, r"formula must be a string"),
])
def test_bad_formulas(small, formula, err, match):
    with pytest.raises(err, match=match):
        bg.glm(formula, small, family="poisson")
    assert issubclass(FormulaError, ValueError)


# -- traps: columns and R idioms that would silently give another model (issue 9) --------------
def _from_csv(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` written to CSV text and read back, as a user's file would be."""
    return pd.read_csv(StringIO(df.to_csv(index=False)))


def test_numeric_column_with_a_stray_string_is_an_error(small):
    # item 13: one "unknown" among numbers made a factor with a level per number (77 columns)
    df = small[["y", "x", "z"]].copy()
    df["age"] = np.round(df["x"] * 20).astype(int).astype(str)
    df.loc[6, "age"] = "unknown"
    df = _from_csv(df)
    assert not pd.api.types.is_numeric_dtype(df["age"])  # strings (object, or pandas 3's str)
    msg = (r"column 'age' holds numbers except for 'unknown' at row label 6 \(the 7th row\); "
           r"as it is, it would become a factor with \d+ levels.*write C\(age\) to make the "
           r"column a factor on purpose")
    with pytest.raises(FormulaError, match=msg):
        bg.glm("y ~ age + z", df, family="poisson")
    with pytest.raises(FormulaError, match=r"column 'age' holds numbers except for 'unknown'"):
        bg.glm("y ~ age:z", df, family="poisson")  # in an interaction too
    # a factor on purpose: one coefficient per level besides the reference
    model = bg.glm("y ~ C(age)", df, family="poisson")
    assert len(model.names) == df["age"].nunique()
    # a decimal comma, and another index: the label and the place both
    df2 = small[["y", "x"]].copy().set_axis([f"r{i}" for i in range(40)])
    df2["w"] = df2["x"].map(lambda v: f"{v:.2f}").astype(object)
    df2.loc["r2", "w"] = "1,30"
    with pytest.raises(FormulaError, match=r"column 'w' holds numbers except for '1,30' \(a "
                                           r"decimal comma.*\) at row label 'r2' \(the 3rd row\)"):
        bg.glm("y ~ w", df2, family="poisson")
    # the response too
    df3 = _from_csv(small[["y", "x"]].astype({"y": object}).assign(
        y=lambda d: d["y"].where(d.index != 4, "unknown")))
    with pytest.raises(FormulaError, match=r"response 'y' holds numbers except for 'unknown' at "
                                           r"row label 4 \(the 5th row\)"):
        bg.glm("y ~ x", df3, family="poisson")
    # string factors (most values not numbers) are still factors
    assert bg.glm("y ~ site", small, family="poisson").names == (
        "Intercept", "site[T.b]", "site[T.c]")
    codes = small[["y"]].assign(g=np.where(small["x"] > 1.5, "1", "other"))
    assert len(bg.glm("y ~ g", codes, family="poisson").names) == 2  # half numbers: a factor


def test_ratio_response_points_to_trials(small):
    # item 14: formulaic reads k/n as k + k:n, two columns taken as [successes, failures]
    with pytest.raises(FormulaError, match=r"the response 'k/n' is not a ratio.*write 'k ~ z' "
                                           r"with trials='n'; to divide, write I\(k/n\)") as exc:
        bg.glm("k/n ~ z", small, family="binomial")
    assert exc.value.idiom.kind == "ratio" and exc.value.idiom.args == {"trials": "n"}
    assert exc.value.idiom.expression == "k/n"
    with pytest.raises(FormulaError, match=r"is not a ratio.*write I\(\(k \+ 1\)/n\)") as exc:
        bg.glm("(k + 1)/n ~ z", small, family="poisson")
    assert exc.value.idiom.expression == "(k + 1)/n"
    # a real division is still possible
    model = bg.glm("I(k/n) ~ z", small, family="gaussian")
    np.testing.assert_allclose(model.design.y, small["k"] / small["n"])


def test_date_columns_are_named(small):
    # item 15: a datetime column failed with NumPy's UFuncTypeError
    df = small[["y", "x"]].assign(day=pd.date_range("2020-01-01", periods=40),
                                  wait=pd.to_timedelta(np.arange(40), unit="h"))
    with pytest.raises(FormulaError, match=r"column 'day' holds dates \(datetime64\[\w+\]\).*"
                                           r"\.dt\.days.*\.dt\.year"):
        bg.glm("y ~ x + day", df, family="poisson")
    with pytest.raises(FormulaError, match=r"column 'wait' holds durations.*\.dt\.total_seconds"):
        bg.glm("y ~ wait", df, family="poisson")
    days = (df["day"] - df["day"].min()).dt.days
    assert bg.glm("y ~ days", df.assign(days=days), family="poisson").names == ("Intercept",
                                                                                 "days")
    # other evaluation errors are FormulaErrors that name the formula, not NumPy's
    with pytest.raises(FormulaError, match=r"cannot evaluate the formula 'y ~ np.log\(day\)'"):
        bg.glm("y ~ np.log(day)", df, family="poisson")


@pytest.mark.parametrize("formula,match,idiom", [
    ("cbind(k, n) ~ z", r"cbind\(\) is R's; write the binomial response \[successes, failures\] "
                        r"as 'k \+ n ~ z'", ("cbind", "k + n ~ z", {})),
    ("k ~ z + offset(np.log(t))", r"offset\(\) is R's; write 'k ~ z' with exposure='t'",
     ("offset", "k ~ z", {"exposure": "t"})),
    ("k ~ offset(log(t)) + z", r"write 'k ~ z' with exposure='t'",
     ("offset", "k ~ z", {"exposure": "t"})),
    ("k ~ z + offset(t)", r"write 'k ~ z' with offset='t'", ("offset", "k ~ z", {"offset": "t"})),
    ("k ~ offset(t / 2)", r"write 'k ~ 1' with offset= an array \(or a column\) holding t / 2",
     ("offset", "k ~ 1", {})),
    ("k ~ factor(n) + z", r"factor\(\) is R's; write 'k ~ C\(n\) \+ z'", ("factor", "k ~ C(n) + z",
                                                                         {})),
    ("k ~ as.factor(n)", r"write 'k ~ C\(n\)'", ("factor", "k ~ C(n)", {})),
])
def test_r_idioms_say_what_to_write(small, formula, match, idiom):
    with pytest.raises(FormulaError, match=match) as exc:
        bg.glm(formula, small, family="poisson")
    assert exc.value.idiom[:3] == idiom


def test_formula_messages_name_the_response_and_rows(small):
    # item 23: "response 'y'", not "endog"; rows by label and by place; "1 row ... has"
    df = small[["y", "x"]].astype({"y": float}).set_axis(range(10, 50))
    df.loc[16, "y"] = -1.0
    with pytest.raises(ValueError, match=r"^response 'y': row label 16 \(the 7th row\) has value "
                                         r"-1 outside the poisson family's domain"):
        bg.glm("y ~ x", df, family="poisson")
    # rows dropped before: the place still counts the user's rows
    df.loc[10, "x"] = np.nan
    with pytest.raises(ValueError, match=r"^1 row of 40 has missing values \(in column 'x': 1\), "
                                         r"the first at row label 10 \(the 1st row\)"):
        bg.glm("y ~ x", df, family="poisson")
    with pytest.warns(bg.MissingDataWarning):
        with pytest.raises(ValueError, match=r"^response 'y': row label 16 \(the 7th row\)"):
            bg.glm("y ~ x", df, family="poisson", missing="drop")
    df.loc[[10, 16], ["x", "y"]] = [[1.0, 0.0], [1.0, 2.5]]
    with pytest.warns(bg.DomainWarning, match=r"^response 'y': row label 16 \(the 7th row\) has "
                                              r"a non-integer value \(2.5\)"):
        bg.glm("y ~ x", df, family="poisson")
    df["y"] = np.where(df.index == 16, 0.5, df["y"] > 2)
    with pytest.raises(ValueError, match=r"^response 'y': row label 16 \(the 7th row\) has value "
                                         r"0.5, neither 0 nor 1; .*or pass a two-column response "
                                         r"'successes \+ failures ~ \.\.\.'"):
        bg.glm("y ~ x", df, family="binomial")
    with np.errstate(invalid="ignore"), pytest.raises(  # log of a negative number: NaN
            ValueError, match=r"^the design matrix: column 'np.log\(x - 1\)' has a non-finite "
                              r"value \(nan\) at row label \d+ \(the \d+(st|nd|rd|th) row\)$"):
        bg.glm("y ~ np.log(x - 1)", small, family="poisson")


def test_bad_per_row_arguments(small):
    with pytest.raises(ValueError, match=r"exposure: column 'nope' is not in the data"):
        bg.glm("y ~ x", small, family="poisson", exposure="nope")
    with pytest.raises(ValueError, match=r"offset has shape \(3,\) but the data have 40 rows"):
        bg.glm("y ~ x", small, family="poisson", offset=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="exposure: requires the log link"):
        bg.glm("y ~ x", small, family="gaussian", exposure="t")
    with pytest.raises(ValueError, match='missing must be one of "raise", "drop"'):
        bg.glm("y ~ x", small, family="poisson", missing="ignore")


def test_dot_and_context(small):
    df = small[["y", "x", "z"]]
    model = bg.glm("y ~ .", df, family="poisson")
    assert model.names == ("Intercept", "x", "z")

    def cube(v):
        return v ** 3

    model = bg.glm("y ~ cube(x)", df, family="poisson")  # the caller's names are visible
    np.testing.assert_allclose(model.design.X[:, 1], df["x"] ** 3)
    assert set(model.formula_spec.context) == {"cube"}  # only the names the formula uses
    new = df.iloc[:3]
    np.testing.assert_allclose(model.fit_mle().predict(new, linear=True)["mean"],
                               model.fit_mle().params.iloc[0]
                               + model.fit_mle().params.iloc[1] * new["x"] ** 3, rtol=1e-10)


# -- predict on new data --------------------------------------------------------------------
def test_mle_predict_reapplies_the_formula(small):
    formula = "y ~ np.log(x) + I(z ** 2) + C(site, Treatment('b')) + grp + center(z)"
    model = bg.glm(formula, small, family="poisson", exposure="t")
    mle = model.fit_mle()
    new = pd.DataFrame({"x": [1.0, 2.5], "z": [0.3, -1.0], "site": ["c", "b"],
                        "grp": ["hi", "lo"], "t": [2.0, 3.0]})
    got = mle.predict(new)
    center = small["z"].mean()  # the training data's centre, not the new rows'
    X = np.column_stack([np.ones(2), np.log(new.x), new.z ** 2, new.site == "a",
                         new.site == "c", new.grp == "hi", new.z - center]).astype(float)
    eta = X @ mle.params.to_numpy() + np.log(new.t.to_numpy())
    np.testing.assert_allclose(got["mean"], np.exp(eta), rtol=1e-10)
    # new exposure: an array, another column's name, or the fitted column (default)
    np.testing.assert_allclose(mle.predict(new, exposure=[1.0, 1.0])["mean"],
                               np.exp(X @ mle.params.to_numpy()), rtol=1e-10)
    np.testing.assert_allclose(mle.predict(new.assign(u=[1.0, 1.0]), exposure="u")["mean"],
                               np.exp(X @ mle.params.to_numpy()), rtol=1e-10)
    # the fitted rows, as a DataFrame, give the fitted means
    np.testing.assert_allclose(mle.predict(small)["mean"], mle.mu, rtol=1e-10)
    # design rows by coefficient name still work
    rows = pd.DataFrame(model.design.X[:3], columns=list(model.names))
    np.testing.assert_allclose(mle.predict(rows, exposure=small["t"][:3])["mean"], mle.mu[:3],
                               rtol=1e-10)


def test_predict_errors_on_new_data(small):
    mle = bg.glm("y ~ np.log(x) + site + grp", small, family="poisson", exposure="t").fit_mle()
    new = pd.DataFrame({"x": [1.0, 2.0], "site": ["a", "d"], "grp": ["lo", "hi"], "t": 1.0})
    with pytest.raises(ValueError, match=r"column 'site' has level 'd', not seen when the "
                                         r"model was fitted \(its levels: 'a', 'b', 'c'\)"):
        mle.predict(new)
    with pytest.raises(ValueError, match=r"column 'grp' has level 'mid'"):
        mle.predict(new.assign(site="a", grp=["lo", "mid"]))
    with pytest.raises(ValueError, match=r"column 'x' is missing; the formula"):
        mle.predict(new.drop(columns="x").assign(site="a"))
    with pytest.raises(ValueError, match=r"1 row of 2 has missing values \(in 'x' \(1\)\)"):
        mle.predict(new.assign(site="a", x=[1.0, np.nan]))
    with pytest.raises(ValueError, match=r"exposure: the model was fitted with "
                                         r"exposure='t', but the new data have no column 't'"):
        mle.predict(new.assign(site="a").drop(columns="t"))
    with pytest.raises(ValueError, match=r"exposure: column 'nope' is not in the data"):
        mle.predict(new.assign(site="a"), exposure="nope")
    # an unseen level of a numeric column made categorical with C()
    dob = bg.datasets.load("dobson")
    m2 = bg.glm("counts ~ C(outcome) + C(treatment)", dob, family="poisson").fit_mle()
    with pytest.raises(ValueError, match=r"not seen when the model was fitted"):
        m2.predict(pd.DataFrame({"outcome": [1, 4], "treatment": [1, 2]}))


def test_dobson_through_the_formula_reproduces_r(small):
    # R: glm(counts ~ outcome + treatment, family = poisson()) (factors): deviance 5.1291 on 4 df
    dob = bg.datasets.load("dobson")
    mle = bg.glm("counts ~ C(outcome) + C(treatment)", dob, family="poisson").fit_mle()
    assert mle.deviance == pytest.approx(5.1291, abs=5e-5)
    assert mle.params["C(outcome)[T.2]"] == pytest.approx(-0.4543, abs=5e-5)
    assert mle.aic == pytest.approx(56.76, abs=5e-3)


# -- the Bayesian side: names, predict, save/load ---------------------------------------------
# These fits reuse the data and the sampler settings of conftest's ``poisson_fit`` (Poisson with
# an exposure, n=200, p=3, 4 chains x 1000 draws): same shapes, so no new NUTS compile.
@pytest.fixture(scope="module")
def formula_poisson(poisson_data):
    model = bg.glm("y ~ x1 + x2", poisson_data, family="poisson", exposure="exposure")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        return model, model.fit(draws=1000, chains=4, seed=1, progress=False)


@pytest.fixture(scope="module")
def formula_categorical(poisson_data):
    """p=3 again: an intercept, x1 and a two-level string factor."""
    df = poisson_data.assign(site=np.where(poisson_data["x2"] > 0, "b", "a"))
    model = bg.glm("y ~ np.log(exposure) + site", df, family="poisson", exposure="exposure")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        return model, model.fit(draws=1000, chains=4, seed=2, progress=False)


def test_bayes_formula_fit_equals_array_fit(formula_poisson, poisson_fit):
    model, fit = formula_poisson
    assert list(fit.idata.posterior["beta"].coords["coef"].values) == ["Intercept", "x1", "x2"]
    assert list(fit.summary().index) == ["Intercept", "x1", "x2"]
    # the same design, seed and settings as the array fit (const, x1, x2): the same draws
    np.testing.assert_array_equal(fit.idata.posterior["beta"].to_numpy(),
                                  poisson_fit.idata.posterior["beta"].to_numpy())
    np.testing.assert_allclose(fit.mle.params, poisson_fit.mle.params, rtol=1e-12)
    assert fit.formula_spec is model.formula_spec
    assert "formula='y ~ x1 + x2'" in repr(fit)


def test_bayes_predict_new_data(formula_categorical, tmp_path):
    model, fit = formula_categorical
    names = ["Intercept", "np.log(exposure)", "site[T.b]"]
    assert list(fit.idata.posterior["beta"].coords["coef"].values) == names
    new = pd.DataFrame({"exposure": [1.0, 2.0, 0.5], "site": ["b", "a", "b"]})
    got = fit.predict(new, kind="linear")
    beta = fit.idata.posterior["beta"].to_numpy().reshape(-1, 3)
    X = np.column_stack([np.ones(3), np.log(new.exposure), new.site == "b"]).astype(float)
    eta = beta @ X.T + np.log(new.exposure.to_numpy())  # the fitted exposure column, by default
    np.testing.assert_allclose(got["mean"], eta.mean(0), rtol=1e-10)
    np.testing.assert_allclose(fit.predict(new, kind="linear", exposure=[1, 1, 1])["mean"],
                               (beta @ X.T).mean(0), rtol=1e-10)
    with pytest.raises(ValueError, match=r"column 'site' has level 'q', not seen"):
        fit.predict(new.assign(site=["a", "q", "b"]))
    with pytest.raises(ValueError, match=r"column 'exposure' is missing"):
        fit.predict(new.drop(columns="exposure"))
    # saved and loaded in another object: the formula is rebuilt from the saved levels
    path = tmp_path / "fit.nc"
    fit.save(path)
    back = bg.load(path)
    assert back.formula_spec.names == model.names
    np.testing.assert_allclose(back.predict(new, kind="linear")["mean"], got["mean"], rtol=1e-10)
    with pytest.raises(ValueError, match=r"column 'site' has level 'q', not seen"):
        back.predict(new.assign(site=["a", "q", "b"]))


def test_bayes_two_level_response_note(small):
    df = small.assign(ok=np.where(small["k"] > small["n"] / 2, "yes", "no"))
    model = bg.glm("ok ~ z + x", df, family="binomial")
    note = model.formula_spec.response_note()
    assert "success = 'yes'" in note
    # BayesResults states it in summary().attrs and its repr (no sampling needed to check)
    res = bg.BayesResults.__new__(bg.BayesResults)
    res.formula_spec = model.formula_spec
    assert res.response_note() == note


def test_spec_with_stateful_transform_is_not_rebuilt_after_load(small):
    spec = bg.glm("y ~ center(x) + site", small, family="poisson").formula_spec
    assert spec.stateful
    back = FormulaSpec.from_dict(spec.to_dict())
    with pytest.raises(ValueError, match="stateful transforms"):
        back.design_matrix(small)
    plain = bg.glm("y ~ np.log(x) + C(site, Treatment('c')) + grp", small, family="poisson")
    back = FormulaSpec.from_dict(plain.formula_spec.to_dict())
    np.testing.assert_array_equal(back.design_matrix(small)[0], plain.design.X)


# -- the import boundary --------------------------------------------------------------------
