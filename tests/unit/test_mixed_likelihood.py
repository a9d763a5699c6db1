"""Group-level terms with the families fitted on their exact likelihood (issue 12's mixed-model
part): the Laplace fit's pieces and rules, its results' contract, and the posterior's results
(summary, predictions with new levels, LOO, files, the family's predictive checks).

The Laplace fit itself is checked against glmmTMB and ordinal::clmm in
tests/reference/test_glmm_families.py, the posterior by simulation-based calibration in
tests/slow/test_sbc_mixed_families.py. Small simulated data (30 groups x 8 rows), fitted once
per module; deterministic (fixed seeds).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesglm as bg

N_GROUPS, PER = 30, 8


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = N_GROUPS * PER
    g = np.repeat([f"s{k:02d}" for k in range(N_GROUPS)], PER)
    x, z = rng.normal(size=n), rng.normal(size=n)
    b = rng.normal(0.0, 0.5, N_GROUPS)[np.repeat(np.arange(N_GROUPS), PER)]
    mu = expit(0.3 + 0.5 * x + b)
    y_beta = rng.beta(mu * 8.0, (1.0 - mu) * 8.0)
    latent = 0.8 * x + b + rng.logistic(size=n)
    y_ord = 1 + np.searchsorted([-1.0, 0.3, 1.5], latent)
    counts = rng.poisson(np.exp(0.7 + 0.3 * x + b))
    y_zip = np.where(rng.random(n) < expit(-1.0 + 0.8 * z), 0, counts)
    return pd.DataFrame({"g": g, "x": x, "z": z, "y_beta": y_beta, "y_ord": y_ord,
                         "y_zip": y_zip, "y_normal": 1.0 + 0.3 * z + rng.normal(size=n)})


@pytest.fixture(scope="module")
def df():
    return _frame(5)


@pytest.fixture(scope="module")
def beta_mle(df):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit: no warning at all
        return bg.glm("y_beta ~ x + (1 | g)", df, family="beta").fit_mle()


@pytest.fixture(scope="module")
def beta_fit(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bg.glm("y_beta ~ x + (1 | g)", df, family="beta").fit(
            progress=False, draws=300, chains=2, seed=4)


# -- the Laplace fit's pieces ---------------------------------------------------------------
def test_the_rows_observed_information_is_the_second_derivative(jax_float64):
    """_exact_rows' diagonal (one forward derivative of the gradient: the rows are
    independent) against central second differences of the zero-inflated density, whose
    zeros make some rows' log density convex in eta (the weights are clipped there, the
    determinant's information is not)."""
    import jax.numpy as jnp

    from bayesglm.glmm import _exact_rows

    fam = bg.families.ZeroInflatedPoisson()
    y = np.array([0.0, 0.0, 1.0, 4.0, 0.0])
    eta = np.array([-1.0, 1.5, 0.2, 1.0, 2.5])
    u = np.array([0.3])  # logit zi
    ones = np.ones(5)
    dev, w, score, w_obs = (np.asarray(a) for a in _exact_rows(fam, y, eta, u, ones, ones,
                                                                None))

    def ll(e):
        return np.asarray(fam.loglike(jnp.asarray(y), jnp.asarray(e), {"zi": expit(0.3)}))

    h = 1e-4
    num2 = (ll(eta + h) - 2 * ll(eta) + ll(eta - h)) / h**2
    num1 = (ll(eta + h) - ll(eta - h)) / (2 * h)
    np.testing.assert_allclose(-w_obs, num2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(score, num1, rtol=1e-7, atol=1e-9)
    assert dev == pytest.approx(-2 * ll(eta).sum(), rel=1e-13)
    assert np.any(w_obs < 0)  # a zero far out: convex there
    np.testing.assert_array_equal(w, np.maximum(w_obs, 0.0))


def test_an_ordinal_group_sd_is_not_left_on_the_bound():
    """The first stage's L-BFGS-B stepped from theta = 1 onto the bound 0, where the Laplace
    deviance (even in theta) is stationary, and stopped there: sd 0 and a singular-fit warning
    on data simulated with sd 0.5. The probes off the bound restart it (glmm.BOUND_PROBES)."""
    data = _frame(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mle = bg.glm("y_ord ~ x + (1 | g)", data, family=bg.families.Cumulative()).fit_mle()
    sd = mle.varcorr().loc["sd_g__Intercept", "estimate"]
    assert 0.3 < sd < 0.9 and mle.converged
    # predict() of a mixed ordinal fit: each category's probability with the row's mode,
    # P(Y <= k) = expit(cutpoint_k - x beta - b_g), written out here
    from scipy.special import expit

    rows = data.iloc[:4]
    pr = mle.predict(rows)
    kappa = mle.params[[c for c in mle.params.index if c.startswith("cutpoints")]].to_numpy()
    modes = mle.ranef()["g"]["Intercept"]
    eta = mle.params["x"] * rows["x"].to_numpy() + modes.loc[rows["g"]].to_numpy()
    F = np.column_stack([np.zeros(4), expit(kappa[None, :] - eta[:, None]), np.ones(4)])
    levels = [c for c in pr.columns if not c.endswith("_se")]
    np.testing.assert_allclose(pr[levels].to_numpy(), np.diff(F, axis=1), rtol=1e-9)
    assert np.all(pr[[f"{lv}_se" for lv in levels]].to_numpy() > 0)


def test_a_linear_mixed_model_sd_is_not_left_on_the_bound(df):
    """The same stop at 0 in lmer's profiled deviance (bayesglm.lmm): sd 0 and a singular-fit
    warning with -2 log L 657.010, where sd 0.2594 gives 653.403. Checked against the exact
    normal likelihood y ~ N(X beta, sigma^2 I + sd^2 Z Z') maximised by Nelder-Mead."""
    from scipy import optimize
    from scipy.stats import multivariate_normal

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = bg.glm("y_normal ~ z + (1 | g)", df, family="gaussian")
        lmm = model.fit_mle()
    y, X = model.design.y, model.design.X
    g = model.groups[0][1].index

    def m2ll(v):  # each group's PER rows: N(X beta, sigma^2 I + sd^2 11'), in closed form
        s2, t2 = np.exp(2 * v[1]), v[0] ** 2
        r = (y - X @ v[2:]).reshape(N_GROUPS, PER)
        assert np.all(g.reshape(N_GROUPS, PER) == g.reshape(N_GROUPS, PER)[:, :1])
        big = s2 + PER * t2
        quad = (np.sum(r * r) - t2 / big * np.sum(r.sum(axis=1) ** 2)) / s2
        logdet = N_GROUPS * ((PER - 1) * np.log(s2) + np.log(big))
        return len(y) * np.log(2 * np.pi) + logdet + quad

    cov = np.exp(2 * -0.1) * np.eye(PER) + 0.3**2
    first = multivariate_normal(X[:PER] @ [1.0, 0.2], cov).logpdf(y[:PER])  # the closed form
    one = np.r_[0.3, -0.1, 1.0, 0.2]
    r = y - X @ one[2:]
    rest = sum(multivariate_normal(np.zeros(PER), cov).logpdf(r[k * PER:(k + 1) * PER])
               for k in range(1, N_GROUPS))
    assert m2ll(one) == pytest.approx(-2 * (first + rest), rel=1e-12)

    res = optimize.minimize(m2ll, np.r_[0.5, 0.0, 0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 5000})
    sd = lmm.varcorr().loc["sd_g__Intercept", "estimate"]
    assert sd == pytest.approx(abs(res.x[0]), rel=1e-4)
    assert -2 * lmm.llf == pytest.approx(res.fun, abs=1e-6)
    assert -2 * lmm.llf < m2ll(np.r_[0.0, math.log(lmm.sigma), lmm.params]) - 3.0


def test_off_the_bound_keeps_a_singular_fit():
    from bayesglm.lmm import off_the_bound

    def rising(t):  # lowest at 0: a singular fit
        return 10.0 + t[0] ** 2 + (t[1] - 1.0) ** 2

    assert off_the_bound(rising, np.array([0.0, 1.0]), 10.0, [(0.0, None)]) is None

    def dip(t):  # stationary at 0 (even), lower further out
        return 10.0 - t[0] ** 2 + 0.5 * t[0] ** 4

    out = off_the_bound(dip, np.array([0.0]), 10.0, [(0.0, None)])
    assert out is not None and out[0] == pytest.approx(0.8)


def test_an_extra_parameter_at_its_limit_does_not_stall_the_start(df):
    """Normal data under the Student-t family: the fit without group terms sends nu to
    infinity (3.6e8 on these data), where the log density's lgamma differences cancel to 1e-4
    and the first stage's numerical gradient stalled at its start (sd 1.0 exactly, no
    warning). The start now takes the moment estimate of a parameter that ran off."""
    from bayesglm.mixed import _likelihood_start

    model = bg.glm("y_normal ~ z + (1 | g)", df, family="student_t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, u0 = _likelihood_start(model)
        mle = model.fit_mle()
        lmm = bg.glm("y_normal ~ z + (1 | g)", df, family="gaussian").fit_mle()
    assert np.all(np.abs(u0) < 10)
    assert mle.nu > 1e3
    # nu -> infinity: the normal linear mixed model's ML fit (lmer's, REML = FALSE)
    sd = mle.varcorr().loc["sd_g__Intercept", "estimate"]
    assert sd == pytest.approx(lmm.varcorr().loc["sd_g__Intercept", "estimate"], rel=0.02)
    assert sd != 1.0
    assert mle.sigma == pytest.approx(lmm.sigma, rel=0.01)
    np.testing.assert_allclose(mle.params[["Intercept", "z"]], lmm.params, atol=0.01)


def test_a_fit_that_did_not_converge_warns():
    from types import SimpleNamespace

    from bayesglm.mixed import _warn_fit

    model = SimpleNamespace(family=bg.families.Beta())
    fit = SimpleNamespace(converged=False, disp=np.array([1.0]))
    with pytest.warns(bg.ConvergenceWarning, match="did not converge"):
        _warn_fit(model, fit)
    far = SimpleNamespace(converged=False, disp=np.array([20.0]))  # phi = e^20 > FAR
    with pytest.warns(bg.ConvergenceWarning) as caught:
        _warn_fit(model, far)
    assert len(caught) == 1 and "did not converge" not in str(caught[0].message)


# -- the classical fit's results ------------------------------------------------------------
def test_mle_results_carry_the_extra_parameters(beta_mle):
    m = beta_mle
    assert list(m.params.index) == ["Intercept", "x", "phi"]
    assert m.phi == m.params["phi"] and m.phi_se == m.bse["phi"] > 0
    assert math.isnan(m.zvalues["phi"]) and math.isnan(m.pvalues["phi"])
    assert m.pvalues["x"] < 1e-6
    ci = m.conf_int()
    # phi's interval from log phi's: inside (0, inf), not symmetric about the estimate
    lo, hi = ci.loc["phi"]
    assert 0 < lo < m.phi < hi
    assert hi - m.phi > m.phi - lo
    assert m.k_params == 4  # 2 fixed effects, phi, one sd
    assert m.aic == pytest.approx(-2 * m.llf + 8)
    assert m.cov_params().shape == (3, 3)
    assert list(m.varcorr().index) == ["sd_g__Intercept"]  # no dispersion row: phi is a param
    assert math.isnan(m.scale)
    text = str(m.summary())
    assert "phi" in text and "Laplace" in text


def test_zero_model_coefficients_are_params(df):
    fam = bg.families.ZeroInflatedPoisson(zi="~ z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = bg.glm("y_zip ~ x + (1 | g)", df, family=fam).fit_mle()
    assert list(m.params.index) == ["Intercept", "x", "zi_Intercept", "zi_z"]
    assert m.params["zi_z"] > 0 and np.isfinite(m.zvalues["zi_z"])  # unbounded: a Wald test
    assert m.ranef()["g"].shape == (N_GROUPS, 1)


# -- the posterior's results ----------------------------------------------------------------
def test_summary_has_effects_sds_and_extra_parameters(beta_fit):
    s = beta_fit.summary()
    assert list(s.index) == ["Intercept", "x", "sd_g__Intercept", "phi"]
    m = beta_fit.mle
    assert s.loc["phi", "mle"] == m.phi and s.loc["phi", "mle_se"] == m.bse["phi"]
    assert s.loc["sd_g__Intercept", "mle"] == m.varcorr().loc["sd_g__Intercept", "estimate"]
    # the posterior near the Laplace fit (240 rows): within 3 posterior sd's
    for name in ("Intercept", "x", "phi"):
        assert abs(s.loc[name, "mean"] - s.loc[name, "mle"]) < 3 * s.loc[name, "sd"]
    assert "extra" not in beta_fit.idata.posterior and "phi" in beta_fit.idata.posterior


def test_predictions_include_the_group_effects(beta_fit, df):
    inc = beta_fit.predict(df.iloc[:PER])  # one group's rows
    exc = beta_fit.predict(df.iloc[:PER], re="exclude")
    assert np.all((inc["mean"] > 0) & (inc["mean"] < 1))
    b0 = beta_fit.ranef()["g"].loc["s00", "Intercept"]
    # the group's effect moves every row's mean the same way
    assert np.all(np.sign(inc["mean"].to_numpy() - exc["mean"].to_numpy()) == np.sign(b0))
    new = beta_fit.predict(pd.DataFrame({"g": ["unseen"], "x": [0.0]}))
    at_zero = beta_fit.predict(pd.DataFrame({"g": ["unseen"], "x": [0.0]}), re="exclude")
    assert new["sd"].iloc[0] > 1.5 * at_zero["sd"].iloc[0]  # a new level's effect drawn
    y = beta_fit.predict(df.iloc[:3], kind="response")
    assert np.all((y["mean"] > 0) & (y["mean"] < 1))


def test_posterior_predictive_and_loo_use_the_effects(beta_fit, df):
    pp = beta_fit.idata.posterior_predictive["y"]
    assert pp.shape == (2, 300, len(df))
    # the replicated group means follow the observed ones (the effects are in them)
    rep = pp.values.mean(axis=(0, 1))
    obs_g = df.groupby("g")["y_beta"].mean().to_numpy()
    rep_g = pd.Series(rep, index=df["g"]).groupby(level=0).mean().to_numpy()
    assert np.corrcoef(obs_g, rep_g)[0, 1] > 0.9
    loo = beta_fit.loo()
    assert np.isfinite(loo.elpd_loo) and loo.elpd_loo > 0  # densities above 1 on (0, 1)


def test_a_saved_fit_loads_as_the_same_kind(beta_fit, tmp_path):
    from bayesglm.mixed_results import MixedLikelihoodBayesResults

    path = tmp_path / "fit.nc"
    beta_fit.save(path)
    back = bg.load(path)
    assert isinstance(back, MixedLikelihoodBayesResults)
    pd.testing.assert_frame_equal(back.summary(), beta_fit.summary())
    pd.testing.assert_frame_equal(back.predict(), beta_fit.predict())


@pytest.mark.slow  # 11 s; its path also runs in notebook 08 and the mixed-family SBC (slow)
def test_ordinal_mixed_posterior_predicts_category_probabilities(df):
    model = bg.glm("y_ord ~ x + (1 | g)", df, family=bg.families.Cumulative())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(progress=False, draws=200, chains=2, seed=1)
    s = fit.summary()
    assert list(s.index) == ["x", "sd_g__Intercept", "cutpoints[1]", "cutpoints[2]",
                             "cutpoints[3]"]
    probs = fit.predict(df.iloc[:4])
    np.testing.assert_allclose(probs[["1", "2", "3", "4"]].sum(axis=1), 1.0, atol=1e-12)
    import matplotlib

    matplotlib.use("Agg")
    ax = bg.plot_ppc(fit)
    assert ax is not None
