"""The Bayesian fit: exact posteriors, large-n agreement with the MLE, the BayesResults API,
reproducibility, the warm start, separation, sampling warnings and argument checks.

Statistical checks are Monte Carlo standard error z-tests (blackjax style): |estimate - truth| /
MCSE < Z, with the MCSE from ArviZ. Seeds are fixed, so each test is deterministic; the stated
false-failure rate is the probability over seeds that a correct sampler fails the test. Shared
fits live in ``conftest.py`` (session-scoped: JAX compilation dominates the run time).
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import textwrap
import threading
import warnings

import arviz as az
import jax
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

import bayesglm as bg
from bayesglm import posterior as posterior_module

from conftest import CHAINS, DRAWS, fit_recording

#: two-sided z threshold of the MCSE tests: P(|N(0,1)| > 3.5) = 4.65e-4 per check
Z = 3.5
P_PER_CHECK = 2 * stats.norm.sf(Z)


def _post(fit, var, coef=None):
    """All draws of one posterior variable (flattened over chains)."""
    da = fit.idata.posterior[var]
    if coef is not None:
        da = da.sel(coef=coef)
    return da.to_numpy().reshape(-1)


def _mcse(fit, var, method, coef=None):
    ds = az.mcse(fit.idata, var_names=[var], method=method)[var]
    return float(ds.sel(coef=coef) if coef is not None else ds)


def _sampling_warnings(caught):
    return [w for w in caught if issubclass(w.category, bg.SamplingWarning)]


# ==========================================================================================
# 1. Exact posterior: Gaussian linear model with flat priors
# ==========================================================================================
#
# What "flat" puts on sigma: ``priors.resolve_priors(.., "flat")`` gives ``Flat(support=
# "positive")``, which ``model.build_model`` turns into ``ImproperUniform(positive)`` on the
# sigma site: density 1 in sigma itself (NumPyro adds the log-Jacobian of sigma = exp(z) when it
# samples z = log sigma). So p(beta, sigma) ∝ 1 (uniform in sigma, NOT Jeffreys' 1/sigma).
#
# Derivation. With S(beta) = ||y - X beta||^2 = RSS + (beta - b)' X'X (beta - b), b = OLS:
#   p(beta, sigma | y) ∝ sigma^-n exp(-S(beta) / (2 sigma^2)).
# * beta: integrating sigma out (u = S / (2 sigma^2)) gives
#     p(beta | y) ∝ S(beta)^(-(n-1)/2) ∝ [1 + (beta-b)' X'X (beta-b) / RSS]^(-(n-1)/2).
#   A p-variate t with nu dof and scale matrix Sigma has density
#   ∝ [1 + (beta-b)' Sigma^-1 (beta-b) / nu]^(-(nu+p)/2); matching exponents, nu + p = n - 1:
#     nu = n - p - 1,  Sigma = RSS / nu * (X'X)^-1,  Cov(beta | y) = nu / (nu - 2) * Sigma.
#   (With p(sigma) ∝ 1/sigma the exponent is -n/2: nu = n - p, Sigma = RSS/(n-p) (X'X)^-1.)
# * sigma: integrating beta out (a Gaussian integral, ∝ sigma^p) gives
#     p(sigma | y) ∝ sigma^-(n-p) exp(-RSS / (2 sigma^2)),
#   i.e. sigma^2 ~ InvGamma((n-p-1)/2, RSS/2); E[sigma | y] by 1-D quadrature below.
#   (With 1/sigma: sigma^-(n-p+1), InvGamma((n-p)/2, RSS/2).)
# With n = 20, p = 3 the two priors on sigma give posterior means of sigma ~3% apart, about
# 10 MCSE: the test tells them apart (checked in test_exact_posterior_has_power).


def _exact_gaussian_flat(X, y, sigma_prior_power=0):
    """Exact posterior of the Gaussian linear model under p(beta, sigma) ∝ sigma^-k, k =
    ``sigma_prior_power`` (0: uniform on sigma, bayesglm's "flat"; 1: Jeffreys-like 1/sigma)."""
    n, p = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ y
    rss = float(np.sum((y - X @ b) ** 2))
    nu = n - p - 1 + sigma_prior_power
    scale = rss / nu * xtx_inv
    beta_sd = np.sqrt(np.diag(scale) * nu / (nu - 2))
    expo = n - p + sigma_prior_power  # p(sigma | y) ∝ sigma^-expo exp(-rss / (2 sigma^2))
    s_hat = math.sqrt(rss / expo)  # its mode: scale the log density there to avoid underflow

    def logdens(s):
        return -expo * math.log(s) - rss / (2 * s * s) - (-expo * math.log(s_hat) - expo / 2)

    def moment(k):
        return integrate.quad(lambda s: s**k * math.exp(logdens(s)), 0, np.inf,
                              epsabs=0, epsrel=1e-12, limit=200)[0]

    z = moment(0)
    sigma_mean = moment(1) / z
    sigma_sd = math.sqrt(moment(2) / z - sigma_mean**2)
    # closed form, to check the quadrature: sigma^2 ~ InvGamma(a, rss/2)
    a = (expo - 1) / 2
    closed = math.sqrt(rss / 2) * math.exp(special.gammaln(a - 0.5) - special.gammaln(a))
    assert sigma_mean == pytest.approx(closed, rel=1e-9)
    return b, beta_sd, sigma_mean, sigma_sd


def test_flat_prior_is_uniform_on_sigma(gaussian_flat_model):
    # the derivation above assumes this; if "flat" changes, the exact answer must change too
    table = gaussian_flat_model.prior_summary().set_index("parameter")
    assert table.loc["sigma", "prior"] == "Flat(0, inf)"
    assert (table.loc[["const", "x1", "x2"], "prior"] == "Flat()").all()


def test_exact_posterior_gaussian_flat(gaussian_flat_fit, gaussian_data):
    # 8 MCSE z-tests at Z = 3.5 (3 means, 3 sds of beta; mean and sd of sigma):
    # family-wise false-failure rate <= 8 * 4.65e-4 = 0.37%. The 5% relative bound on the sds is
    # looser still (ESS ~ 4000: relative MC error of an sd ~ 1.1%, so 5% is > 4 sigma).
    X, y = gaussian_data
    b, beta_sd, sigma_mean, sigma_sd = _exact_gaussian_flat(X, y)
    fit = gaussian_flat_fit
    for j, name in enumerate(fit.names):
        draws = _post(fit, "beta", name)
        z_mean = abs(draws.mean() - b[j]) / _mcse(fit, "beta", "mean", name)
        assert z_mean < Z, (name, draws.mean(), b[j], z_mean)
        z_sd = abs(draws.std(ddof=1) - beta_sd[j]) / _mcse(fit, "beta", "sd", name)
        assert z_sd < Z, (name, draws.std(ddof=1), beta_sd[j], z_sd)
        assert draws.std(ddof=1) == pytest.approx(beta_sd[j], rel=0.05)
    s = _post(fit, "sigma")
    z_sigma = abs(s.mean() - sigma_mean) / _mcse(fit, "sigma", "mean")
    assert z_sigma < Z, (s.mean(), sigma_mean, z_sigma)
    z_sigma_sd = abs(s.std(ddof=1) - sigma_sd) / _mcse(fit, "sigma", "sd")
    assert z_sigma_sd < Z, (s.std(ddof=1), sigma_sd, z_sigma_sd)


def test_exact_posterior_has_power(gaussian_flat_fit, gaussian_data):
    # The same z-test rejects the posterior of the *other* flat prior (1/sigma): the check above
    # can tell the priors on sigma apart. Deterministic given the seed (the gap is ~10 MCSE).
    X, y = gaussian_data
    _, _, alt_mean, _ = _exact_gaussian_flat(X, y, sigma_prior_power=1)
    s = _post(gaussian_flat_fit, "sigma")
    assert abs(s.mean() - alt_mean) / _mcse(gaussian_flat_fit, "sigma", "mean") > 2 * Z


# ==========================================================================================
# 2. Large n, weak priors: posterior ~ MLE
# ==========================================================================================
def test_large_n_posterior_matches_mle(logistic_fit):
    # Bernstein-von Mises: posterior mean = MLE + O(1/n) (the likelihood's skewness and the
    # prior's pull; with n = 5000 and unit-scale predictors both are ~1% of the standard
    # error) and posterior sd = bse (1 + O(1/sqrt(n))). The Monte Carlo error of the mean is
    # sd / sqrt(ESS) ~ 0.016 bse (ESS ~ 4000), so the bound 0.1 bse is > 5 MCSE beyond the
    # bias: false-failure rate < 1e-6 per coefficient. For the sd: relative MC error ~
    # 1 / sqrt(2 ESS) ~ 1.1%, the bound 5% is > 4 sigma: < 1e-4 per coefficient; over the 6
    # checks < 1e-3 in all.
    fit = logistic_fit
    mle = fit.mle
    assert fit.start == "mle"
    for name in fit.names:
        draws = _post(fit, "beta", name)
        se = mle.bse[name]
        assert abs(draws.mean() - mle.params[name]) < 0.1 * se, (name, draws.mean(), mle.params[name], se)
        assert draws.std(ddof=1) == pytest.approx(se, rel=0.05)


# ==========================================================================================
# 3. API
# ==========================================================================================
def test_fit_returns_bayes_results(poisson_fit, poisson_model):
    assert isinstance(poisson_fit, bg.BayesResults)
    assert poisson_fit.names == ["const", "x1", "x2"]
    assert isinstance(poisson_fit.mle, bg.MLEResults)
    assert poisson_fit.start == "mle"
    assert "chains=4" in repr(poisson_fit) and "draws=1000" in repr(poisson_fit)


def test_idata_groups(poisson_fit, poisson_data):
    idata = poisson_fit.idata
    # ">=": other tests may add posterior_predictive to this shared fit
    assert set(idata.groups()) >= {"posterior", "sample_stats", "log_likelihood",
                                   "observed_data", "constant_data"}
    assert set(idata.sample_stats.data_vars) >= {"diverging", "tree_depth", "step_size",
                                                 "energy", "n_steps"}
    assert idata.sample_stats["diverging"].dtype == bool
    beta = idata.posterior["beta"]
    assert beta.dims == ("chain", "draw", "coef")
    assert list(beta.coords["coef"].values) == ["const", "x1", "x2"]
    assert beta.shape == (CHAINS, DRAWS, 3)
    assert idata.log_likelihood["y"].shape == (CHAINS, DRAWS, len(poisson_data))
    np.testing.assert_array_equal(idata.observed_data["y"].to_numpy(), poisson_data["y"])
    np.testing.assert_array_equal(idata.constant_data["X"].to_numpy(),
                                  poisson_data[["const", "x1", "x2"]].to_numpy())
    np.testing.assert_array_equal(idata.constant_data["exposure"].to_numpy(),
                                  poisson_data["exposure"])


def test_summary_columns_and_rows(gaussian_flat_fit, poisson_fit):
    cols = ["mle", "mle_se", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "ess_bulk",
            "ess_tail", "r_hat"]
    s = gaussian_flat_fit.summary()
    assert list(s.columns) == cols
    assert list(s.index) == ["const", "x1", "x2", "sigma"]  # names + dispersion
    mle = gaussian_flat_fit.mle
    np.testing.assert_allclose(s.loc[["const", "x1", "x2"], "mle"], mle.params, rtol=1e-12)
    np.testing.assert_allclose(s.loc[["const", "x1", "x2"], "mle_se"], mle.bse, rtol=1e-12)
    assert s.loc["sigma", "mle"] == pytest.approx(math.sqrt(mle.scale))
    assert (s["hdi_3%"] < s["mean"]).all() and (s["mean"] < s["hdi_97%"]).all()
    # Poisson: no dispersion row
    assert list(poisson_fit.summary().index) == ["const", "x1", "x2"]


def test_summary_hdi_prob_renames_columns(poisson_fit):
    s94 = poisson_fit.summary()
    s90 = poisson_fit.summary(hdi_prob=0.9)
    assert list(s90.columns[4:6]) == ["hdi_5%", "hdi_95%"]
    assert "hdi_3%" not in s90.columns
    # a 90% HDI lies inside the 94% one
    assert (s90["hdi_5%"] >= s94["hdi_3%"]).all() and (s90["hdi_95%"] <= s94["hdi_97%"]).all()
    with pytest.raises(ValueError, match="hdi_prob"):
        poisson_fit.summary(hdi_prob=1.5)


def test_diagnostics(poisson_fit):
    d = poisson_fit.diagnostics()
    assert isinstance(d, pd.DataFrame)
    assert list(d.index) == list(range(CHAINS))
    for col in ("divergences", "max_tree_depth_hits", "mean_tree_depth", "step_size",
                "gradient_evals", "mean_accept", "bfmi"):
        assert col in d.columns, col
    ss = poisson_fit.idata.sample_stats
    assert d["divergences"].sum() == int(ss["diverging"].sum())
    assert d["gradient_evals"].sum() == int(ss["n_steps"].sum())
    assert (d["step_size"] > 0).all() and (d["bfmi"] > 0).all()


@pytest.fixture(scope="module")
def new_rows(poisson_data):
    """Five new rows, shuffled index, columns in another order plus an extra one."""
    rng = np.random.default_rng(99)
    new = pd.DataFrame({"x2": rng.normal(size=5), "extra": 1.0, "x1": rng.normal(size=5),
                        "const": 1.0}, index=[10, 3, 7, 1, 0])
    exposure = np.array([0.5, 1.0, 1.5, 2.0, 1.0])
    return new, exposure


def test_predict_mean_and_linear(poisson_fit, new_rows):
    new, exposure = new_rows
    beta = poisson_fit.idata.posterior["beta"].to_numpy().reshape(-1, 3)
    eta = beta @ new[["const", "x1", "x2"]].to_numpy().T + np.log(exposure)
    for kind, draws in (("linear", eta), ("mean", np.exp(eta))):
        pred = poisson_fit.predict(new, kind=kind, exposure=exposure)
        assert list(pred.columns) == ["mean", "sd", "hdi_3%", "hdi_97%"]
        assert list(pred.index) == [10, 3, 7, 1, 0]  # the rows' own order and labels
        np.testing.assert_allclose(pred["mean"], draws.mean(0), rtol=1e-12)
        np.testing.assert_allclose(pred["sd"], draws.std(0, ddof=1), rtol=1e-10)
        assert (pred["hdi_3%"] <= pred["mean"]).all() and (pred["mean"] <= pred["hdi_97%"]).all()
    # row order follows the input
    rev = poisson_fit.predict(new.iloc[::-1], kind="mean", exposure=exposure[::-1])
    fwd = poisson_fit.predict(new, kind="mean", exposure=exposure)
    np.testing.assert_allclose(rev["mean"].to_numpy(), fwd["mean"].to_numpy()[::-1], rtol=1e-12)
    # hdi_prob renames the columns here too
    assert list(poisson_fit.predict(new, exposure=exposure, hdi_prob=0.5).columns[2:]) == [
        "hdi_25%", "hdi_75%"]


def test_predict_response(gaussian_flat_fit, gaussian_data):
    # Gaussian (cheap to sample; a Poisson sampler costs a compile per shape): predictive draws
    # y ~ N(x'beta, sigma) per posterior draw. Their mean over 4000 draws lies within 5 MC sds
    # (sd / sqrt(4000)) of the posterior mean of mu: false-failure rate < 6e-7 per row, < 3e-6
    # over the 4 rows.
    rng = np.random.default_rng(5)
    new = np.column_stack([np.ones(4), rng.normal(size=4), rng.normal(size=4)])
    resp = gaussian_flat_fit.predict(new, kind="response", seed=0)
    mean = gaussian_flat_fit.predict(new, kind="mean")
    assert list(resp.columns) == ["mean", "sd", "hdi_3%", "hdi_97%"]
    assert resp.shape == (4, 4) and list(resp.index) == [0, 1, 2, 3]
    n_draws = CHAINS * DRAWS
    assert (np.abs(resp["mean"] - mean["mean"]) < 5 * resp["sd"] / math.sqrt(n_draws)).all()
    # predictive spread = sqrt(var(mu) + E sigma^2) > sd of mu
    sigma = _post(gaussian_flat_fit, "sigma")
    expected_sd = np.sqrt(mean["sd"] ** 2 + np.mean(sigma**2))
    np.testing.assert_allclose(resp["sd"], expected_sd, rtol=0.1)
    again = gaussian_flat_fit.predict(new, kind="response", seed=0)
    pd.testing.assert_frame_equal(resp, again)  # same seed, same draws
    other = gaussian_flat_fit.predict(new, kind="response", seed=1)
    assert not np.array_equal(resp["mean"], other["mean"])


def test_predict_requires_exposure_and_valid_kind(poisson_fit, new_rows):
    new, exposure = new_rows
    with pytest.raises(ValueError, match="exposure"):
        poisson_fit.predict(new)
    with pytest.raises(ValueError, match="kind"):
        poisson_fit.predict(new, kind="bogus", exposure=exposure)


def test_predict_fitted_rows(poisson_fit, poisson_data):
    # no data: the fitted rows, exposure included
    pred = poisson_fit.predict()
    assert pred.shape == (len(poisson_data), 4)
    mle_mu = poisson_fit.mle.mu
    np.testing.assert_allclose(pred["mean"], mle_mu, rtol=0.1)


def test_posterior_predictive(gaussian_flat_fit, gaussian_data):
    X, y = gaussian_data
    fit = copy.copy(gaussian_flat_fit)  # keep the shared fixture's idata unchanged
    fit.idata = gaussian_flat_fit.idata.copy()
    pp = fit.posterior_predictive(seed=0)
    assert "posterior_predictive" in fit.idata.groups()
    # the fit made the group with its own seed (0): the same draws
    np.testing.assert_array_equal(pp["y"], gaussian_flat_fit.idata.posterior_predictive["y"])
    assert pp["y"].shape == (CHAINS, DRAWS, len(y))
    assert pp["y"].dims == ("chain", "draw", "obs")
    np.testing.assert_array_equal(pp["y"].coords["obs"], fit.idata.observed_data["y"].coords["obs"])
    # each row's replicates centre on that row's fitted mean: the mean over 4000 draws is
    # within 5 MC sds (sd / sqrt(4000)) of the posterior mean of mu (false-failure < 1e-5 over
    # the 20 rows)
    y_rep = pp["y"].to_numpy().reshape(-1, len(y))
    mu = fit.predict(kind="mean")["mean"].to_numpy()
    assert (np.abs(y_rep.mean(0) - mu) < 5 * y_rep.std(0) / math.sqrt(y_rep.shape[0])).all()


def test_loo_waic_compare(poisson_fit, poisson_noise_fit, poisson_data):
    n = len(poisson_data)
    loo = poisson_fit.loo()
    waic = poisson_fit.waic()
    assert loo.n_data_points == n and np.isfinite(loo.elpd_loo)
    assert np.isfinite(waic.elpd_waic)
    # with n = 200 and 3 coefficients LOO and WAIC agree closely, p_loo ~ 3
    assert abs(loo.elpd_loo - waic.elpd_waic) < 1.0
    assert 1.5 < loo.p_loo < 6
    assert (loo.pareto_k < 0.7).all()
    table = bg.compare({"true": poisson_fit, "noise": poisson_noise_fit})
    assert set(table.index) == {"true", "noise"}
    # x2 has coefficient -0.4 (MLE z ~ 8): the true model wins clearly (measured: elpd_diff 33,
    # dse 8.9; deterministic given the seeds)
    assert table.index[0] == "true"
    assert table.loc["noise", "elpd_diff"] > 2 * table.loc["noise", "dse"]


def test_save_load_in_fresh_process(poisson_fit, new_rows, tmp_path):
    new, exposure = new_rows
    path = tmp_path / "fit.nc"
    poisson_fit.save(path)
    new.to_csv(tmp_path / "new.csv")
    script = tmp_path / "load_and_predict.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        import numpy as np, pandas as pd
        import bayesglm as bg
        fit = bg.load({str(path)!r})
        new = pd.read_csv({str(tmp_path / "new.csv")!r}, index_col=0)
        exposure = np.array({exposure.tolist()!r})
        out = {{"repr": repr(fit)}}
        out["mean"] = fit.predict(new, kind="mean", exposure=exposure).to_dict(orient="list")
        out["index"] = fit.predict(new, kind="mean", exposure=exposure).index.tolist()
        try:
            fit.predict(new)
        except ValueError as e:
            out["no_exposure"] = str(e)
        s = fit.summary()
        out["summary_mle"] = s["mle"].tolist()
        out["summary_mean"] = s["mean"].tolist()
        json.dump(out, sys.stdout)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    here = poisson_fit.predict(new, kind="mean", exposure=exposure)
    assert out["index"] == [10, 3, 7, 1, 0]
    for col in here.columns:
        np.testing.assert_allclose(out["mean"][col], here[col].to_numpy(), rtol=1e-13, atol=0)
    assert "exposure" in out["no_exposure"]
    s = poisson_fit.summary()
    np.testing.assert_allclose(out["summary_mle"], s["mle"], rtol=1e-13)
    np.testing.assert_allclose(out["summary_mean"], s["mean"], rtol=1e-13)
    assert "Poisson(Log)" in out["repr"]


@pytest.fixture(scope="module")
def gaussian_auto_model(gaussian_data):
    X, y = gaussian_data
    return bg.GLM(y, X, family="gaussian")


def test_sample_prior(gaussian_auto_model, gaussian_flat_model, gaussian_data):
    # (Gaussian: a Poisson prior predictive would cost a sampler compile)
    n = len(gaussian_data[1])
    pri = gaussian_auto_model.sample_prior(draws=500, seed=0)
    assert isinstance(pri, az.InferenceData)
    assert {"prior", "prior_predictive"} <= set(pri.groups())
    assert pri.prior["beta"].shape == (1, 500, 3)
    assert list(pri.prior["beta"].coords["coef"].values) == ["const", "x1", "x2"]
    assert pri.prior["sigma"].shape == (1, 500)
    assert (pri.prior["sigma"] > 0).all()
    assert pri.prior_predictive["y"].shape == (1, 500, n)
    again = gaussian_auto_model.sample_prior(draws=500, seed=0)
    np.testing.assert_array_equal(pri.prior["beta"], again.prior["beta"])
    np.testing.assert_array_equal(pri.prior_predictive["y"], again.prior_predictive["y"])
    # improper priors have no prior predictive
    with pytest.raises(ValueError, match="proper"):
        gaussian_flat_model.sample_prior()


def test_prior_summary_rows(poisson_model, gaussian_auto_model, gaussian_flat_model):
    # one row per coefficient, then the dispersion where the family has one
    assert list(poisson_model.prior_summary()["parameter"]) == ["const", "x1", "x2"]
    for model in (gaussian_auto_model, gaussian_flat_model):
        table = model.prior_summary()
        assert list(table["parameter"]) == ["const", "x1", "x2", "sigma"]
        for col in ("prior", "specified", "adjusted", "note"):
            assert col in table.columns
    assert gaussian_auto_model.prior_summary()["prior"].iloc[-1].startswith("Exponential(")


def test_fit_map_gelman2008_matches_scipy(separation_data):
    """The exact posterior mode under arm::bayesglm's default (Cauchy) priors, written out here.

    gelman2008 (Gelman et al. 2008; arm::bayesglm): slopes Cauchy(0, 2.5 / (2 sd(x))) for
    columns with more than two values; intercept Cauchy(0, 10) on the intercept at the
    predictors' means, a = b0 + xbar' b. Parameterised by (a, b): eta = a + (x - xbar)' b.
    Separated data: the MLE does not exist, the mode does (this is arm's use case).
    """
    X, y = separation_data
    model = bg.GLM(y, X, family="binomial", priors="gelman2008")
    xs = X[:, 1:]
    xbar = xs.mean(0)
    xc = xs - xbar
    scales = np.r_[10.0, 2.5 / (2 * xs.std(0, ddof=1))]
    table = model.prior_summary()
    assert list(table["prior"]) == [f"Cauchy(0, {s:.4g})" for s in scales]
    Z_ = np.column_stack([np.ones(len(y)), xc])

    def negpost(t):
        eta = Z_ @ t
        ll = np.sum(y * eta - np.logaddexp(0, eta))
        lp = np.sum(-np.log(np.pi * scales) - np.log1p((t / scales) ** 2))
        return -(ll + lp)

    def grad(t):
        p = special.expit(Z_ @ t)
        return -(Z_.T @ (y - p) - 2 * t / (scales**2 + t**2))

    def hess(t):
        p = special.expit(Z_ @ t)
        h_prior = -2 * (scales**2 - t**2) / (scales**2 + t**2) ** 2
        return Z_.T @ (Z_ * (p * (1 - p))[:, None]) - np.diag(h_prior)

    res = optimize.minimize(negpost, np.zeros(3), jac=grad, hess=hess, method="trust-exact",
                            options={"gtol": 1e-9})
    assert res.success, res.message
    t = res.x
    for _ in range(3):  # Newton polish: quadratic convergence from here
        t = t - np.linalg.solve(hess(t), grad(t))
    assert np.max(np.abs(grad(t))) < 1e-10
    a, b = t[0], t[1:]
    expected = np.r_[a - xbar @ b, b]  # back to (b0, b)
    J = np.eye(3)
    J[0, 1:] = -xbar
    cov = J @ np.linalg.inv(hess(t)) @ J.T

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SeparationWarning)
        m = model.fit_map()
    np.testing.assert_allclose(m.params.to_numpy(), expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(m.cov_params().to_numpy(), cov, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(m.bse.to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-5)
    assert list(m.params.index) == ["const", "x1", "x2"]
    assert 0 < m.params["x1"] < 20  # finite, positive: y = (x1 > 0)


# ==========================================================================================
# 4. Reproducibility
# ==========================================================================================
def test_same_seed_same_draws_other_seed_differs(gaussian_flat_model, gaussian_flat_fit):
    again = gaussian_flat_model.fit(draws=DRAWS, chains=CHAINS, seed=0, progress=False)
    for var in ("beta", "sigma"):
        np.testing.assert_array_equal(again.idata.posterior[var], gaussian_flat_fit.idata.posterior[var])
    np.testing.assert_array_equal(again.idata.sample_stats["n_steps"],
                                  gaussian_flat_fit.idata.sample_stats["n_steps"])
    other = gaussian_flat_model.fit(draws=DRAWS, chains=CHAINS, seed=1, progress=False)
    assert not np.array_equal(other.idata.posterior["beta"], gaussian_flat_fit.idata.posterior["beta"])


@pytest.fixture(scope="module")
def short_fits(gaussian_flat_model):
    """warmup=0, 50 draws, in parallel (shard_map), sequentially and in threads (jit), same
    seed."""
    out = {}
    for method in ("parallel", "sequential", "threads"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.SamplingWarning)  # 50 draws: low ESS, by design
            out[method] = gaussian_flat_model.fit(warmup=0, draws=50, chains=CHAINS, seed=5,
                                                  chain_method=method, progress=False)
    return out


def test_parallel_and_sequential_chains_agree(short_fits, gaussian_flat_fit):
    """Both methods give each chain the same key and start, so they run the same Markov chain.

    Not bit for bit, though: pmap and jit compile the transition to differently fused XLA
    code, and the draws differ in the last bit (measured: <= 3e-16 over the first 50 draws).
    Over a long run that rounding can flip a U-turn or an accept decision and the trajectories
    part (measured: max |difference| 0.19 after 1200 iterations, as any chaotic integrator),
    so the exact check is made on a short run; statistically the long runs agree anyway.
    """
    par, seq = short_fits["parallel"], short_fits["sequential"]
    assert par.idata.posterior.attrs["chain_method"] == "parallel"
    assert seq.idata.posterior.attrs["chain_method"] == "sequential"
    np.testing.assert_array_equal(par.idata.sample_stats["n_steps"], seq.idata.sample_stats["n_steps"])
    for var in ("beta", "sigma"):
        np.testing.assert_allclose(par.idata.posterior[var], seq.idata.posterior[var],
                                   rtol=0, atol=1e-12)


def test_chains_in_threads_are_the_sequential_chains(short_fits):
    """chain_method="threads" runs the sequential program, several chains at once: each chain's
    computation is the same, so the draws are identical bit for bit. Deterministic."""
    seq, thr = short_fits["sequential"], short_fits["threads"]
    assert thr.idata.posterior.attrs["chain_method"] == "threads"
    for var in ("beta", "sigma"):
        np.testing.assert_array_equal(thr.idata.posterior[var], seq.idata.posterior[var])
    np.testing.assert_array_equal(thr.idata.sample_stats["n_steps"], seq.idata.sample_stats["n_steps"])


def test_chain_threads_one_per_core(monkeypatch):
    """``chain_method="threads"`` runs one chain per core the process may use, at most all."""
    from bayesglm import sampling

    monkeypatch.setattr(sampling.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert sampling.chain_threads(4) == 3 and sampling.chain_threads(2) == 2
    monkeypatch.setattr(sampling.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert sampling.chain_threads(4) == 1


def test_sampler_without_the_transposed_copy_agrees(gaussian_flat_model, monkeypatch):
    """Beyond ``TRANSPOSE_MAX_BYTES`` the sampler uses X itself (plain autodiff of X @ beta):
    the same chains as with the X' copy, to rounding (short run, as above; the Gaussian's rows,
    not its sufficient statistics, test_gram.py). Deterministic."""
    from bayesglm import problem
    from bayesglm.families import Gaussian

    monkeypatch.setattr(Gaussian, "sampler_gram", lambda self: False)

    def short():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.SamplingWarning)
            return gaussian_flat_model.fit(warmup=0, draws=50, chains=CHAINS, seed=5,
                                           chain_method="parallel", progress=False)

    ref = short()
    monkeypatch.setattr(problem, "TRANSPOSE_MAX_BYTES", 0)
    layout = problem.for_sampler(problem.from_design(gaussian_flat_model.design))
    assert layout.XT is None and layout.X is not None  # the sampler gets X itself
    plain = short()
    np.testing.assert_array_equal(plain.idata.sample_stats["n_steps"], ref.idata.sample_stats["n_steps"])
    for var in ("beta", "sigma"):
        np.testing.assert_allclose(plain.idata.posterior[var], ref.idata.posterior[var],
                                   rtol=0, atol=1e-10)


# XLA compilations by function name and thread, from JAX's monitoring events (a listener cannot
# be removed again, so it is registered once, at import, and only appends).
_COMPILES: list[tuple[str, str]] = []


def _on_duration_event(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES.append((str(kwargs.get("fun_name")), threading.current_thread().name))


jax.monitoring.register_event_duration_secs_listener(_on_duration_event)


@pytest.mark.parametrize("method", ["parallel", "sequential", "threads"])
def test_a_fit_compiles_its_sampler_once_ahead_and_a_refit_none(method):
    """One compiled program initialises the chains and runs every chunk; it is compiled in the
    background thread while the MLE is fitted (the first call then finds it: a mismatch of
    argument types would show as a second compilation), and a refit of the same shape compiles
    nothing. Deterministic. (A shape of its own, so that this test compiles: p = 5, 6 and 7
    coefficients; the Gaussian sampler's program depends on p, not on n, test_gram.py.)"""
    rng = np.random.default_rng(3)
    n, p = 40, {"parallel": 5, "sequential": 6, "threads": 7}[method]
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    model = bg.GLM(X @ np.linspace(1.0, 0.5, p) + rng.standard_normal(n), X, priors="flat")
    kw = dict(draws=100, warmup=100, chains=CHAINS, chain_method=method, progress=False)
    name = "per_device" if method == "parallel" else "chunk"

    def sampler_compiles(seed):
        before = len(_COMPILES)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.SamplingWarning)  # 100 draws: low ESS
            fit = model.fit(seed=seed, **kw)
        assert fit.idata.posterior.sizes["draw"] == 100  # two chunks of 100 iterations each
        return [c for c in _COMPILES[before:] if name in c[0]]

    first = sampler_compiles(0)
    assert len(first) == 1, first
    assert first[0][1].startswith("bayesglm"), first  # compiled ahead, in bayesglm's thread
    assert sampler_compiles(1) == []


# ==========================================================================================
# 5. Warm start
# ==========================================================================================
def test_default_warmup_and_start_recorded(gaussian_flat_fit, separation_fit):
    for group in ("posterior", "sample_stats"):
        attrs = gaussian_flat_fit.idata[group].attrs
        assert attrs["warmup"] == posterior_module.DEFAULT_WARMUP["mle"] == 200
        assert attrs["start"] == "mle"
    attrs = separation_fit.idata.posterior.attrs
    assert attrs["start"] == "map" and attrs["warmup"] == posterior_module.DEFAULT_WARMUP["map"]


def test_draws_start_near_mle(short_fits, gaussian_flat_fit):
    # warmup=0: the very first draw is one NUTS transition from the MLE jittered by
    # N(0, Fisher^-1), so every coordinate lies within a few posterior sds of the MLE. A start
    # anywhere else (e.g. NumPyro's default uniform(-2, 2) on the unconstrained scale) would be
    # ~5-10 sds away. The posterior is t(16); P(|t16| > 6 sd) < 1e-5, over 12 checks < 1e-4.
    fit = short_fits["parallel"]
    mle = gaussian_flat_fit.mle
    sd = gaussian_flat_fit.idata.posterior["beta"].std(("chain", "draw")).to_numpy()
    first = fit.idata.posterior["beta"].isel(draw=0).to_numpy()  # (chains, p)
    z = np.abs(first - mle.params.to_numpy()) / sd
    assert (z < 6).all(), z
    # and the chains do start apart (jitter), so R-hat means something
    assert len({tuple(r) for r in first.round(12)}) == CHAINS
    # the first post-warmup draws of the default run, likewise
    first = gaussian_flat_fit.idata.posterior["beta"].isel(draw=0).to_numpy()
    assert (np.abs(first - mle.params.to_numpy()) / sd < 6).all()


def test_warmup_zero_works(short_fits):
    fit = short_fits["sequential"]
    assert fit.idata.posterior.attrs["warmup"] == 0
    assert fit.idata.posterior["beta"].shape == (CHAINS, 50, 3)
    assert np.isfinite(fit.idata.posterior["beta"]).all()
    # no adaptation: the step size stays at its start d^(-1/4), d = 4 parameters
    np.testing.assert_allclose(fit.idata.sample_stats["step_size"], 4 ** -0.25)


# ==========================================================================================
# 6. Separation
# ==========================================================================================
def test_separation_mle_warns(separation_data):
    X, y = separation_data
    with pytest.warns(bg.SeparationWarning, match="x1"):
        bg.GLM(y, X, family="binomial").fit_mle()


@pytest.mark.parametrize("third", [
    "cos2x",  # raised FloatingPointError before IRLS kept its last valid state
    "x_squared",  # failed silently (converged=True, bse ~1e13) before commit 7e6d5a2
])
def test_separation_detected_with_smooth_covariate(separation_data, third):
    # the same separated y = (x > 0), with a smooth non-separating third column
    X, y = separation_data
    x = X[:, 1]
    X = np.column_stack([np.ones(len(x)), x, np.cos(2 * x) if third == "cos2x" else x**2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = bg.GLM(y, X, family="binomial").fit_mle()
    assert any(issubclass(w.category, bg.SeparationWarning) for w in caught)
    assert not mle.converged


def test_separation_bayes_fit_is_proper(separation):
    # Deterministic given the seed; the thresholds are far from the measured values
    # (R-hat 1.00, ESS ~ 2000, 0 divergences with the MAP start and adapted mass matrix).
    fit = separation.fit
    assert fit.start == "map"
    s = fit.summary()
    assert (s["r_hat"] < 1.01).all(), s
    assert (s["ess_bulk"] > 400).all(), s
    assert int(fit.idata.sample_stats["diverging"].sum()) == 0
    slope = _post(fit, "beta", "x1")
    assert np.isfinite(slope).all() and slope.mean() > 0
    # the MLE's slope runs off to infinity; the posterior's stays where the N(0, 2.5/sd(x))
    # prior keeps it (sd(x) = 1.75: prior sd 1.43)
    assert slope.mean() < 10
    categories = {w.category for w in separation.warnings}
    assert bg.SeparationWarning in categories
    assert not _sampling_warnings(separation.warnings), [str(w.message) for w in separation.warnings]


def test_separation_flat_priors_raise(separation_data):
    X, y = separation_data
    model = bg.GLM(y, X, family="binomial", priors="flat")
    with pytest.warns(bg.SeparationWarning), pytest.raises(ValueError, match="improper"):
        model.fit(progress=False)


# ==========================================================================================
# 7. Sampling warnings
# ==========================================================================================
def test_low_ess_warns(gaussian_flat_model, short_fits):
    # 2 chains x 50 draws = 100 draws < the 100-per-chain ESS floor (200): always warns.
    # (warmup=0 and 50 draws reuse short_fits' compiled sequential kernels.)
    rec = fit_recording(gaussian_flat_model, warmup=0, draws=50, chains=2, seed=0,
                        chain_method="sequential")
    msgs = [str(w.message) for w in _sampling_warnings(rec.warnings)]
    ess = [m for m in msgs if "effective sample size is low" in m]
    assert ess, msgs
    assert "Increase draws" in ess[0] and "fit(draws=...)" in ess[0]


def test_max_tree_depth_warns(gaussian_flat_model):
    rec = fit_recording(gaussian_flat_model, warmup=0, draws=50, chains=2, seed=0,
                        max_tree_depth=1, chain_method="sequential")
    msgs = [str(w.message) for w in _sampling_warnings(rec.warnings)]
    depth = [m for m in msgs if "maximum tree depth" in m]
    assert depth, msgs
    assert "100 of 100 draws" in depth[0] and "Raise max_tree_depth" in depth[0]
    assert int(rec.fit.diagnostics()["max_tree_depth_hits"].sum()) == 100


# ==========================================================================================
# 8. Bad arguments
# ==========================================================================================
@pytest.mark.parametrize("kwargs, name", [
    ({"draws": 0}, "draws"),
    ({"draws": 10.5}, "draws"),
    ({"chains": 0}, "chains"),
    ({"warmup": -1}, "warmup"),
    ({"target_accept": 1.5}, "target_accept"),
    ({"target_accept": 0.0}, "target_accept"),
    ({"max_tree_depth": 0}, "max_tree_depth"),
    ({"chain_method": "bogus"}, "chain_method"),
])
def test_bad_arguments(gaussian_flat_model, kwargs, name):
    with pytest.raises(ValueError, match=name):
        gaussian_flat_model.fit(progress=False, **kwargs)


def test_sampler_run_records_every_iteration_and_chunk(short_fits):
    """BayesResults.sampler_run (what benchmarks read instead of wrapping sampling internals):
    the kept iterations' steps are sample_stats' n_steps; one time per compiled chunk."""
    for method, fit in short_fits.items():
        run = fit.sampler_run
        warmup = fit.idata.posterior.attrs["warmup"]
        draws = fit.idata.posterior.sizes["draw"]
        chains = fit.idata.posterior.sizes["chain"]
        assert run.samples is None and run.chain_method == method
        kept = run.steps_all[:, warmup:warmup + draws]
        np.testing.assert_array_equal(kept, fit.idata.sample_stats["n_steps"].to_numpy())
        n_chunks = -(-(warmup + draws) // run.chunk_length)
        assert run.steps_all.shape == (chains, n_chunks * run.chunk_length)
        assert len(run.chunk_seconds) == n_chunks * (1 if method == "parallel" else chains)
        assert all(t > 0 for t in run.chunk_seconds)
