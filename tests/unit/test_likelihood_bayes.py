"""The Bayesian fit of the families fitted on their exact likelihood (issue 12): NUTS from the
MLE in its coordinates, the extra parameters' priors, the results (summary beside the MLE,
the pointwise log-likelihood, predictions, y_rep).

Small fits (150 rows, 2 chains x 300 draws, fixed seeds), one per family and shared by the
tests. The checks against independent computations: the stored pointwise log-likelihood
against SciPy's densities at posterior draws; ``predict(kind="mean")`` against E[y] computed here
from the draws; the priors' densities through the posterior of an intercept-only model whose
likelihood is flat in the extra parameter (the prior comes back). The large-n posterior ~ MLE
check per family is in tests/slow/test_likelihood_posterior.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.special as sp
import scipy.stats as st

import bayesglm as bg
from bayesglm import priors as P

N = 150
KW = dict(draws=300, chains=2, seed=3, progress=False)


def _frame(seed=0, n=N):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    eta = 0.3 + 0.5 * df["x1"] - 0.4 * df["x2"]
    mu = 1 / (1 + np.exp(-eta))
    df["yb"] = rng.beta(mu * 9, (1 - mu) * 9)
    df["yt"] = eta + 1.3 * rng.standard_t(4, n)
    df["n"] = rng.integers(2, 25, n)
    df["k"] = rng.binomial(df["n"], rng.beta(mu * 4, (1 - mu) * 4))
    df["yw"] = bg.families.Tweedie().draw_rows(rng, eta, {"phi": 1.2, "power": 1.6})
    lam = np.exp(eta)
    df["c"] = np.where(rng.random(n) < 0.3, 0, rng.poisson(lam))
    df["cnb"] = np.where(rng.random(n) < 0.3, 0, rng.poisson(rng.gamma(2.0, lam / 2.0)))
    cum = bg.families.Cumulative(levels=(0, 1, 2))
    df["o"] = cum.draw_rows(rng, eta - 0.3, {"cutpoints": np.array([-0.5, 0.8])}).astype(int)
    return df


CASES = {
    "beta": ("yb ~ x1 + x2", "beta", {}),
    "student_t": ("yt ~ x1 + x2", "student_t", {}),
    "beta_binomial": ("k ~ x1 + x2", "beta_binomial", {"trials": "n"}),
    "tweedie": ("yw ~ x1 + x2", "tweedie", {}),
    "cumulative": ("o ~ x1 + x2", "cumulative", {}),
    "zip_model": ("c ~ x1 + x2", bg.families.ZeroInflatedPoisson(zi="~ x1"), {}),
    "hurdle_nb": ("cnb ~ x1 + x2", "hurdle_negative_binomial", {}),
}


@pytest.fixture(scope="module")
def fits():
    df = _frame()
    out = {}
    for name, (formula, fam, kw) in CASES.items():
        model = bg.glm(formula, df, family=fam, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.SamplingWarning)  # 600 draws: low-ESS notes
            out[name] = (model, model.fit(**KW))
    return df, out


@pytest.mark.parametrize("name", list(CASES))
def test_summary_lists_every_parameter_beside_its_mle(name, fits):
    _, out = fits
    model, fit = out[name]
    s = fit.summary()
    mle = fit.mle
    assert list(s.index) == list(mle.params.index)
    np.testing.assert_allclose(s["mle"], mle.params, rtol=1e-12)
    np.testing.assert_allclose(s["mle_se"], mle.bse, rtol=1e-12)
    assert fit.start == "mle" and s["r_hat"].max() < 1.05
    # 150 rows and these priors: the posterior means within 1.5 posterior sds of the MLE
    # (the t's nu, weakly identified and pulled by its gamma(2, 0.1) prior, excepted)
    rows = [r for r in s.index if r != "nu"]
    z = np.abs(s.loc[rows, "mean"] - s.loc[rows, "mle"]) / s.loc[rows, "sd"]
    assert z.max() < 1.5, z


def _scipy_rows(name, df, beta, extra):
    """log p(y_i | a draw) written with scipy.stats."""
    X = np.column_stack([np.ones(len(df)), df["x1"], df["x2"]])
    if name == "cumulative":
        eta = X[:, 1:] @ beta
        cum = st.logistic.cdf(np.asarray(extra["cutpoints"])[None, :] - eta[:, None])
        P_ = np.diff(np.column_stack([np.zeros(len(df)), cum, np.ones(len(df))]), axis=1)
        return np.log(P_[np.arange(len(df)), df["o"].to_numpy()])
    eta = X @ beta
    if name == "beta":
        mu, phi = sp.expit(eta), extra["phi"]
        return st.beta.logpdf(df["yb"], mu * phi, (1 - mu) * phi)
    if name == "student_t":
        return st.t.logpdf(df["yt"], extra["nu"], loc=eta, scale=extra["sigma"])
    if name == "beta_binomial":
        mu, phi = sp.expit(eta), extra["phi"]
        return st.betabinom.logpmf(df["k"], df["n"], mu * phi, (1 - mu) * phi)
    if name == "tweedie":
        mu, phi, p = np.exp(eta), extra["phi"], extra["power"]
        lam = mu ** (2 - p) / (phi * (2 - p))
        j = np.arange(1, 400)[:, None]
        terms = st.poisson.logpmf(j, lam) + st.gamma.logpdf(
            np.maximum(df["yw"].to_numpy(), 1e-300), j * (2 - p) / (p - 1),
            scale=phi * (p - 1) * mu ** (p - 1))
        return np.where(df["yw"] > 0, sp.logsumexp(terms, axis=0), -lam)
    mu, y = np.exp(eta), df["c" if name == "zip_model" else "cnb"].to_numpy()
    if name == "zip_model":
        zi = sp.expit(extra["zi"][0] + extra["zi"][1] * df["x1"])
        return np.log(np.where(y == 0, zi + (1 - zi) * np.exp(-mu),
                               (1 - zi) * st.poisson.pmf(y, mu)))
    a, hu = extra["alpha"], extra["hu"]
    f = st.nbinom.pmf(y, 1 / a, 1 / (1 + a * mu))
    f0 = (1 + a * mu) ** (-1 / a)
    return np.log(np.where(y == 0, hu, (1 - hu) * f / (1 - f0)))


@pytest.mark.parametrize("name", list(CASES))
def test_stored_pointwise_log_likelihood_is_scipys(name, fits):
    df, out = fits
    _, fit = out[name]
    post = fit.idata.posterior
    ll = fit.idata.log_likelihood["y"].to_numpy()
    for c, d in ((0, 0), (1, 123)):
        extra = {q.name: post[q.name].to_numpy()[c, d] for q in fit.family.extra_params()}
        want = _scipy_rows(name, df, post["beta"].to_numpy()[c, d], extra)
        np.testing.assert_allclose(ll[c, d], want, rtol=1e-9, atol=1e-9)
    loo = fit.loo()
    assert np.isfinite(loo.elpd_loo)


def test_frequency_weights_weight_the_pointwise_log_likelihood(tmp_path):
    """A row of frequency weight w stands for w rows: its stored log-likelihood is w times the
    row's (as the other families'; it was the unweighted row's before)."""
    df = _frame(n=40)
    df["w"] = np.arange(40) % 3 + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        fit = bg.glm("yb ~ x1 + x2", df, family="beta", weights="w").fit(
            draws=100, chains=1, seed=1, progress=False)
    post = fit.idata.posterior
    ll = fit.idata.log_likelihood["y"].to_numpy()[0, 7]
    want = _scipy_rows("beta", df, post["beta"].to_numpy()[0, 7],
                       {"phi": post["phi"].to_numpy()[0, 7]})
    np.testing.assert_allclose(ll, df["w"].to_numpy() * want, rtol=1e-9)
    fit.save(tmp_path / "w.nc")  # the saved MLE keeps the weighted residual df
    assert bg.load(tmp_path / "w.nc").mle.df_resid == fit.mle.df_resid == df["w"].sum() - 4


def test_predicted_mean_of_a_zero_inflated_model_is_one_minus_zi_times_mu(fits):
    df, out = fits
    _, fit = out["zip_model"]
    new = df.iloc[:7]
    pr = fit.predict(new)
    post = fit.idata.posterior
    beta = post["beta"].to_numpy().reshape(-1, 3)
    zi = post["zi"].to_numpy().reshape(-1, 2)
    X = np.column_stack([np.ones(7), new["x1"], new["x2"]])
    m = (1 - sp.expit(zi[:, :1] + zi[:, 1:] * new["x1"].to_numpy()[None, :])) * np.exp(beta @ X.T)
    np.testing.assert_allclose(pr["mean"], m.mean(0), rtol=1e-10)
    assert list(post["zi"].coords["zi_entry"].values) == ["Intercept", "x1"]
    assert {"zi_Intercept", "zi_x1"} <= set(fit.summary().index)


def test_ordinal_predictions_are_the_category_probabilities_of_the_draws(fits):
    """kind="mean" of a Cumulative fit: P(Y = k) per row, a column per level beside its sd and
    HDI (the MLE's columns k, k_se), computed here from the draws by scipy's logistic CDF;
    kind="response": the share of predictive draws in each category; fitted_mean: E[code]."""
    df, out = fits
    _, fit = out["cumulative"]
    new = df.iloc[:5]
    pr = fit.predict(new)
    assert list(pr.columns[:3]) == ["0", "1", "2"]
    assert {"0_sd", "0_hdi_3%", "2_hdi_97%"} <= set(pr.columns)
    post = fit.idata.posterior
    beta = post["beta"].to_numpy().reshape(-1, 2)
    kappa = post["cutpoints"].to_numpy().reshape(-1, 2)
    eta = beta @ new[["x1", "x2"]].to_numpy().T  # no intercept: the cutpoints carry it
    F = sp.expit(kappa[:, None, :] - eta[:, :, None])
    probs = np.diff(np.concatenate([np.zeros_like(F[..., :1]), F, np.ones_like(F[..., :1])], -1),
                    axis=-1)
    np.testing.assert_allclose(pr[["0", "1", "2"]], probs.mean(0), rtol=1e-10)
    np.testing.assert_allclose(pr["1_sd"], probs[..., 1].std(0, ddof=1), rtol=1e-8)
    assert np.all((pr["1_hdi_3%"] < pr["1"]) & (pr["1"] < pr["1_hdi_97%"]))
    resp = fit.predict(new, kind="response", seed=2)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    np.testing.assert_allclose(resp, probs.mean(0), atol=0.06)  # 600 draws: 3 sd of a share
    codes = fit.fitted_mean()[:5]
    np.testing.assert_allclose(codes, (probs * np.arange(3)).sum(-1).mean(0), rtol=1e-10)
    # bayesglm.interpret: a row per (row, category), the category in "group"
    t = fit.predictions(new)
    assert list(t["group"].astype(str)) == ["0", "1", "2"] * 5
    np.testing.assert_allclose(t.attrs["draws"], probs.reshape(len(beta), -1), rtol=1e-10)
    np.testing.assert_allclose(t["estimate"], probs.mean(0).ravel(), rtol=1e-10)
    avg = fit.avg_predictions(new)
    np.testing.assert_allclose(avg["estimate"], probs.mean((0, 1)), rtol=1e-10)
    assert avg["estimate"].sum() == pytest.approx(1.0)


def test_sampling_warnings_name_extra_parameters_as_the_summary_does(fits):
    """R-hat's warning names zi_x1 (the summary's row), not ArviZ's zi[x1] (it did before)."""
    from bayesglm.bayes_results import check_draws

    _, out = fits
    _, fit = out["zip_model"]
    idata = fit.idata.copy()
    zi = idata.posterior["zi"].copy()
    zi[0, :, 1] = zi[0, :, 1] + 3.0  # the chains disagree about zi_x1
    idata.posterior["zi"] = zi
    with pytest.warns(bg.SamplingWarning, match=r"R-hat .*\(for zi_x1\)"):
        check_draws(idata, 10, labels=fit._labels())


@pytest.mark.parametrize("name", list(CASES))
def test_posterior_predictive_draws_lie_in_the_familys_domain(name, fits):
    _, out = fits
    _, fit = out[name]
    y = fit.idata.posterior_predictive["y"].to_numpy()
    assert y.shape[:2] == (2, 300) and np.all(np.isfinite(y))
    dom = fit.family.domain
    assert np.all(dom.contains(fit.family.from_observed(y, fit.mle.model.design.trials)))
    if dom.integer:
        assert np.all(y == np.round(y))
    r = fit.predict(kind="response", seed=1)
    assert r.shape == ((N, 3) if name == "cumulative" else (N, 4))  # ordinal: a column a level


def test_extra_parameter_priors_by_name_and_their_errors():
    df = _frame(n=60)
    m = bg.glm("yb ~ x1", df, family="beta", priors={"phi": P.Gamma(2.0, 0.2)})
    row = m.prior_summary().set_index("parameter").loc["phi"]
    assert row["prior"] == P.Gamma(2.0, 0.2).describe() and row["note"] == "as given"
    cum = bg.glm("o ~ x1", df, family="cumulative", priors={"cutpoints[2]": P.Normal(0, 1)})
    t = cum.prior_summary().set_index("parameter")
    assert t.loc["cutpoints[2]", "note"] == "as given"
    assert "student_t(3, 0, 2.5)" in t.loc["cutpoints[1]", "note"]
    with pytest.raises(ValueError, match=r"priors\['phi'\]: Normal.* has real support, but phi "
                                         "is positive"):
        bg.glm("yb ~ x1", df, family="beta", priors={"phi": P.Normal(0, 1)})
    with pytest.raises(ValueError, match=r"priors\['zi'\]: zi lies in \(0, 1\); its prior is "
                                         r"Flat\(\)"):
        bg.glm("c ~ x1", df, family="zip", priors={"zi": P.HalfNormal(1.0)})
    with pytest.raises(ValueError, match="the beta family has no 'dispersion'; its extra "
                                         "parameters are phi"):
        bg.glm("yb ~ x1", df, family="beta", priors={"dispersion": P.Exponential(1.0)})
    with pytest.raises(ValueError, match="unknown"):
        bg.glm("yb ~ x1", df, family="beta", priors={"nope": P.Normal(0, 1)})


def test_the_prior_comes_back_where_the_data_say_nothing():
    """A Student-t with nu's prior Gamma(4, 0.5) on 3 rows: the rows say almost nothing about
    nu, so its posterior is close to the prior (mean 8, sd 4), which enters the model with the
    log Jacobian of nu = exp(u) (without that term the posterior of nu would be the prior of
    log nu's, mean 6: the check can fail). 4,000 draws: MC error of the mean ~0.15."""
    df = pd.DataFrame({"y": [0.1, -0.3, 0.25]})
    m = bg.glm("y ~ 1", df, family="student_t",
               priors={"nu": P.Gamma(4.0, 0.5), "sigma": P.Exponential(5.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = m.fit(draws=2000, chains=2, seed=5, progress=False, warmup=500)
    nu = fit.idata.posterior["nu"].to_numpy().ravel()
    assert abs(nu.mean() - 8.0) < 1.0 and abs(nu.std() - 4.0) < 1.0


@pytest.mark.parametrize("name", list(CASES))
def test_loo_without_the_stored_log_likelihood_is_the_same(name, fits):
    """A fit too large to store its pointwise log-likelihood computes loo/waic from the draws in
    row chunks (here forced: the group dropped, a budget of a few rows per chunk): the same
    numbers as az.loo/az.waic on the stored matrix (it raised NotImplementedError before)."""
    import copy

    _, out = fits
    _, fit = out[name]
    big = copy.copy(fit)
    big.idata = fit.idata.copy()
    del big.idata.log_likelihood
    budget = 17 * 600 * 8 * 6  # about 17 rows of 600 draws per chunk
    a, b = fit.loo(pointwise=True), big.loo(pointwise=True, memory_budget=budget)
    np.testing.assert_allclose(b.loo_i.values, a.loo_i.values, rtol=1e-9)
    np.testing.assert_allclose(b.elpd_loo, a.elpd_loo, rtol=1e-11)
    np.testing.assert_allclose(big.waic(memory_budget=budget).elpd_waic, fit.waic().elpd_waic,
                               rtol=1e-11)


@pytest.mark.parametrize("name", list(CASES))
def test_a_saved_fit_loads_with_everything_it_had(name, fits, tmp_path):
    """save/load keeps the family (zi's formula and columns, ordinal levels), the MLE beside
    the posterior, the rows (X, trials, the zero model's design), so summary, predict (fitted
    and new rows, the formula re-applied), posterior_predictive and loo are the same."""
    df, out = fits
    _, fit = out[name]
    path = tmp_path / f"{name}.nc"
    fit.save(path)
    back = bg.load(path)
    assert type(back) is type(fit) and back.family == fit.family
    pd.testing.assert_frame_equal(back.summary(), fit.summary())
    new = df.iloc[:6].drop(columns=["n"]) if name != "beta_binomial" else df.iloc[:6]
    kw = {"trials": "n"} if name == "beta_binomial" else {}
    pd.testing.assert_frame_equal(back.predict(new, **kw), fit.predict(new, **kw))
    pd.testing.assert_frame_equal(back.predict(), fit.predict())
    np.testing.assert_allclose(back.loo().elpd_loo, fit.loo().elpd_loo, rtol=1e-12)
    y = back.posterior_predictive(seed=4)["y"].to_numpy()
    np.testing.assert_array_equal(y, fit.posterior_predictive(seed=4)["y"].to_numpy())


def test_a_saved_zero_model_with_a_stateful_transform_says_it_cannot_predict(tmp_path):
    """zi="~ scale(x1)": scale's mean and sd cannot be re-applied after loading, so a loaded
    fit's predict on new rows says so (before, the zero model was rebuilt on a made-up frame
    and predicted with its mean and sd, silently wrong)."""
    df = _frame(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bg.glm("c ~ x1", df, family=bg.families.ZeroInflatedPoisson(
            zi="~ scale(x1)")).fit(draws=100, chains=1, seed=1, progress=False)
    fit.save(tmp_path / "f.nc")
    back = bg.load(tmp_path / "f.nc")
    with pytest.raises(Exception, match="stateful"):
        back.predict(df.iloc[:3])


def test_prior_predictive_draws_follow_the_extra_parameters_priors():
    """sample_prior of the likelihood families: each extra parameter drawn from its prior
    (KS tests; each p-value > 1e-3 with a fixed seed, a false-failure rate of about 0.1% per
    test where the draws are right), an ordered vector restricted to the ordered region (its
    smallest entry is the minimum of two iid draws: CDF 1 - (1 - F)^2), an interval's Flat()
    the uniform, a y_rep per draw in the family's domain; improper priors are refused by name."""
    df = _frame()
    draws = 2000
    m = bg.glm("c ~ x1 + x2", df, family=bg.families.ZeroInflatedPoisson(zi="~ x1"),
               priors={"zi": P.Normal(0, 1.5)})
    pr = m.sample_prior(draws=draws, seed=1)
    zi = pr.prior["zi"].to_numpy()[0]
    assert zi.shape == (draws, 2)
    for k in range(2):
        assert st.kstest(zi[:, k], st.norm(0, 1.5).cdf).pvalue > 1e-3
    y = pr.prior_predictive["y"].to_numpy()
    assert y.shape == (1, draws, N) and np.all(y >= 0) and np.all(y == np.round(y))
    assert bg.plot_ppc(pr) is not None

    m = bg.glm("o ~ x1 + x2", df, family="cumulative", priors={"cutpoints": P.Normal(0, 2)})
    kappa = m.sample_prior(draws=draws, seed=2).prior["cutpoints"].to_numpy()[0]
    assert np.all(np.diff(kappa, axis=1) > 0)
    cdf_min = lambda x: 1 - (1 - st.norm(0, 2).cdf(x)) ** 2  # noqa: E731
    assert st.kstest(kappa[:, 0], cdf_min).pvalue > 1e-3
    m = bg.glm("o ~ x1 + x2", df, family="cumulative",
               priors={"cutpoints[1]": P.Normal(-1, 1), "cutpoints[2]": P.Normal(1, 1)})
    kappa = m.sample_prior(draws=draws, seed=3).prior["cutpoints"].to_numpy()[0]
    assert np.all(np.diff(kappa, axis=1) > 0)  # different priors: by rejection
    # the first cutpoint's marginal under N(-1, 1) x N(1, 1) restricted to a < b:
    # P(a <= x) = int_-inf^x phi(a + 1) (1 - Phi(a - 1)) da / P(a < b), P(a < b) = Phi(2 / sqrt 2),
    # integrated on a fine grid (trapezoids of width 1e-4: error ~1e-9) and interpolated (one
    # quad per draw took 40 s)
    import scipy.integrate

    z = st.norm.cdf(2 / np.sqrt(2))
    grid = np.linspace(-12.0, 10.0, 220_001)
    dens = st.norm.pdf(grid + 1) * st.norm.sf(grid - 1)
    cum = scipy.integrate.cumulative_trapezoid(dens, grid, initial=0.0) / z

    def cdf_first(x):
        return np.interp(x, grid, cum)
    assert st.kstest(kappa[:, 0], cdf_first).pvalue > 1e-3
    assert st.kstest(kappa[:, 0], st.norm(-1, 1).cdf).pvalue < 1e-3  # not the unrestricted prior

    power = bg.glm("yw ~ x1 + x2", df, family="tweedie").sample_prior(draws=draws, seed=4)
    assert st.kstest(power.prior["power"].to_numpy()[0], st.uniform(1, 1).cdf).pvalue > 1e-3
    with pytest.raises(ValueError, match="proper priors; phi has Flat"):
        bg.glm("yb ~ x1 + x2", df, family="beta", priors={"phi": P.Flat()}).sample_prior()


def test_fit_map_is_the_posterior_mode_scipy_finds():
    """fit_map() of a Beta regression: the mode of the log posterior in the sampler's
    coordinates (log phi, with the Jacobian log phi, as NumPyro's density) that scipy's BFGS
    finds on the hand-written density (scipy's beta, normal and gamma log-densities; brms's
    Gamma(2, 0.1) is shape 2, rate 0.1), and the SEs of its central-difference Hessian (phi's by
    the delta method)."""
    import scipy.optimize

    df = _frame()
    priors = {"Intercept": P.Normal(0, 5), "x1": P.Normal(0, 1), "x2": P.Normal(0, 1),
              "phi": P.Gamma(2, 0.1)}
    r = bg.glm("yb ~ x1 + x2", df, family="beta", priors=priors).fit_map()
    X = np.column_stack([np.ones(N), df["x1"], df["x2"]])
    y = df["yb"].to_numpy()

    def neg(t):
        mu, phi = sp.expit(X @ t[:3]), np.exp(t[3])
        return -(st.beta.logpdf(y, mu * phi, (1 - mu) * phi).sum()
                 + st.norm.logpdf(t[0], 0, 5) + st.norm.logpdf(t[1:3], 0, 1).sum()
                 + st.gamma.logpdf(phi, 2, scale=10.0) + t[3])

    opt = scipy.optimize.minimize(neg, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    t = opt.x
    h = 1e-4
    H = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            e_i, e_j = np.eye(4)[i] * h, np.eye(4)[j] * h
            H[i, j] = (neg(t + e_i + e_j) - neg(t + e_i - e_j) - neg(t - e_i + e_j)
                       + neg(t - e_i - e_j)) / (4 * h * h)
    se = np.sqrt(np.diag(np.linalg.inv(H)))
    want = np.append(t[:3], np.exp(t[3]))
    want_se = np.append(se[:3], np.exp(t[3]) * se[3])
    np.testing.assert_allclose(r.params.to_numpy(), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(r.bse.to_numpy(), want_se, rtol=1e-4)
    assert list(r.params.index) == ["Intercept", "x1", "x2", "phi"]
    with pytest.raises(ValueError, match="method='mode' only"):
        bg.glm("yb ~ x1 + x2", df, family="beta").fit_map(method="arm")


def test_all_zero_counts_separate_and_nuts_starts_at_the_mode(tmp_path):
    """An all-zero response under a zero-inflated Poisson: the MLE does not exist (the rates run
    to 0; the start's IRLS says so) and the fit says so (converged False, separated); NUTS then
    starts at the posterior mode (found from a neutral start where the MLE's point fails) and the
    proper priors give a proper posterior."""
    df = _frame(n=80).assign(c=0)
    model = bg.glm("c ~ x1", df, family="zip")
    with pytest.warns(bg.SeparationWarning, match="counts are all zero"):
        mle = model.fit_mle()
    assert mle.separated and not mle.converged
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(draws=300, chains=2, seed=2, progress=False)
    s = fit.summary()
    # the zeros are explained by a high zi or low rates: zi's mode is 0.71 (u = 0.90), the
    # intercept's -3.66, with the default priors
    assert fit.start == "map" and s["r_hat"].max() < 1.05
    assert 0.6 < s.loc["zi", "mean"] < 1 and s.loc["Intercept", "mean"] < -1
    fit.save(tmp_path / "z.nc")  # a loaded fit still says its MLE did not converge
    assert not bg.load(tmp_path / "z.nc").mle.converged


def test_a_prior_dominated_coefficient_starts_nuts_at_the_mode():
    """Two non-zero counts among 80 under a zero-inflated Poisson (SBC replication 44 of
    tests/slow/test_sbc_families.py): the MLE converges, but to coefficients of 17 and 66 with
    standard errors of 200-800, far wider than their Normal(0, 0.5) priors. Started there, with
    that covariance as mass matrix, NUTS did not move (bulk ESS 2); from the posterior mode it
    mixes (ESS > 400)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "slow"))
    from test_sbc_families import _zip

    model, _, _ = _zip(np.random.default_rng([1204, 44, len("zero_inflated_poisson")]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(draws=300, chains=2, seed=44, progress=False)
    s = fit.summary()
    assert fit.start == "map" and s["ess_bulk"].min() > 400 and s["r_hat"].max() < 1.02
