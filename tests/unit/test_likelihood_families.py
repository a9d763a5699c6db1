"""The families fitted on their exact likelihood (issue 12): Beta, StudentT, BetaBinomial,
Tweedie, Cumulative (ordinal), zero-inflated and hurdle Poisson and negative binomial.

Every check here is against an independent computation: SciPy's densities (the Tweedie's as
the Poisson mixture of gamma densities summed term by term), statsmodels' OrderedModel for the
ordinal fit, SciPy's optimiser on
a likelihood written with ``scipy.stats``, a finite-difference Hessian for the standard errors,
expanded rows for frequency weights. The R references (glmmTMB, the hand-written Student-t
likelihood) are in tests/reference/test_families_reference.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import scipy.special
import scipy.stats as st
import jax
import jax.numpy as jnp

import bayesglm as bg
from bayesglm import links as L
from bayesglm import transforms as T
from bayesglm.families import FAMILIES, LikelihoodFamily, Param

# float64 JAX in the tests that call the families directly (conftest.jax_float64)
pytestmark = pytest.mark.usefixtures("jax_float64")

EXACT = {k: v for k, v in FAMILIES.items() if getattr(v, "exact_likelihood", False)}


# ---------------------------------------------------------------------------------------------
# the supports' maps

SUPPORT_CASES = [
    (Param("a", "positive"), np.array([0.3])),
    (Param("a", "unit"), np.array([0.2])),
    (Param("a", "interval", lower=1.0, upper=2.0), np.array([1.6])),
    (Param("a", "ordered", size=3), np.array([-1.0, 0.5, 2.5])),
    (Param("a", "real"), np.array([-0.7])),
]


@pytest.mark.parametrize("param, v", SUPPORT_CASES, ids=[c[0].support for c in SUPPORT_CASES])
def test_transforms_round_trip_and_jacobian(param, v):
    u = np.atleast_1d(T.to_unconstrained(param, v))
    np.testing.assert_allclose(np.atleast_1d(T.to_constrained(param, u)), v, rtol=1e-14)
    # the same maps in JAX
    np.testing.assert_allclose(np.atleast_1d(T.to_constrained(param, jnp.asarray(u), jnp)), v,
                               rtol=1e-14)
    h = 1e-6
    J = np.column_stack([(np.atleast_1d(T.to_constrained(param, u + h * e))
                          - np.atleast_1d(T.to_constrained(param, u - h * e))) / (2 * h)
                         for e in np.eye(u.size)])
    np.testing.assert_allclose(T.jacobian(param, u), J, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# the densities against SciPy's


def _scipy_logpdf(fam, y, mu, extra, trials):
    if isinstance(fam, bg.families.Beta):
        phi = extra["phi"]
        return st.beta.logpdf(y, mu * phi, (1 - mu) * phi)
    if isinstance(fam, bg.families.StudentT):
        return st.t.logpdf(y, extra["nu"], loc=mu, scale=extra["sigma"])
    if isinstance(fam, bg.families.Tweedie):
        return _tweedie_brute(y, mu, extra["phi"], extra["power"])
    if isinstance(fam, bg.families.Cumulative):  # mu is eta here
        P = _ordinal_probs(fam.link, mu, np.asarray(extra["cutpoints"]))
        return np.log(P[np.arange(len(y)), y.astype(int)])
    if isinstance(fam, ZERO_FAMILIES):
        return np.log(_zero_pmf(fam, y, mu, extra[fam.zero_name], extra.get("alpha")))
    phi = extra["phi"]
    return st.betabinom.logpmf(np.round(y * trials), trials, mu * phi, (1 - mu) * phi)


ZERO_FAMILIES = (bg.families.ZeroInflatedPoisson, bg.families.ZeroInflatedNegativeBinomial,
                 bg.families.HurdlePoisson, bg.families.HurdleNegativeBinomial)


def _zero_pmf(fam, k, mu, p, alpha=None):
    """P(y = k) of a zero-inflated (p = zi) or hurdle (p = hu) count, from scipy.stats' pmfs."""
    if alpha is None:
        f, f0 = st.poisson.pmf(k, mu), st.poisson.pmf(0, mu)
    else:  # NB2: n = 1 / alpha, success probability 1 / (1 + alpha mu)
        f, f0 = st.nbinom.pmf(k, 1 / alpha, 1 / (1 + alpha * mu)), (1 + alpha * mu) ** (-1 / alpha)
    if fam.hurdle:
        return np.where(k == 0, p, (1 - p) * f / (1 - f0))
    return np.where(k == 0, p + (1 - p) * f0, (1 - p) * f)


def _tweedie_brute(y, mu, phi, p, J=400):
    """log of sum_j Pois(j; lam) Gamma(y; j shape, scale): the compound Poisson-gamma density."""
    lam = mu ** (2 - p) / (phi * (2 - p))
    shape, scale = (2 - p) / (p - 1), phi * (p - 1) * mu ** (p - 1)
    j = np.arange(1, J + 1)[:, None]
    terms = st.poisson.logpmf(j, lam) + st.gamma.logpdf(np.maximum(y, 1e-300), j * shape,
                                                          scale=scale)
    return np.where(y > 0, scipy.special.logsumexp(terms, axis=0), -lam)


def _bound(cls, link=None):
    """The family; an ordinal one bound to four categories (as a model's response binds it)."""
    if cls is bg.families.Cumulative:
        return cls(link, levels=(0, 1, 2, 3))
    return cls(link)


def _ordinal_cdf(link):
    return {"logit": st.logistic.cdf, "probit": st.norm.cdf,
            "cloglog": lambda x: -np.expm1(-np.exp(x))}[link.name]


def _ordinal_probs(link, eta, cuts):
    cum = _ordinal_cdf(link)(cuts[None, :] - eta[:, None])
    return np.diff(np.column_stack([np.zeros(len(eta)), cum, np.ones(len(eta))]), axis=1)


def _cases():
    rng = np.random.default_rng(3)
    out = []
    for name, cls in EXACT.items():
        for link_cls in cls.links:
            fam = _bound(cls, link_cls())
            out.append(pytest.param(fam, id=f"{name}-{link_cls.name}"))
    return out, rng


FAMILY_CASES, _ = _cases()

ORDINAL_LEVELS = (0, 1, 2, 3)
ORDINAL_CUTS = np.array([-1.0, 0.2, 1.5])


def _sample_rows(fam, rng, n=40):
    if isinstance(fam, bg.families.Cumulative):  # "mu" is eta: the family's mean is not
        eta = rng.normal(0, 2, n)
        extra = {"cutpoints": ORDINAL_CUTS}
        return fam.draw_rows(rng, eta, extra), eta, extra, None
    if fam.domain.upper == 1.0:
        mu = rng.uniform(0.05, 0.95, n)
    elif isinstance(fam.link, L.Log):
        mu = rng.uniform(0.5, 5.0, n)
    else:
        mu = rng.normal(0, 3, n)
    if isinstance(fam, bg.families.Beta):
        extra = {"phi": 7.3}
        y, trials = rng.beta(mu * 7.3, (1 - mu) * 7.3), None
    elif isinstance(fam, bg.families.StudentT):
        extra = {"sigma": 1.7, "nu": 3.4}
        y, trials = mu + 1.7 * rng.standard_t(3.4, n), None
    elif isinstance(fam, bg.families.Tweedie):
        extra, trials = {"phi": 1.3, "power": 1.4}, None
        y = fam.draw_rows(rng, np.log(mu), extra)
    elif isinstance(fam, ZERO_FAMILIES):
        extra, trials = {fam.zero_name: 0.3}, None
        if fam.negbin:
            extra["alpha"] = 0.6
        y = fam.draw_rows(rng, np.log(mu), extra)
    else:
        extra = {"phi": 2.2}
        trials = rng.integers(1, 40, n).astype(float)
        y = rng.binomial(trials.astype(int), rng.beta(mu * 2.2, (1 - mu) * 2.2)) / trials
    return y, mu, extra, trials


@pytest.mark.parametrize("fam", FAMILY_CASES)
def test_loglike_is_scipys_density(fam):
    y, mu, extra, trials = _sample_rows(fam, np.random.default_rng(11))
    eta = jnp.asarray(mu) if isinstance(fam, bg.families.Cumulative) else fam.link.link(
        jnp.asarray(mu))
    got = fam.loglike(jnp.asarray(y), eta, {k: jnp.asarray(v) for k, v in extra.items()},
                      None if trials is None else jnp.asarray(trials))
    mu = np.asarray(eta) if isinstance(fam, bg.families.Cumulative) else np.asarray(
        fam.link.inverse(eta))
    want = _scipy_logpdf(fam, y, mu, extra, trials)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("name, cls", list(EXACT.items()), ids=list(EXACT))
def test_draws_have_the_familys_mean_and_variance(name, cls):
    """draw_rows at fixed extra parameters: 40,000 draws per row, the mean within 5 SE (false
    failure < 1e-6 per entry), the variance within 6%."""
    fam = _bound(cls)
    rng = np.random.default_rng(5)
    if isinstance(fam, bg.families.Cumulative):  # the codes' mean and variance
        eta0 = np.array([-1.5, 0.0, 2.0])
        P = _ordinal_probs(fam.link, eta0, ORDINAL_CUTS)
        k = np.arange(4)
        mu, extra, trials = P @ k, {"cutpoints": ORDINAL_CUTS}, None
        var = P @ k**2 - mu**2
    elif isinstance(fam, bg.families.Beta):
        mu, extra, trials = np.array([0.2, 0.5, 0.9]), {"phi": 4.0}, None
        var = mu * (1 - mu) / (1 + 4.0)
    elif isinstance(fam, bg.families.StudentT):
        mu, extra, trials = np.array([-1.0, 0.0, 3.0]), {"sigma": 2.0, "nu": 6.0}, None
        var = np.full(3, 4.0 * 6.0 / 4.0)
    elif isinstance(fam, bg.families.Tweedie):
        mu, extra, trials = np.array([0.3, 1.0, 6.0]), {"phi": 1.7, "power": 1.3}, None
        var = 1.7 * mu**1.3
    elif isinstance(fam, ZERO_FAMILIES):  # the moments of scipy's pmf, summed to k = 400
        rate = np.array([0.3, 1.0, 6.0])
        extra, trials = {fam.zero_name: 0.25}, None
        if fam.negbin:
            extra["alpha"] = 0.5
        k = np.arange(401)[:, None]
        P = _zero_pmf(fam, k, rate[None, :], 0.25, extra.get("alpha"))
        mu, var = (k * P).sum(0), (k**2 * P).sum(0) - (k * P).sum(0) ** 2
        eta0 = np.log(rate)
    else:
        mu, extra, trials = np.array([0.2, 0.5, 0.9]), {"phi": 3.0}, np.array([4.0, 10.0, 25.0])
        var = mu * (1 - mu) * (1 + (trials - 1) / (3.0 + 1)) / trials  # of the proportion
    eta = eta0 if isinstance(fam, (bg.families.Cumulative, *ZERO_FAMILIES)) else np.asarray(
        fam.link.link(jnp.asarray(mu)))
    np.testing.assert_allclose(np.asarray(fam.mean(jnp.asarray(eta), extra)), mu, rtol=1e-10)
    eta = np.tile(eta, (40_000, 1))  # one call: 40,000 draws of each row
    draws = fam.from_observed(fam.draw_rows(rng, eta, extra, trials), trials)
    np.testing.assert_array_less(np.abs(draws.mean(0) - mu), 5 * np.sqrt(var / len(draws)))
    np.testing.assert_allclose(draws.var(0), var, rtol=0.06)


# ---------------------------------------------------------------------------------------------
# the maximum-likelihood fit against SciPy's optimiser on the same likelihood


ZERO_NAMES = tuple(c.name for c in ZERO_FAMILIES)


def _data(name, seed=0, n=150):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    df = pd.DataFrame({"x1": x1, "x2": x2})
    eta = 0.3 + 0.5 * x1 - 0.4 * x2
    if name == "beta":
        mu = 1 / (1 + np.exp(-eta))
        df["y"] = rng.beta(mu * 9, (1 - mu) * 9)
    elif name == "student_t":
        df["y"] = eta + 1.3 * rng.standard_t(4, n)
    elif name == "tweedie":
        df["y"] = bg.families.Tweedie().draw_rows(rng, eta, {"phi": 1.2, "power": 1.6})
    elif name in ZERO_NAMES:
        fam = bg.families.get_family(name)
        extra = {fam.zero_name: 0.35, **({"alpha": 0.5} if fam.negbin else {})}
        df["y"] = fam.draw_rows(rng, eta, extra).astype(int)
    elif name == "cumulative":  # no intercept: the cutpoints are the intercepts
        fam = bg.families.Cumulative(levels=ORDINAL_LEVELS)
        df["y"] = fam.draw_rows(rng, eta - 0.3, {"cutpoints": ORDINAL_CUTS}).astype(int)
    else:
        mu = 1 / (1 + np.exp(-eta))
        df["n"] = rng.integers(2, 25, n)
        df["y"] = rng.binomial(df["n"], rng.beta(mu * 4, (1 - mu) * 4))
    return df


def _model(name, df, **kw):
    trials = "n" if name == "beta_binomial" else None
    return bg.glm("y ~ x1 + x2", df, family=name, trials=trials, **kw)


@pytest.fixture(scope="module")
def fits():
    return {name: (_data(name), _model(name, _data(name)).fit_mle()) for name in EXACT}


def _scipy_objective(name, df):
    """-log L(beta, log extras) written with scipy.stats (the check's own likelihood)."""
    X = np.column_stack([np.ones(len(df)), df["x1"], df["x2"]])
    y = df["y"].to_numpy(float)

    def f(th):
        beta = th[:3]
        eta = X @ beta
        if name == "beta":
            mu, phi = 1 / (1 + np.exp(-eta)), np.exp(th[3])
            return -np.sum(st.beta.logpdf(y, mu * phi, (1 - mu) * phi))
        if name == "student_t":
            return -np.sum(st.t.logpdf(y, np.exp(th[4]), loc=eta, scale=np.exp(th[3])))
        if name == "tweedie":  # (log phi, logit(power - 1))
            return -np.sum(_tweedie_brute(y, np.exp(eta), np.exp(th[3]),
                                          1 + scipy.special.expit(th[4])))
        if name in ZERO_NAMES:  # (logit of the zero probability, log alpha)
            fam = bg.families.get_family(name)
            alpha = np.exp(th[4]) if fam.negbin else None
            return -np.sum(np.log(_zero_pmf(fam, y, np.exp(eta), scipy.special.expit(th[3]),
                                            alpha)))
        mu, phi = 1 / (1 + np.exp(-eta)), np.exp(th[3])
        return -np.sum(st.betabinom.logpmf(y, df["n"], mu * phi, (1 - mu) * phi))
    return f


def _fd_hessian(f, x, h=1e-4):
    k = x.size
    H = np.zeros((k, k))
    E = np.eye(k) * h
    for i in range(k):
        for j in range(i, k):
            H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j])
                                 + f(x - E[i] - E[j])) / (4 * h * h)
    return H


@pytest.mark.parametrize("name", [k for k in EXACT if k != "cumulative"])
def test_mle_is_scipys_optimum_with_observed_information_ses(name, fits):
    """The Newton fit against SciPy's BFGS (then Nelder-Mead polish) on a likelihood written with
    scipy.stats: estimates within 1e-5 (BFGS's own precision); the standard errors (the
    inverse of a finite-difference Hessian of SciPy's likelihood at bayesglm's estimate, in
    (beta, log extras), mapped by the delta method) within 1e-5 relative; the log-likelihood the
    same to 1e-9 relative."""
    df, mle = fits[name]
    f = _scipy_objective(name, df)
    extras = [q.name for q in mle.family.extra_params()]
    v = mle.params[extras].to_numpy()
    # the unconstrained coordinates: log of the positive ones, logit(power - 1) (Tweedie)
    # (logit of a probability: zi, hu)
    u = np.array([scipy.special.logit(x - 1) if q == "power" else scipy.special.logit(x)
                  if q in ("zi", "hu") else np.log(x) for q, x in zip(extras, v)])
    dv = np.array([(x - 1) * (2 - x) if q == "power" else x * (1 - x) if q in ("zi", "hu")
                   else x for q, x in zip(extras, v)])
    theta_hat = np.concatenate([mle.params.iloc[:3].to_numpy(), u])
    res = scipy.optimize.minimize(f, theta_hat + 0.05, method="BFGS",
                                  options={"gtol": 1e-9, "maxiter": 2000})
    np.testing.assert_allclose(res.x, theta_hat, atol=1e-5)
    assert mle.llf == pytest.approx(-f(theta_hat), rel=1e-9)
    assert -f(theta_hat) >= -res.fun - 1e-9  # bayesglm's optimum is at least as high
    cov_u = np.linalg.inv(_fd_hessian(f, theta_hat))
    J = np.diag(np.concatenate([np.ones(3), dv]))
    se = np.sqrt(np.diag(J @ cov_u @ J.T))
    np.testing.assert_allclose(mle.bse.to_numpy(), se, rtol=1e-5)
    assert mle.converged and mle.max_grad < 1e-6
    for q in extras:  # attributes by name, as the DESIGN fixes
        assert getattr(mle, q) == mle.params[q] and getattr(mle, f"{q}_se") == mle.bse[q]


@pytest.mark.parametrize("name", list(EXACT))
def test_frequency_weights_are_expanded_rows(name):
    df = _data(name, seed=4, n=60)
    w = np.tile([3, 2], 30)  # 150 expanded rows: the shape the module's fits compiled for
    df["w"] = w
    a = _model(name, df, weights="w").fit_mle()
    b = _model(name, df.loc[df.index.repeat(w)].reset_index(drop=True)).fit_mle()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-6)
    assert a.llf == pytest.approx(b.llf, rel=1e-10)
    assert a.aic == pytest.approx(b.aic, rel=1e-10) and a.bic == pytest.approx(b.bic, rel=1e-10)


def test_sandwich_hc0_is_bread_meat_bread_of_scipys_scores(fits):
    """HC0 from the rows' scores by finite differences of scipy.stats' per-row density."""
    df, _ = fits["beta"]
    mle = _model("beta", df).fit_mle(cov_type="HC0")
    X = np.column_stack([np.ones(len(df)), df["x1"], df["x2"]])
    y = df["y"].to_numpy()
    th = np.concatenate([mle.params.iloc[:3].to_numpy(), [np.log(mle.phi)]])

    def rows(t):
        mu, phi = 1 / (1 + np.exp(-(X @ t[:3]))), np.exp(t[3])
        return st.beta.logpdf(y, mu * phi, (1 - mu) * phi)

    h = 1e-6
    S = np.column_stack([(rows(th + h * e) - rows(th - h * e)) / (2 * h) for e in np.eye(4)])
    bread = np.linalg.inv(_fd_hessian(lambda t: -np.sum(rows(t)), th))
    cov_u = bread @ (S.T @ S) @ bread
    J = np.diag([1, 1, 1, mle.phi])
    np.testing.assert_allclose(mle.bse.to_numpy(), np.sqrt(np.diag(J @ cov_u @ J)), rtol=1e-4)
    hc1 = _model("beta", df).fit_mle(cov_type="HC1")
    n = len(df)
    np.testing.assert_allclose(hc1.bse, mle.bse * np.sqrt(n / (n - 4)), rtol=1e-10)


def test_results_contract(fits):
    df, mle = fits["student_t"]
    assert list(mle.params.index) == ["Intercept", "x1", "x2", "sigma", "nu"]
    assert np.isnan(mle.zvalues["nu"]) and np.isnan(mle.pvalues["sigma"])
    assert np.isfinite(mle.zvalues["x1"]) and 0 < mle.pvalues["x1"] < 1
    ci = mle.conf_int()
    assert ci.loc["nu", 0] > 0 and ci.loc["nu", 0] < mle.nu < ci.loc["nu", 1]
    assert mle.k_params == 5 and mle.aic == pytest.approx(-2 * mle.llf + 10)
    assert mle.bic == pytest.approx(-2 * mle.llf + np.log(len(df)) * 5)
    np.testing.assert_allclose(mle.mu, mle.predict()["mean"], rtol=1e-12)
    new = mle.predict(df.iloc[:5])
    assert new.shape == (5, 4) and np.all(new["mean_ci_lower"] <= new["mean_ci_upper"])
    text = str(mle.summary())
    assert "StudentT" in text and "nu" in text and "ML (Newton)" in text


# ---------------------------------------------------------------------------------------------
# bad input and hard cases


def test_beta_response_outside_0_1_names_the_value():
    df = _data("beta", n=30)
    df.loc[7, "y"] = 1.0
    with pytest.raises(ValueError, match=r"response 'y': row label 7 .* value 1 outside the beta family's domain \(0, 1\)"):
        _model("beta", df)


def test_beta_binomial_needs_some_row_with_more_than_one_trial():
    df = _data("beta_binomial", n=30)
    df["n"] = 1
    df["y"] = (df["y"] > 0).astype(int)
    with pytest.raises(ValueError, match="trials: every row has one trial"):
        _model("beta_binomial", df)  # when the model is built, before any fitting


def test_underdispersed_counts_send_phi_to_its_limit_with_a_warning():
    df = _data("beta_binomial", n=80)
    mu = 1 / (1 + np.exp(-(0.3 + 0.5 * df["x1"] - 0.4 * df["x2"])))
    df["y"] = np.round(df["n"] * mu)  # less spread than binomial counts
    with pytest.warns(bg.ConvergenceWarning, match="phi runs to infinity"):
        _model("beta_binomial", df).fit_mle()


def _zero_model_data(zeros_in_x1: int):
    rng = np.random.default_rng(1)
    n = 80
    x = np.repeat([0, 1], n // 2)
    y = rng.poisson(np.where(x == 1, 6.0, 2.0)) * (rng.random(n) > np.where(x == 1, 0.0, 0.4))
    y[x == 1] = np.maximum(y[x == 1], 1)  # no zero where x = 1: zi -> 0 there
    y[np.flatnonzero(x == 1)[:zeros_in_x1]] = 0
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=n)})


def test_a_separated_zero_model_is_named_not_sent_to_more_iterations():
    """No zero among the x = 1 rows: the zero model's zi_x runs to -inf and the MLE does not
    exist. IRLS's separation check does not see the zero model; the walk along Newton's last
    moves does (it failed before: 'did not converge ... Increase maxiter'). With a few zeros
    there the MLE exists, is reached, and nothing is said; a finite maximum that maxiter cuts
    short is called unconverged, not separated."""
    family = bg.families.ZeroInflatedPoisson(zi="~ x")
    with pytest.warns(bg.SeparationWarning, match="does not exist.*zi_x to -inf"):
        mle = bg.glm("y ~ z", _zero_model_data(0), family=family).fit_mle()
    assert mle.separated and not mle.converged and mle.params["zi_x"] < -10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mle = bg.glm("y ~ z", _zero_model_data(6), family=family).fit_mle()
    assert mle.converged and not mle.separated and -5 < mle.params["zi_x"] < 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = bg.glm("y ~ z", _zero_model_data(6), family=family).fit_mle(maxiter=2)
    kinds = {type(w.message) for w in caught}
    assert bg.ConvergenceWarning in kinds and bg.SeparationWarning not in kinds
    assert not mle.converged and not mle.separated


def test_cov_type_says_what_there_is(fits):
    df, _ = fits["beta"]
    m = _model("beta", df)
    with pytest.raises(ValueError, match="cov_type.*HC2"):
        m.fit_mle(cov_type="HC2")


def test_newton_converges_from_a_poor_start_and_compiles_once(fits):
    """A second data set of the same shape reuses the compiled Newton programs."""
    from bayesglm.likelihood_mle import _derivatives, _value

    df, _ = fits["beta"]
    before = _derivatives._get()._cache_size(), _value._get()._cache_size()
    other = _data("beta", seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mle = _model("beta", other).fit_mle()
    assert mle.converged
    assert (_derivatives._get()._cache_size(), _value._get()._cache_size()) == before


def test_every_exact_family_is_a_likelihood_family():
    assert set(EXACT) >= {"beta", "student_t", "beta_binomial", "tweedie", "cumulative",
                          *ZERO_NAMES}
    for cls in EXACT.values():
        assert issubclass(cls, LikelihoodFamily) and _bound(cls).extra_params()


def test_tweedie_density_is_finite_at_zero_and_far_out_and_differentiable():
    fam = bg.families.Tweedie()
    y = jnp.asarray([0.0, 1e-10, 1e4, 3.0])
    eta = jnp.log(jnp.asarray([0.5, 2.0, 1.0, 1e3]))
    for phi, p in ((0.01, 1.05), (1.0, 1.5), (50.0, 1.95)):
        ll = fam.loglike(y, eta, {"phi": jnp.asarray(phi), "power": jnp.asarray(p)})
        assert np.all(np.isfinite(np.asarray(ll))), (phi, p, ll)
        g = jax.grad(lambda e, ph, pw: jnp.sum(fam.loglike(y, e, {"phi": ph, "power": pw})),
                     argnums=(0, 1, 2))(eta, jnp.asarray(phi), jnp.asarray(p))
        assert all(np.all(np.isfinite(np.asarray(a))) for a in g), (phi, p, g)


def test_tweedie_with_a_fixed_power_estimates_phi_only():
    df = _data("tweedie", n=150)
    mle = bg.glm("y ~ x1 + x2", df, family=bg.families.Tweedie(power=1.6)).fit_mle()
    assert list(mle.params.index) == ["Intercept", "x1", "x2", "phi"]
    assert mle.k_params == 4 and mle.extra["power"] == 1.6
    full = _model("tweedie", df).fit_mle()
    assert full.llf >= mle.llf  # the power's maximum is at least as high
    assert bg.families.from_spec(bg.families.Tweedie(power=1.6).spec()) == \
        bg.families.Tweedie(power=1.6)
    with pytest.raises(ValueError, match=r"Tweedie: power must be a number in \(1, 2\)"):
        bg.families.Tweedie(power=2.0)


# ---------------------------------------------------------------------------------------------
# ordinal


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_cumulative_against_statsmodels_ordered_model(link, fits):
    """statsmodels' OrderedModel (its own likelihood, BFGS then Newton; thresholds as the first
    plus exp increments, P(Y <= k) = F(cut_k - x'beta) as here): estimates within 1e-5 and SEs
    (its numerical Hessian) within 1e-4 relative; the log-likelihood to 1e-8 relative."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    df, _ = fits["cumulative"]
    mle = bg.glm("y ~ x1 + x2", df, family=bg.families.Cumulative(link)).fit_mle()
    sm = OrderedModel(df["y"].to_numpy(), df[["x1", "x2"]].to_numpy(),
                      distr={"logit": "logit", "probit": "probit"}[link])
    res = sm.fit(method="bfgs", disp=False, maxiter=2000, gtol=1e-10)
    res = sm.fit(method="newton", start_params=res.params, disp=False, maxiter=100)
    cuts = sm.transform_threshold_params(res.params)[1:-1]
    np.testing.assert_allclose(mle.params.to_numpy(), np.concatenate([res.params[:2], cuts]),
                               atol=1e-5)
    np.testing.assert_allclose(mle.bse.iloc[:2].to_numpy(), res.bse[:2], rtol=1e-4)
    assert mle.llf == pytest.approx(res.llf, rel=1e-8)
    assert list(mle.params.index) == ["x1", "x2", "cutpoints[1]", "cutpoints[2]",
                                      "cutpoints[3]"]


def test_ordinal_response_encodings_and_their_errors():
    df = _data("cumulative", n=60)
    # integers: the sorted values are the categories (here 2, 4, 6, 8)
    df2 = df.assign(y=2 * df["y"] + 2)
    a = bg.glm("y ~ x1 + x2", df, family="cumulative").fit_mle()
    b = bg.glm("y ~ x1 + x2", df2, family="ordinal").fit_mle()
    assert b.family.levels == (2, 4, 6, 8) and b.llf == pytest.approx(a.llf, rel=1e-12)
    # an ordered categorical: its categories' order
    lab = pd.Categorical.from_codes(df["y"], ["lo", "mid", "hi", "top"], ordered=True)
    c = bg.glm("y ~ x1 + x2", df.assign(y=lab), family="cumulative").fit_mle()
    assert c.family.levels == ("lo", "mid", "hi", "top") and c.llf == pytest.approx(a.llf)
    assert "Categories, in order: lo < mid < hi < top" in str(c.summary())
    with pytest.raises(TypeError, match="response 'y': the categorical response is not ordered"):
        bg.glm("y ~ x1", df.assign(y=pd.Categorical(lab, ordered=False)), family="cumulative")
    with pytest.raises(TypeError, match="response 'y': an ordinal response must be an ordered"):
        bg.glm("y ~ x1", df.assign(y=np.asarray(lab).astype(str)), family="cumulative")
    with pytest.raises(ValueError, match="response 'y': row label 3 has 0.5, not an integer"):
        bg.glm("y ~ x1", df.assign(y=df["y"].where(df.index != 3, 0.5)), family="cumulative")
    with pytest.raises(ValueError, match="columns add up to a constant"):
        bg.glm("y ~ 0 + C(g)", df.assign(g=np.arange(60) % 3), family="cumulative")
    X = np.column_stack([np.ones(60), df["x1"]])
    with pytest.raises(ValueError, match="columns add up to a constant"):
        bg.GLM(df["y"].to_numpy(), X, family="cumulative")
    empty = pd.Categorical.from_codes(df["y"], ["lo", "mid", "hi", "top"], ordered=True)
    empty = empty.add_categories("never").reorder_categories(
        ["lo", "never", "mid", "hi", "top"], ordered=True)
    with pytest.raises(ValueError, match="category 'never' .* has no rows"):
        bg.glm("y ~ x1", df.assign(y=empty), family="cumulative")


# ---------------------------------------------------------------------------------------------
# zero parts


def test_modelled_zero_part_names_predictions_and_errors():
    df = _data("zero_inflated_poisson", n=150).assign(z=lambda d: d["x1"] > 0)
    fam = bg.families.ZeroInflatedPoisson(zi="~ x2 + z")
    mle = bg.glm("y ~ x1 + x2", df, family=fam).fit_mle()
    assert list(mle.params.index) == ["Intercept", "x1", "x2", "zi_Intercept", "zi_x2",
                                      "zi_z"]
    assert mle.family.zero_names == ("Intercept", "x2", "z")
    # the zero model is re-applied to new rows: the fitted rows again give the fitted means
    pr = mle.predict(df.iloc[:10])
    np.testing.assert_allclose(pr["mean"], mle.mu.iloc[:10], rtol=1e-12)
    assert np.all((pr["mean_ci_lower"] < pr["mean"]) & (pr["mean"] < pr["mean_ci_upper"]))
    # E[y] = (1 - zi) mu, computed here from the parameters
    p = mle.params
    mu = np.exp(p["Intercept"] + p["x1"] * df["x1"] + p["x2"] * df["x2"])
    zi = 1 / (1 + np.exp(-(p["zi_Intercept"] + p["zi_x2"] * df["x2"] + p["zi_z"] * df["z"])))
    np.testing.assert_allclose(mle.mu, (1 - zi) * mu, rtol=1e-10)
    # a constant zero part: the mean is (1 - zi) mu too, not exp(eta)
    const = bg.glm("y ~ x1 + x2", df, family="zip").fit_mle()
    eta = const.predict(df.iloc[:5], linear=True)["mean"]
    np.testing.assert_allclose(const.predict(df.iloc[:5])["mean"],
                               (1 - const.zi) * np.exp(eta), rtol=1e-12)
    with pytest.raises(ValueError, match="the zi model '~ x2' is a formula, which needs the "
                                         "formula interface"):
        bg.GLM(df["y"].to_numpy(), np.column_stack([np.ones(150), df["x1"]]),
               family=bg.families.ZeroInflatedPoisson(zi="~ x2"))
    with pytest.raises(ValueError, match="zi must be None .* or a one-sided formula"):
        bg.families.ZeroInflatedPoisson(zi="x2")
    with pytest.raises(Exception, match="column 'nope' is not in the data"):
        bg.glm("y ~ x1", df, family=bg.families.ZeroInflatedPoisson(zi="~ nope"))


def test_missing_values_in_the_zero_model_drop_those_rows():
    df = _data("hurdle_poisson", n=150)
    df["w"] = df["x2"].where(df.index % 10 != 0)  # 15 missing, used only by the zero model
    fam = bg.families.HurdlePoisson(hu="~ w")
    with pytest.warns(bg.MissingDataWarning, match="15"):
        mle = bg.glm("y ~ x1", df, family=fam, missing="drop").fit_mle()
    assert mle.nobs == 135
    with pytest.raises(ValueError, match="missing"):
        bg.glm("y ~ x1", df, family=fam)


def test_fixed_alpha_and_spec_round_trip():
    df = _data("zero_inflated_negative_binomial", n=150)
    fam = bg.families.ZeroInflatedNegativeBinomial(alpha=0.5)
    mle = bg.glm("y ~ x1 + x2", df, family=fam).fit_mle()
    assert "alpha" not in mle.params.index and mle.extra["alpha"] == 0.5
    for f in (fam, bg.families.HurdleNegativeBinomial(hu="~ x1", zero_names=("Intercept", "x1")),
              bg.families.ZeroInflatedPoisson(zi="~ x2", zero_names=("Intercept", "x2"))):
        assert bg.families.from_spec(f.spec()) == f


def test_poisson_counts_send_the_hurdle_nb_alpha_to_zero_with_a_warning():
    df = _data("hurdle_poisson", n=150)  # zero-truncated Poisson counts: no overdispersion
    with pytest.warns(bg.ConvergenceWarning, match="alpha runs to 0: .* hurdle Poisson"):
        bg.glm("y ~ x1 + x2", df, family="hurdle_negative_binomial").fit_mle()
