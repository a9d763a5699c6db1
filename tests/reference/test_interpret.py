"""Predictions, comparisons and slopes (issue 13) against R, by hand: the delta method's
estimates and standard errors of a logistic model with an interaction and a transform, a
Poisson model with an offset (exposure) and a frequency-weighted Poisson model; emmeans as a
cross-check; the posterior's versions against the same quantities computed from its draws.

References: tests/reference/r/interpret.R and its JSON (R 4.2.2, numDeriv 2016.8.1.1, emmeans
1.8.4.1): base R's glm, every quantity computed by hand from predict()-equivalent rows
(model.matrix of the modified data with the fit's terms, contrasts and levels) and its
standard error sqrt(J V J') with J by numDeriv's Richardson Jacobian and V = vcov(fit); data
tests/reference/r/interpret.csv (simulated there) and the bundled claims. Conventions, as
marginaleffects and bayesglm.interpret: a numeric comparison is x + 1 against x, a ratio of an
average is the ratio of the averages ("ratioavg"), "sd" is mean(x) -+ sd(x) / 2, "iqr" the
quartiles (R's type 7, NumPy's default "linear"), "minmax" the range; a factor's levels each
against the first; averages unweighted unless wts=True. Slopes: R's by the chain rule with the
design's central difference (exact: eta is linear in x1 there); bayesglm's by JAX's jvp of the
mean with the design's central difference (bayesglm.interpret.SLOPE_STEP).

Tolerances (the issue: estimates 1e-6 relative, SEs 1e-4): estimates 1e-8 relative, SEs 1e-6
relative, which the two computations of the same formulas reach (largest seen 2026-12-03:
estimates 1.2e-9, SEs 4.4e-10; 6.3e-12 in the estimates but for the sandwich cases, whose R fit
is iterated to epsilon = 1e-14 and bayesglm's to its default tolerance). Deterministic, except the posterior checks (fixed seeds; their
tolerances are a few Monte Carlo standard errors, false-failure rate below 1e-4 each).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesglm as bg

R_DIR = Path(__file__).parent / "r"
REF = json.loads((R_DIR / "interpret.json").read_text())
DATA = pd.read_csv(R_DIR / "interpret.csv")
EST, SE = 1e-8, 1e-6


_reached = {"estimate": 0.0, "std_error": 0.0}  # reported after the module (tests/conftest.py)


def _close(table, ref):
    for col, tol in (("estimate", EST), ("std_error", SE)):
        got = table[col].to_numpy()
        want = np.atleast_1d(np.asarray(ref[col], dtype=float))
        np.testing.assert_allclose(got, want, rtol=tol, atol=1e-12 if col == "estimate" else 0)
        rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-12)
        _reached[col] = max(_reached[col], float(rel.max()))


@pytest.fixture(scope="module")
def logistic():
    # glm(y_bin ~ x1 * treat + I(x2^2), family = binomial, data = d)
    m = bg.glm("y_bin ~ x1 * treat + I(x2**2)", DATA, family="binomial").fit_mle()
    np.testing.assert_allclose(m.params, REF["logistic"]["coef"], rtol=1e-9)
    return m


@pytest.fixture(scope="module")
def claims():
    # glm(claims ~ age + vehicle + region + offset(log(holders)), family = poisson): exposure
    m = bg.glm("claims ~ age + vehicle + region", bg.datasets.load("claims"),
               family="poisson", exposure="holders").fit_mle()
    np.testing.assert_allclose(m.params, REF["poisson_offset"]["coef"], rtol=1e-9)
    return m


@pytest.fixture(scope="module")
def weighted():
    # glm(y_cnt ~ x1 + treat, family = poisson, weights = w): R's prior weights of a Poisson
    # model are frequency weights (the script checks them against the expanded rows)
    m = bg.glm("y_cnt ~ x1 + treat", DATA, family="poisson", weights="w").fit_mle()
    np.testing.assert_allclose(m.params, REF["weighted_poisson"]["coef"], rtol=1e-9)
    return m


def test_average_predictions(logistic, claims, weighted):
    A = REF["logistic"]
    _close(logistic.avg_predictions(), A["avg_predictions"])
    by = logistic.avg_predictions(by="treat")
    assert list(by["treat"]) == A["avg_predictions_by_treat"]["treat"]
    _close(by, A["avg_predictions_by_treat"])
    _close(logistic.avg_predictions(type="link"), A["avg_predictions_link"])
    B = REF["poisson_offset"]
    # the response scale of an exposure model: each row's expected count at its own holders
    _close(claims.avg_predictions(), B["avg_predictions"])
    region = claims.avg_predictions(by="region")
    assert list(region["region"]) == B["avg_predictions_by_region"]["region"]
    _close(region, B["avg_predictions_by_region"])
    C = REF["weighted_poisson"]
    _close(weighted.avg_predictions(), C["avg_predictions"])  # unweighted by default
    _close(weighted.avg_predictions(wts=True), C["avg_predictions_weighted"])


def test_numeric_comparisons(logistic, weighted):
    A = REF["logistic"]
    for kind in ("difference", "ratio", "lnratio"):
        t = logistic.avg_comparisons("x1", comparison=kind)
        assert list(t["contrast"]) == ["+1"]
        _close(t, A["avg_comparisons_x1"][kind])
    cases = {"custom_0_10": [0, 10], "sd": "sd", "iqr": "iqr", "minmax": "minmax"}
    for key, spec in cases.items():
        _close(logistic.avg_comparisons({"x1": spec}), A[f"avg_comparisons_x1_{key}"])
    C = REF["weighted_poisson"]
    _close(weighted.avg_comparisons("x1"), C["avg_comparisons_x1"]["difference"])
    _close(weighted.avg_comparisons("x1", wts=True),
           C["avg_comparisons_x1_weighted"]["difference"])


def test_factor_comparisons(logistic, claims):
    A = REF["logistic"]
    ref = logistic.avg_comparisons("treat")
    assert list(ref["contrast"]) == A["avg_comparisons_treat_reference"]["contrast"]
    _close(ref, A["avg_comparisons_treat_reference"])
    pair = logistic.avg_comparisons({"treat": "pairwise"})
    assert list(pair["contrast"]) == A["avg_comparisons_treat_pairwise"]["contrast"]
    _close(pair, A["avg_comparisons_treat_pairwise"])
    # the ratio of the averages, labelled as R's script labels it ("b / a")
    ratio = logistic.avg_comparisons({"treat": "pairwise"}, comparison="ratio")
    assert list(ratio["contrast"]) == A["avg_comparisons_treat_pairwise"]["ratio"]["contrast"]
    _close(ratio, A["avg_comparisons_treat_pairwise"]["ratio"])
    ln = logistic.avg_comparisons({"treat": ["a", "b"]}, comparison="lnratio")
    assert list(ln["contrast"]) == ["ln(b / a)"]
    # by a column outside the model: the evaluation rows passed as data= (the fitted rows)
    by = logistic.avg_comparisons({"treat": ["a", "b"]}, DATA, by="grp")
    assert list(by["grp"]) == A["avg_comparisons_treat_b_a_by_grp"]["grp"]
    _close(by, A["avg_comparisons_treat_b_a_by_grp"])
    B = REF["poisson_offset"]
    veh = claims.avg_comparisons("vehicle")
    assert list(veh["contrast"]) == B["avg_comparisons_vehicle_reference"]["contrast"]
    _close(veh, B["avg_comparisons_vehicle_reference"])


def test_slopes(logistic, weighted):
    A = REF["logistic"]
    _close(logistic.avg_slopes("x1"), A["avg_slopes_x1"])
    head = logistic.slopes("x1").iloc[:5]
    _close(head, A["slopes_head"])
    C = REF["weighted_poisson"]
    _close(weighted.avg_slopes("x1"), C["avg_slopes_x1"])
    _close(weighted.avg_slopes("x1", wts=True), C["avg_slopes_x1_weighted"])


def test_slopes_by_autodiff_match_finite_differences_of_the_predictions(logistic):
    """The slope of a transformed column (x2 enters as x2^2): JAX's derivative of the mean
    against central differences of whole predictions (step 1e-5: error ~1e-10)."""
    rows = DATA.iloc[:7]
    s = logistic.slopes("x2", rows)["estimate"].to_numpy()
    h = 1e-5
    up = logistic.predictions(rows.assign(x2=rows["x2"] + h))["estimate"].to_numpy()
    down = logistic.predictions(rows.assign(x2=rows["x2"] - h))["estimate"].to_numpy()
    np.testing.assert_allclose(s, (up - down) / (2 * h), rtol=1e-7, atol=1e-10)
    # and by hand: d mu / d x2 = mu (1 - mu) 2 x2 beta_x2^2
    mu = logistic.predictions(rows)["estimate"].to_numpy()
    by_hand = mu * (1 - mu) * 2 * rows["x2"].to_numpy() * logistic.params["I(x2 ** 2)"]
    np.testing.assert_allclose(s, by_hand, rtol=1e-8)


@pytest.mark.parametrize("cov_type", ["HC0", "HC3"])
def test_the_delta_method_with_a_sandwich_covariance(cov_type):
    """fit_mle(cov_type="HC0" | "HC3"): the quantities' SEs with the sandwich covariance, as R's
    delta method with V = sandwich::vcovHC(fit, type = cov_type) (its V checked first)."""
    ref = REF["logistic"][f"sandwich_{cov_type}"]
    m = bg.glm("y_bin ~ x1 * treat + I(x2**2)", DATA, family="binomial").fit_mle(
        cov_type=cov_type)
    np.testing.assert_allclose(m.cov_params().to_numpy(), np.array(ref["vcov"]), rtol=1e-6)
    _close(m.avg_predictions(), ref["avg_predictions"])
    _close(m.avg_comparisons("x1"), ref["avg_comparisons_x1"])
    _close(m.avg_slopes("x1"), ref["avg_slopes_x1"])


def test_predictions_on_a_datagrid_and_emmeans(logistic):
    A = REF["logistic"]
    grid = bg.datagrid(logistic, x1=[-1, 0, 1], treat=["a", "b"])
    assert list(grid.columns) == ["x1", "x2", "treat"]
    assert grid["x2"].iloc[0] == pytest.approx(DATA["x2"].mean(), rel=1e-15)
    p = logistic.predictions(grid)
    ref = A["predictions_grid"]
    mine = p.set_index(["x1", "treat"]).sort_index()
    theirs = pd.DataFrame({"x1": ref["x1"], "treat": ref["treat"],
                           "estimate": ref["estimate"], "std_error": ref["std_error"],
                           "lo": ref["conf_link_backtransformed"]["conf_low"],
                           "hi": ref["conf_link_backtransformed"]["conf_high"]}
                          ).set_index(["x1", "treat"]).sort_index()
    _close(mine, {"estimate": theirs["estimate"], "std_error": theirs["std_error"]})
    # the interval: formed on the link scale and mapped back (as emmeans and predict())
    np.testing.assert_allclose(mine["conf_low"], theirs["lo"], rtol=1e-8)
    np.testing.assert_allclose(mine["conf_high"], theirs["hi"], rtol=1e-8)
    # emmeans(fit, ~ treat, type = "response"): the grid at x1 = mean(x1), x2 = mean(x2),
    # whose I(x2^2) is the square of the mean (the script's check: "square_of_mean")
    em = A["emmeans"]
    g = bg.datagrid(logistic, treat=["a", "b", "c"])
    em = em["response"]
    assert list(g["treat"]) == em["treat"]
    _close(logistic.predictions(g), {"estimate": em["prob"], "std_error": em["SE"]})


def test_the_posterior_versions_are_their_draws(logistic):
    """Each posterior quantity is the mean / sd / HDI of the same quantity at every draw,
    computed here by hand from the coefficient draws."""
    model = bg.glm("y_bin ~ x1 * treat + I(x2**2)", DATA, family="binomial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(draws=500, chains=2, seed=3, progress=False)
    beta = fit.idata.posterior["beta"].to_numpy().reshape(-1, len(model.names))
    X = model.design.X
    lo = bg.glm("y_bin ~ x1 * treat + I(x2**2)", DATA, family="binomial").design.X.copy()
    # x1 + 1 for every row: the formula's columns at x1 + 1
    hi = model.formula_spec.design_matrix(DATA.assign(x1=DATA["x1"] + 1))[0]
    by_hand = (expit(hi @ beta.T) - expit(lo @ beta.T)).mean(axis=0)
    t = fit.avg_comparisons("x1")
    assert t["estimate"].iloc[0] == pytest.approx(by_hand.mean(), rel=1e-10)
    assert t["std_error"].iloc[0] == pytest.approx(by_hand.std(ddof=1), rel=1e-10)
    np.testing.assert_allclose(t.attrs["draws"][:, 0], by_hand, rtol=1e-10)
    assert t["conf_low"].iloc[0] < by_hand.mean() < t["conf_high"].iloc[0]
    p = fit.predictions()
    np.testing.assert_allclose(p["estimate"], expit(X @ beta.T).mean(axis=1), rtol=1e-10)
    side = fit.avg_comparisons("x1", side_by_side=True)
    assert side["mle"].iloc[0] == pytest.approx(REF["logistic"]["avg_comparisons_x1"][
        "difference"]["estimate"], rel=1e-8)
    assert list(side.columns[:6]) == ["term", "contrast", "mle", "mle_std_error",
                                      "mle_conf_low", "mle_conf_high"]


@pytest.mark.slow  # a second posterior fit (5 s): the slow tier
def test_at_large_n_the_posterior_and_the_delta_method_agree(claims):
    """claims (expected counts ~70 a row): the posterior sd of the average prediction and of
    the vehicle comparisons within 6% of the delta method's SE (4000 draws: the sd's Monte
    Carlo error ~1.5% at an ESS of 2000), the means within 0.15 SE."""
    model = bg.glm("claims ~ age + vehicle + region", bg.datasets.load("claims"),
                   family="poisson", exposure="holders")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(seed=2, progress=False)
    for post, mle in ((fit.avg_predictions(), claims.avg_predictions()),
                      (fit.avg_comparisons("vehicle"), claims.avg_comparisons("vehicle"))):
        np.testing.assert_allclose(post["std_error"], mle["std_error"], rtol=0.06)
        assert np.all(np.abs(post["estimate"] - mle["estimate"]) < 0.15 * mle["std_error"])


def test_bad_arguments_are_named(logistic):
    with pytest.raises(ValueError, match="type must be one of"):
        logistic.avg_predictions(type="probability")
    with pytest.raises(ValueError, match="comparison must be one of"):
        logistic.avg_comparisons("x1", comparison="odds")
    with pytest.raises(ValueError, match="'nope' is not a column"):
        logistic.avg_comparisons("nope")
    with pytest.raises(ValueError, match="'treat' has no level 'z'"):
        logistic.avg_comparisons({"treat": ["a", "z"]})
    with pytest.raises(ValueError, match="one of sd, 2sd, iqr, minmax"):
        logistic.avg_comparisons({"x1": "range"})
    with pytest.raises(ValueError, match="slopes need numeric columns; 'treat' is not numeric"):
        logistic.avg_slopes("treat")
    with pytest.raises(ValueError, match="by: 'grp' not among"):
        logistic.avg_predictions(by="grp")  # not a model column: pass data=
    with pytest.raises(ValueError, match="wts=True weights by the fitted rows"):
        logistic.avg_predictions(DATA, wts=True)
    with pytest.raises(ValueError, match="datagrid: 'zz' is not a column"):
        bg.datagrid(logistic, zz=[1])
