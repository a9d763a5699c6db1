"""The maximum-likelihood fit (``GLM.fit_mle``): equivalences, robust covariances, hard cases.

What is checked against what
----------------------------
* IRLS against a generic optimizer (scipy's ``trust-exact`` on the negative log-likelihood built
  from ``family.loglike_obs``, with JAX's gradient and a numerical Hessian, polished by Newton
  steps on that *observed* information -- IRLS uses the expected one), for six family/link pairs.
* The model-based covariance against the inverse numerical Hessian of that likelihood for
  canonical links (where observed and expected information coincide).
* Exposure vs offset, frequency weights vs replicated rows, the three binomial response forms vs
  each other and vs the expanded Bernoulli data, Gaussian identity vs least squares/OLS.
* Sandwich covariances against statsmodels (GLM HC0; OLS HC0-HC3) and against a direct NumPy
  implementation of R's ``sandwich::vcovHC`` for a ``glm`` (statsmodels' GLM HC1-HC3 are wrong,
  statsmodels issue #7798, so they are not used).
* Separation, rank deficiency, non-convergence, step-halving; NegativeBinomial's alpha; the
  results API against statsmodels; compile counts of the jit-compiled IRLS.

Conventions: bayesglm's ``llf``/``aic``/``bic`` are R's (dispersion at deviance/n, counted as a
parameter); statsmodels' GLM ``llf`` uses the Pearson scale and its ``aic`` does not count the
dispersion. Written next to each assertion where it matters.

Run time: JAX compiles ``irls`` once per (family, link, shape, offset/weights present), ~2-4 s on
2 cores, so the data sets share shapes: N = 400 rows and 3 columns wherever possible.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import minimize

import bayesglm as bg
from bayesglm import families as F


# this module's own JAX computations (references, direct calls of links and families) in
# float64: bayesglm no longer switches JAX's global setting (conftest.jax_float64)
pytestmark = pytest.mark.usefixtures("jax_float64")


N = 400  # rows of every (N, 3) design, so that IRLS compiles once per family/link
BETA = np.array([0.5, 0.3, -0.4])
Z975 = stats.norm.ppf(0.975)
# bse come from the X'WX of the *last* IRLS step, i.e. at the mean before the final update (R's
# and statsmodels' convention), which is ~1e-4 relative away from X'WX at the MLE after R's
# stopping rule (tol=1e-8). Where a covariance is compared with one evaluated at the exact MLE
# (an inverse Hessian, a sandwich written out here) or with a fit that took another path
# (statsmodels, expanded data), both fits use this tolerance, which leaves ~1e-8 of that.
TIGHT = 1e-12


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _design(seed, n=N):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, size=n)])
    return rng, X


def _nb_draw(rng, mu, alpha):
    theta = 1.0 / alpha
    return rng.negative_binomial(theta, theta / (theta + mu)).astype(float)


def _negloglike(family, X, y, dispersion=1.0, offset=None):
    """The negative log-likelihood of beta from ``family.loglike_obs`` (pure JAX)."""
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    off = 0.0 if offset is None else jnp.asarray(offset)

    def nll(beta):
        mu = family.link.inverse(Xj @ beta + off)
        return -jnp.sum(family.loglike_obs(yj, mu, dispersion))

    return nll


def _derivatives(nll):
    """x -> (value, gradient, Hessian) of ``nll``, as NumPy.

    Value and gradient from one jit-compiled ``jax.value_and_grad``; the Hessian numerically,
    by central differences of that exact gradient (compiling JAX's Hessian of the log densities
    costs seconds, more than everything else these small problems need).
    """
    value_and_grad = jax.jit(jax.value_and_grad(nll))

    def vg(x):
        v, g = value_and_grad(jnp.asarray(x, float))
        return float(v), np.asarray(g)

    def hessian(x):
        x = np.asarray(x, float)
        H = np.empty((len(x), len(x)))
        for j in range(len(x)):
            h = 1e-5 * max(1.0, abs(x[j]))
            e = np.zeros(len(x))
            e[j] = h
            H[:, j] = (vg(x + e)[1] - vg(x - e)[1]) / (2 * h)
        return (H + H.T) / 2

    def derivs(x):
        return (*vg(x), hessian(x))

    derivs.vg, derivs.hessian = vg, hessian
    return derivs


def _optimize(nll, x0):
    """Minimise ``nll`` by scipy's trust-exact, then polish by Newton steps.

    Returns (x, gradient at x, Hessian at x).
    """
    derivs = _derivatives(nll)
    res = minimize(derivs.vg, np.asarray(x0, float), jac=True, hess=derivs.hessian,
                   method="trust-exact", options={"gtol": 1e-9})
    x = res.x
    for _ in range(3):  # full Newton steps on the observed information: quadratic convergence
        _, g, H = derivs(x)
        x = x - np.linalg.solve(H, g)
    return (x, *derivs(x)[1:])


def _start(family, y):
    x0 = np.zeros(3)
    x0[0] = float(family.link.link(jnp.asarray(np.clip(np.mean(y), 0.05, None))))
    return x0


# ---------------------------------------------------------------------------------------------
# 1a. IRLS == a generic optimizer on the same likelihood
# ---------------------------------------------------------------------------------------------


def _simulate(case):
    """(family, y, X, dispersion for the optimizer's likelihood) of one optimizer case."""
    seed = 11 + OPT_CASES.index(case)
    rng, X = _design(seed)
    eta = X @ BETA
    mu = np.exp(eta)
    if case == "poisson-log":
        return F.Poisson(), rng.poisson(mu).astype(float), X, 1.0
    if case == "binomial-probit":
        y = (rng.uniform(size=N) < stats.norm.cdf(eta)).astype(float)
        return F.Binomial("probit"), y, X, 1.0
    if case == "gamma-log":
        return F.Gamma("log"), rng.gamma(2.0, mu / 2.0), X, 1.0
    if case == "inverse_gaussian-log":
        return F.InverseGaussian("log"), rng.wald(mu, 4.0), X, 1.0
    if case == "negative_binomial-log-alpha0.7":
        return F.NegativeBinomial(alpha=0.7), _nb_draw(rng, mu, 0.7), X, 0.7
    if case == "gaussian-log":
        return F.Gaussian("log"), mu + rng.normal(scale=0.3, size=N), X, 1.0
    raise AssertionError(case)


OPT_CASES = [
    "poisson-log",
    "binomial-probit",
    "gamma-log",
    "inverse_gaussian-log",
    "negative_binomial-log-alpha0.7",
    "gaussian-log",
]


@pytest.fixture(scope="module")
def poisson_data():
    _, y, X, _ = _simulate("poisson-log")
    return y, X


@pytest.fixture(scope="module")
def poisson_fit(poisson_data):
    y, X = poisson_data
    return bg.GLM(y, X, family="poisson").fit_mle()


@pytest.mark.parametrize("case", OPT_CASES)
def test_irls_equals_generic_optimizer(case):
    family, y, X, dispersion = _simulate(case)
    # The dispersion of Gaussian/Gamma/inverse Gaussian does not move the MLE of beta, so the
    # optimizer's likelihood uses 1; NegativeBinomial's alpha is the fixed one of the family.
    x_opt, grad, _ = _optimize(_negloglike(family, X, y, dispersion), _start(family, y))
    assert np.max(np.abs(grad)) < 1e-6, "the reference optimizer did not converge"

    # default tol (R's epsilon = 1e-8 on the relative deviance change): IRLS is Fisher scoring,
    # linearly convergent for non-canonical links, so it stops a little short of the optimum
    # (inverse Gaussian-log: ~1e-4 standard errors); statistically negligible:
    default = bg.GLM(y, X, family=family).fit_mle()
    assert default.converged
    np.testing.assert_array_less(np.abs(default.params.to_numpy() - x_opt),
                                 1e-3 * default.bse.to_numpy())
    # with a tight tolerance the two agree to ~1e-6 relative
    tight = bg.GLM(y, X, family=family).fit_mle(tol=1e-12)
    assert tight.converged
    np.testing.assert_allclose(tight.params.to_numpy(), x_opt, rtol=1e-6, atol=1e-9)


def test_poisson_cov_is_inverse_hessian(poisson_data):
    """Canonical link: observed information == expected information X'WX."""
    y, X = poisson_data
    _, _, H = _optimize(_negloglike(F.Poisson(), X, y), _start(F.Poisson(), y))
    mle = bg.GLM(y, X, family="poisson").fit_mle(tol=TIGHT)
    np.testing.assert_allclose(mle.cov_params().to_numpy(), np.linalg.inv(H), rtol=1e-6)


def test_logistic_cov_is_inverse_hessian(logit_data):
    y, X = logit_data
    _, _, H = _optimize(_negloglike(F.Binomial(), X, y), np.zeros(3))
    mle = bg.GLM(y, X, family="binomial").fit_mle(tol=TIGHT)
    np.testing.assert_allclose(mle.cov_params().to_numpy(), np.linalg.inv(H), rtol=1e-6)


def test_gamma_inverse_cov_is_scale_times_inverse_hessian(gamma_inv_data):
    """Gamma with its canonical (inverse) link: cov = scale * inverse Hessian at dispersion 1,
    scale = Pearson chi2 / df_resid (statsmodels' and R's summary.glm convention)."""
    y, X = gamma_inv_data
    mle = bg.GLM(y, X, family="gamma").fit_mle(tol=TIGHT)
    _, _, H = _derivatives(_negloglike(F.Gamma(), X, y))(mle.params.to_numpy())
    np.testing.assert_allclose(mle.cov_params().to_numpy() / mle.scale, np.linalg.inv(H),
                               rtol=1e-6)
    mu = mle.mu.to_numpy()
    assert mle.scale == pytest.approx(np.sum((y - mu) ** 2 / mu**2) / (len(y) - 2), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# 1b. offset = log(exposure) == exposure
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exposure_data():
    rng, X = _design(101)
    exposure = rng.uniform(0.5, 3.0, size=N)
    y = rng.poisson(exposure * np.exp(X @ BETA)).astype(float)
    return y, X, exposure


@pytest.fixture(scope="module")
def exposure_fit(exposure_data):
    y, X, e = exposure_data
    return bg.GLM(y, X, family="poisson", exposure=e).fit_mle()


def test_exposure_equals_log_offset(exposure_data, exposure_fit):
    y, X, e = exposure_data
    off = bg.GLM(y, X, family="poisson", offset=np.log(e)).fit_mle()
    for attr in ("params", "bse"):
        np.testing.assert_allclose(getattr(off, attr), getattr(exposure_fit, attr), rtol=1e-12)
    for attr in ("llf", "deviance", "aic", "pearson_chi2", "null_deviance"):
        assert getattr(off, attr) == pytest.approx(getattr(exposure_fit, attr), rel=1e-12), attr
    # and the exposure really enters: without it the fit differs
    plain = bg.GLM(y, X, family="poisson").fit_mle()
    assert abs(plain.params.iloc[0] - exposure_fit.params.iloc[0]) > 0.1


# ---------------------------------------------------------------------------------------------
# 1c. Gaussian identity == least squares
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ols_data():
    rng, X = _design(202)
    # heteroskedastic errors so that HC0..HC3 differ from the model-based covariance
    y = X @ np.array([1.0, 2.0, -0.5]) + rng.normal(size=N) * (0.5 + np.abs(X[:, 1]))
    return y, X


@pytest.fixture(scope="module")
def ols_fit(ols_data):
    y, X = ols_data
    return bg.GLM(y, X, family="gaussian").fit_mle()


def test_gaussian_identity_is_least_squares(ols_data, ols_fit):
    y, X = ols_data
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(ols_fit.params, beta, rtol=1e-10)
    ols = sm.OLS(y, X).fit()
    np.testing.assert_allclose(ols_fit.bse, ols.bse, rtol=1e-10)
    assert ols_fit.deviance == pytest.approx(rss[0], rel=1e-10)
    assert ols_fit.scale == pytest.approx(ols.scale, rel=1e-10)
    # R's logLik for gaussian uses sigma^2 = RSS / n, as statsmodels' OLS llf does
    assert ols_fit.llf == pytest.approx(ols.llf, rel=1e-10)
    # AIC counts sigma as a parameter (R); OLS's aic does not: it is 2 smaller
    assert ols_fit.aic == pytest.approx(ols.aic + 2, rel=1e-10)
    # one WLS solve reaches the optimum; the second iteration sees the deviance unchanged
    # (R's glm reports "Number of Fisher Scoring iterations: 2")
    assert ols_fit.converged and ols_fit.n_iter <= 2


# ---------------------------------------------------------------------------------------------
# 1d. frequency weights == replicated rows
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["poisson", "gamma-log"])
def test_frequency_weights_equal_replicated_rows(family):
    rng, X = _design(303, n=160)
    w = rng.permutation(np.tile([1.0, 2.0, 3.0, 4.0], 40))  # sum(w) == N: shapes are shared
    assert w.sum() == N
    mu = np.exp(X @ BETA)
    if family == "poisson":
        fam, y = F.Poisson(), rng.poisson(mu).astype(float)
    else:
        fam, y = F.Gamma("log"), rng.gamma(2.0, mu / 2.0)
    weighted = bg.GLM(y, X, family=fam, weights=w).fit_mle()
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    replicated = bg.GLM(y[idx], X[idx], family=fam).fit_mle()
    np.testing.assert_allclose(weighted.params, replicated.params, rtol=1e-9)
    np.testing.assert_allclose(weighted.bse, replicated.bse, rtol=1e-9)
    for attr in ("deviance", "llf", "aic", "bic", "scale", "pearson_chi2", "df_resid",
                 "null_deviance"):
        assert getattr(weighted, attr) == pytest.approx(getattr(replicated, attr), rel=1e-9), attr
    # nobs is the number of rows, as statsmodels' GLM with freq_weights
    assert weighted.nobs == 160 and replicated.nobs == N
    assert weighted.df_resid == N - 3


# ---------------------------------------------------------------------------------------------
# 1e. binomial: counts + trials == proportions + trials == [successes, failures] == Bernoulli
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grouped_binomial():
    rng, X = _design(404, n=40)
    trials = rng.permutation(np.repeat([5.0, 10.0, 15.0], [13, 14, 13]))
    assert trials.sum() == N  # the expanded Bernoulli data have the shared (N, 3) shape
    k = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-(X @ BETA)))).astype(float)
    return k, trials, X


def test_binomial_response_forms_agree(grouped_binomial):
    k, t, X = grouped_binomial
    counts = bg.GLM(k, X, family="binomial", trials=t).fit_mle()
    props = bg.GLM(k / t, X, family="binomial", trials=t).fit_mle()
    twocol = bg.GLM(np.column_stack([k, t - k]), X, family="binomial").fit_mle()
    for other in (props, twocol):
        np.testing.assert_allclose(other.params, counts.params, rtol=1e-12)
        np.testing.assert_allclose(other.bse, counts.bse, rtol=1e-12)
        for attr in ("deviance", "llf", "null_deviance", "pearson_chi2", "df_resid"):
            assert getattr(other, attr) == pytest.approx(getattr(counts, attr), rel=1e-12), attr
    # statsmodels (2-column endog) agrees; its llf includes the binomial coefficient, as R's.
    # (Fits reached along different IRLS paths: both at TIGHT, see its comment.)
    tight = bg.GLM(k, X, family="binomial", trials=t).fit_mle(tol=TIGHT)
    ref = sm.GLM(np.column_stack([k, t - k]), X, family=sm.families.Binomial()).fit(tol=TIGHT)
    np.testing.assert_allclose(tight.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(tight.bse, ref.bse, rtol=1e-7)
    assert counts.deviance == pytest.approx(ref.deviance, rel=1e-8)
    assert counts.llf == pytest.approx(ref.llf, rel=1e-8)

    # the expanded 0/1 data give the same coefficients and standard errors (not the same
    # deviance or llf: those differ by the saturated model and the binomial coefficients)
    idx = np.repeat(np.arange(len(k)), t.astype(int))
    within = np.concatenate([np.arange(int(ti)) for ti in t])
    y01 = (within < k[idx]).astype(float)
    bern = bg.GLM(y01, X[idx], family="binomial").fit_mle(tol=TIGHT)
    np.testing.assert_allclose(bern.params, tight.params, rtol=1e-9)
    # bse from the last step's X'WX: its error is ~ the step before the last, ~sqrt(tol) (the
    # expanded data stop after 4 Newton steps at tol=1e-12: bse 2.7e-7 relative off)
    np.testing.assert_allclose(bern.bse, tight.bse, rtol=1e-6)
    log_comb = np.sum(stats.binom.logpmf(k, t, 0.5) - (t * np.log(0.5)))
    assert bern.llf == pytest.approx(counts.llf - log_comb, rel=1e-8)


# ---------------------------------------------------------------------------------------------
# 2. robust covariances
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logit_data():
    rng, X = _design(505)
    y = (rng.uniform(size=N) < 1 / (1 + np.exp(-(X @ np.array([0.2, 1.0, -1.5]))))).astype(float)
    return y, X


@pytest.mark.parametrize("which", ["poisson", "logit"])
def test_hc0_equals_statsmodels_glm(which, poisson_data, logit_data):
    y, X = poisson_data if which == "poisson" else logit_data
    fam, smfam = (("poisson", sm.families.Poisson()) if which == "poisson"
                  else ("binomial", sm.families.Binomial()))
    # both at TIGHT: statsmodels' bread is its last IRLS step's X'WX too (see TIGHT)
    ours = bg.GLM(y, X, family=fam).fit_mle(cov_type="HC0", tol=TIGHT)
    ref = sm.GLM(y, X, family=smfam).fit(cov_type="HC0", tol=TIGHT)
    assert ours.cov_type == "HC0"
    np.testing.assert_allclose(ours.cov_params().to_numpy(), ref.cov_params(), rtol=1e-7)
    # the point estimate does not depend on the covariance type
    plain = bg.GLM(y, X, family=fam).fit_mle(tol=TIGHT)
    np.testing.assert_array_equal(ours.params, plain.params)
    assert not np.allclose(ours.bse, plain.bse, rtol=1e-3)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_gaussian_identity_hc_equals_ols(ols_data, cov_type):
    y, X = ols_data
    ours = bg.GLM(y, X, family="gaussian").fit_mle(cov_type=cov_type)
    # OLS's HC0-HC3 are the textbook ones (statsmodels' GLM HC1-HC3 are not: issue #7798)
    ref = sm.OLS(y, X).fit(cov_type=cov_type)
    np.testing.assert_allclose(ours.cov_params().to_numpy(), ref.cov_params(), rtol=1e-9)


def test_hc1_is_hc0_times_n_over_n_minus_p(poisson_data):
    y, X = poisson_data
    hc0 = bg.GLM(y, X, family="poisson").fit_mle(cov_type="HC0").cov_params().to_numpy()
    hc1 = bg.GLM(y, X, family="poisson").fit_mle(cov_type="HC1").cov_params().to_numpy()
    np.testing.assert_allclose(hc1, hc0 * N / (N - 3), rtol=1e-12)


def _vcov_hc_r(X, y, mu, kind):
    """R's sandwich::vcovHC(glm_fit, type=kind) for a logistic glm, written out in NumPy.

    estfun.glm = working residual * working weight * X = (y - mu) * X (logit link);
    bread = (X'WX)^-1 (times n, divided out again by sandwich()); hatvalues.glm = diag of
    W^1/2 X (X'WX)^-1 X'W^1/2; meatHC scales row i's squared score by 1/(1-h) (HC2) or
    1/(1-h)^2 (HC3).
    """
    w = mu * (1 - mu)
    bread = np.linalg.inv(X.T @ (X * w[:, None]))
    h = w * np.einsum("ij,jk,ik->i", X, bread, X)
    omega = (y - mu) ** 2 / (1 - h) ** {"HC0": 0, "HC2": 1, "HC3": 2}[kind]
    return bread @ (X.T @ (X * omega[:, None])) @ bread


@pytest.mark.parametrize("cov_type", ["HC0", "HC2", "HC3"])
def test_logistic_hc_equals_r_sandwich(logit_data, cov_type):
    y, X = logit_data
    # at TIGHT the bread (last step's X'WX) and the meat (final mean) are at the same point,
    # as in this formula
    ours = bg.GLM(y, X, family="binomial").fit_mle(cov_type=cov_type, tol=TIGHT)
    ref = _vcov_hc_r(X, y, ours.mu.to_numpy(), cov_type)
    np.testing.assert_allclose(ours.cov_params().to_numpy(), ref, rtol=1e-7)


def test_hc3_differs_from_hc0(logit_data):
    """statsmodels' GLM returns HC3 == HC0 up to a scalar (issue #7798); we must not."""
    y, X = logit_data
    hc0 = bg.GLM(y, X, family="binomial").fit_mle(cov_type="HC0").cov_params().to_numpy()
    hc3 = bg.GLM(y, X, family="binomial").fit_mle(cov_type="HC3").cov_params().to_numpy()
    ratio = np.diag(hc3) / np.diag(hc0)
    assert np.all(ratio > 1.0)  # the leverage correction inflates every variance
    assert np.ptp(ratio) > 1e-3  # and not by one common factor (which a df correction would be)


def test_bad_cov_type_lists_the_valid_ones(poisson_data):
    y, X = poisson_data
    with pytest.raises(ValueError) as err:
        bg.GLM(y, X, family="poisson").fit_mle(cov_type="HC4")
    msg = str(err.value)
    assert "HC4" in msg
    for valid in ("nonrobust", "HC0", "HC1", "HC2", "HC3"):
        assert valid in msg


# ---------------------------------------------------------------------------------------------
# 3. hard cases: separation, rank deficiency, non-convergence, step-halving
# ---------------------------------------------------------------------------------------------

SEP_NAMES = ["const", "noise", "sep"]


def _separation_design(x):
    rng = np.random.default_rng(606)
    return np.column_stack([np.ones(N), rng.normal(size=N), x])


def _assert_names_only_sep(record):
    msgs = [str(w.message) for w in record if issubclass(w.category, bg.SeparationWarning)]
    assert len(msgs) == 1, msgs
    assert "'sep'" in msgs[0]
    assert "'noise'" not in msgs[0] and "'const'" not in msgs[0], msgs[0]


def test_complete_separation_warns_naming_the_variable():
    x = np.linspace(-3, 3, N)
    y = (x > 0).astype(float)
    with pytest.warns(bg.SeparationWarning) as record:
        mle = bg.GLM(y, _separation_design(x), family="binomial", names=SEP_NAMES).fit_mle()
    _assert_names_only_sep(record)
    assert not mle.converged


def test_quasi_complete_separation_warns_naming_the_variable():
    x = np.round(np.linspace(-3, 3, N))  # integers -3..3, ties at 0
    y = (x > 0).astype(float)
    zero = np.flatnonzero(x == 0)
    y[zero[::2]] = 1.0  # both outcomes at x == 0: quasi-complete separation
    assert 0 < y[zero].mean() < 1
    with pytest.warns(bg.SeparationWarning) as record:
        mle = bg.GLM(y, _separation_design(x), family="binomial", names=SEP_NAMES).fit_mle()
    _assert_names_only_sep(record)
    assert not mle.converged


def test_no_separation_no_warning(logit_data):
    y, X = logit_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mle = bg.GLM(y, X, family="binomial").fit_mle()
    assert mle.converged


def test_collinear_column_raises_naming_the_columns(poisson_data):
    y, X = poisson_data
    rng = np.random.default_rng(707)
    a = X[:, 1]
    Xc = np.column_stack([rng.normal(size=N), a, 1.5 * a])  # b = 1.5 a
    with pytest.raises(bg.RankDeficientError) as err:
        bg.GLM(y, Xc, family="poisson", names=["noise", "a", "b"]).fit_mle()
    assert isinstance(err.value, ValueError)
    msg = str(err.value)
    assert "'a'" in msg and "'b'" in msg and "'noise'" not in msg, msg


def test_zero_column_raises_naming_it(poisson_data):
    y, X = poisson_data
    Xz = np.column_stack([X[:, :2], np.zeros(N)])
    with pytest.raises(bg.RankDeficientError, match="'z'"):
        bg.GLM(y, Xz, family="poisson", names=["const", "x1", "z"]).fit_mle()


def test_more_columns_than_rows_raises():
    rng = np.random.default_rng(808)
    X = np.column_stack([np.ones(4), rng.normal(size=(4, 5))])
    with pytest.raises(bg.RankDeficientError, match=r"6.*4"):  # 6 columns, 4 rows
        bg.GLM(np.array([0.0, 1, 2, 3]), X, family="poisson").fit_mle()


def test_maxiter_one_warns_not_converged(poisson_data):
    y, X = poisson_data
    with pytest.warns(bg.ConvergenceWarning, match="did not converge"):
        mle = bg.GLM(y, X, family="poisson").fit_mle(maxiter=1)
    assert not mle.converged and mle.n_iter == 1


def _plain_irls_gamma_inverse_leaves_domain(X, y, maxiter=25):
    """R's glm.fit for Gamma(inverse) *without* step-halving: does a step give eta <= 0?"""
    mu = y.copy()
    eta = 1 / mu
    for _ in range(maxiter):
        w = mu**2  # (dmu/deta)^2 / V(mu) = mu^4 / mu^2
        z = eta - (y - mu) / mu**2
        beta = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * z))
        eta = X @ beta
        if np.any(eta <= 0):
            return True
        mu = 1 / eta
    return False


def _gamma_inverse_optimum(X, y, x0):
    """Nelder-Mead on the Gamma(inverse) likelihood, +inf outside the domain, then Newton."""
    derivs = _derivatives(_negloglike(F.Gamma(), X, y))

    def f(b):
        return derivs.vg(b)[0] if np.all(X @ b > 0) else np.inf

    res = minimize(f, x0, method="Nelder-Mead",
                   options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000})
    x = res.x
    for _ in range(3):
        _, g, H = derivs(x)
        x = x - np.linalg.solve(H, g)
    assert np.all(X @ x > 0)
    return x, derivs.vg(x)[1]


@pytest.fixture(scope="module")
def gamma_inv_data():
    """A steep decreasing mean, mu = 1 / (0.05 + x), well inside the domain (for the API tests)."""
    rng = np.random.default_rng(909)
    x = np.linspace(0, 1, N)
    X = np.column_stack([np.ones(N), x])
    return (1 / (0.05 + x)) * rng.gamma(5.0, 1 / 5.0, size=N), X


@pytest.fixture(scope="module")
def gamma_inv_fit(gamma_inv_data):
    y, X = gamma_inv_data
    return bg.GLM(y, X, family="gamma").fit_mle()


def _hard_gamma_data(kind):
    """Gamma(inverse) data on which the first plain IRLS step leaves the domain."""
    if kind == "steep-lognormal-x":
        # mu = 1 / (0.01 + x), x log-normal, shape 0.5: eta = -0.024 at the smallest x
        rng = np.random.default_rng(531)
        x = rng.lognormal(0.0, 1.0, N)
        y = rng.gamma(0.5, (1 / (0.01 + x)) / 0.5)
    else:
        # mu = 1 / (0.02 + x) on [0, 1] plus one outlier y = 1e4 at x = 0.5: the first step's
        # line goes negative for x > 0.5 (eta = -0.05 at x = 1)
        rng = np.random.default_rng(7)
        x = np.linspace(0, 1, N)
        y = (1 / (0.02 + x)) * rng.gamma(10.0, 0.1, size=N)
        y[N // 2] = 1e4
    return y, np.column_stack([np.ones(N), x])


@pytest.mark.parametrize("kind", ["steep-lognormal-x", "outlier"])
def test_gamma_inverse_data_leave_the_domain_without_halving(kind):
    """The data of the next test are a hard case: R's glm.fit without step-halving, from R's
    mustart (mu = y), takes a first step to eta <= 0 (R itself stops there: "no valid set of
    coefficients has been found: please supply starting values"; statsmodels, which has no
    step-halving, can return a fit with negative eta)."""
    y, X = _hard_gamma_data(kind)
    assert _plain_irls_gamma_inverse_leaves_domain(X, y)


@pytest.mark.parametrize("kind", ["steep-lognormal-x", "outlier"])
def test_gamma_inverse_step_halving_converges(kind):
    """Step-halving must recover from a step out of the domain and reach the MLE, which is
    interior (the Gamma likelihood -> -inf as any eta -> 0+): compare a derivative-free
    optimizer that never leaves the domain."""
    y, X = _hard_gamma_data(kind)
    x_opt, grad = _gamma_inverse_optimum(X, y, np.array([1 / y.mean(), 0.0]))
    assert np.max(np.abs(grad)) < 1e-6
    mle = bg.GLM(y, X, family="gamma").fit_mle()
    assert mle.converged
    # the fitted mean is the inverse link of the linear predictor X params
    eta = mle.predict(linear=True)["mean"].to_numpy()
    assert np.all(eta > 0)
    np.testing.assert_allclose(mle.mu.to_numpy(), 1 / eta, rtol=1e-10)
    np.testing.assert_allclose(mle.params, x_opt, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# 4. NegativeBinomial with alpha estimated (MASS::glm.nb)
# ---------------------------------------------------------------------------------------------

NB_N, NB_ALPHA, NB_BETA = 2000, 0.5, np.array([1.0, 0.5])


@pytest.fixture(scope="module")
def nb_data():
    rng = np.random.default_rng(1010)
    X = np.column_stack([np.ones(NB_N), rng.normal(size=NB_N)])
    return _nb_draw(rng, np.exp(X @ NB_BETA), NB_ALPHA), X


@pytest.fixture(scope="module")
def nb_fit(nb_data):
    y, X = nb_data
    return bg.GLM(y, X, family=F.NegativeBinomial()).fit_mle()


@pytest.fixture(scope="module")
def nb_joint(nb_data):
    """Joint MLE of (beta, alpha) by a generic optimizer, and the observed information there.

    scipy's trust-exact works on (beta, log alpha) (unconstrained); value, gradient and Hessian
    come from one jit-compiled function of (beta, alpha) (the NB log density's derivatives are
    slow to compile), moved to log alpha by the chain rule.
    """
    y, X = nb_data
    fam = F.NegativeBinomial()
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def nll(theta):  # theta = (beta, alpha)
        return -jnp.sum(fam.loglike_obs(yj, jnp.exp(Xj @ theta[:-1]), theta[-1]))

    derivs = _derivatives(nll)

    def on_log_scale(x):  # x = (beta, log alpha)
        a = math.exp(x[-1])
        v, g, H = derivs(np.append(x[:-1], a))
        J = np.append(np.ones(len(x) - 1), a)  # d theta / d x
        H_log = H * np.outer(J, J)
        H_log[-1, -1] += g[-1] * a
        return float(v), g * J, H_log

    x = np.array([np.log(y.mean()), 0.0, 0.0])
    res = minimize(lambda x: on_log_scale(x)[:2], x, jac=True, hess=lambda x: on_log_scale(x)[2],
                   method="trust-exact", options={"gtol": 1e-9})
    x = res.x
    for _ in range(3):  # Newton polish
        _, g, H = on_log_scale(x)
        x = x - np.linalg.solve(H, g)
    theta = np.append(x[:-1], math.exp(x[-1]))
    v, g, H = derivs(theta)
    assert np.max(np.abs(g)) < 1e-6
    return theta, H, float(v)


def test_nb_alpha_near_truth(nb_fit):
    assert nb_fit.converged
    assert nb_fit.alpha_se > 0
    assert abs(nb_fit.alpha - NB_ALPHA) < 3 * nb_fit.alpha_se
    assert np.all(np.abs(nb_fit.params.to_numpy() - NB_BETA) < 3 * nb_fit.bse.to_numpy())


def test_nb_equals_joint_optimizer(nb_fit, nb_joint):
    theta, _, nll = nb_joint
    np.testing.assert_allclose(nb_fit.params, theta[:-1], rtol=1e-5)
    assert nb_fit.alpha == pytest.approx(theta[-1], rel=1e-5)
    assert nb_fit.llf == pytest.approx(-nll, rel=1e-9)
    # AIC counts alpha as a parameter, as MASS::glm.nb (2 * rank + 2)
    assert nb_fit.aic == pytest.approx(-2 * nb_fit.llf + 2 * (2 + 1), rel=1e-12)


def test_nb_alpha_se_vs_joint_information(nb_fit, nb_joint):
    """Ours is MASS's: 1/sqrt(-d2 llf / d alpha^2) with the means held fixed, i.e. the
    conditional information of alpha. The full inverse observed information of (beta, alpha)
    also accounts for the (small: zero in expectation for NB2) alpha-beta cross information, so
    the two differ by a few percent at most."""
    _, H, _ = nb_joint
    assert nb_fit.alpha_se == pytest.approx(1 / math.sqrt(H[-1, -1]), rel=1e-4)
    assert nb_fit.alpha_se == pytest.approx(math.sqrt(np.linalg.inv(H)[-1, -1]), rel=0.03)
    # the coefficients' bse (expected information at the estimated alpha) vs observed
    np.testing.assert_allclose(nb_fit.bse, np.sqrt(np.diag(np.linalg.inv(H)))[:-1], rtol=0.03)


def test_nb_summary_mentions_alpha(nb_fit):
    text = str(nb_fit.summary())
    assert "alpha" in text
    assert f"{nb_fit.alpha:.6g}" in text


# ---------------------------------------------------------------------------------------------
# 5. the results API
# ---------------------------------------------------------------------------------------------


def test_conf_int_and_pvalues(poisson_fit):
    ci = poisson_fit.conf_int()
    assert list(ci.columns) == [0, 1]  # statsmodels' column names
    assert np.all(ci[0] < poisson_fit.params) and np.all(poisson_fit.params < ci[1])
    np.testing.assert_allclose(ci[1] - ci[0], 2 * Z975 * poisson_fit.bse, rtol=1e-12)
    ci90 = poisson_fit.conf_int(alpha=0.1)
    assert np.all(ci90[0] > ci[0]) and np.all(ci90[1] < ci[1])
    z = poisson_fit.params / poisson_fit.bse
    np.testing.assert_allclose(poisson_fit.pvalues, 2 * stats.norm.sf(np.abs(z)), rtol=1e-10)


def test_predict_in_sample(poisson_data, poisson_fit):
    _, X = poisson_data
    pred = poisson_fit.predict()
    np.testing.assert_allclose(pred["mean"], poisson_fit.mu, rtol=1e-12)
    lin = poisson_fit.predict(linear=True)
    np.testing.assert_allclose(lin["mean"], X @ poisson_fit.params.to_numpy(), rtol=1e-12)
    assert np.all(pred["mean_ci_lower"] <= pred["mean"])
    assert np.all(pred["mean"] <= pred["mean_ci_upper"])


def test_predict_new_rows_with_exposure(exposure_data, exposure_fit):
    _, X, _ = exposure_data
    new = X[:5]
    with pytest.raises(ValueError, match="exposure"):
        exposure_fit.predict(new)
    e_new = np.array([1.0, 2.0, 0.5, 3.0, 1.5])
    pred = exposure_fit.predict(new, exposure=e_new)
    np.testing.assert_allclose(pred["mean"], e_new * np.exp(new @ exposure_fit.params.to_numpy()),
                               rtol=1e-12)
    lin = exposure_fit.predict(new, exposure=e_new, linear=True)
    np.testing.assert_allclose(lin["mean"], new @ exposure_fit.params.to_numpy() + np.log(e_new),
                               rtol=1e-12)


def test_predict_interval_decreasing_link(gamma_inv_data, gamma_inv_fit):
    """Gamma's inverse link is decreasing: eta +- z se maps to (upper, lower) of the mean."""
    new = np.column_stack([np.ones(5), np.linspace(0, 1, 5)])
    pred = gamma_inv_fit.predict(new)
    lo, mean, hi = pred["mean_ci_lower"], pred["mean"], pred["mean_ci_upper"]
    assert np.all(lo < mean) and np.all(mean < hi)
    eta = new @ gamma_inv_fit.params.to_numpy()
    se = np.sqrt(np.einsum("ij,jk,ik->i", new, gamma_inv_fit.cov_params().to_numpy(), new))
    np.testing.assert_allclose(mean, 1 / eta, rtol=1e-12)
    np.testing.assert_allclose(lo, 1 / (eta + Z975 * se), rtol=1e-9)
    np.testing.assert_allclose(hi, 1 / (eta - Z975 * se), rtol=1e-9)
    # delta-method standard error of the mean: se(eta) * |dmu/deta| = se / eta^2
    np.testing.assert_allclose(pred["mean_se"], se / eta**2, rtol=1e-9)


def test_summary_text(poisson_data, poisson_fit):
    text = str(poisson_fit.summary())
    for name in poisson_fit.params.index:
        assert name in text
    assert "Deviance" in text
    y, X = poisson_data
    named = bg.GLM(y, X, family="poisson", names=["Intercept", "dose_mg", "site_B"]).fit_mle()
    text = str(named.summary())
    for name in ("Intercept", "dose_mg", "site_B"):
        assert name in text


@pytest.mark.parametrize("with_offset", [False, True])
def test_null_deviance_vs_statsmodels(with_offset, poisson_data, poisson_fit, exposure_data,
                                      exposure_fit):
    if with_offset:
        y, X, e = exposure_data
        ours = exposure_fit
        ref = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(e)).fit()
    else:
        y, X = poisson_data
        ours = poisson_fit
        ref = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert ours.null_deviance == pytest.approx(ref.null_deviance, rel=1e-8)
    assert ours.deviance == pytest.approx(ref.deviance, rel=1e-9)


@pytest.mark.parametrize("which", ["poisson", "gamma"])
def test_residuals_and_llf_vs_statsmodels(which, poisson_data, poisson_fit, gamma_inv_data,
                                          gamma_inv_fit):
    if which == "poisson":
        (y, X), ours, smfam = poisson_data, poisson_fit, sm.families.Poisson()
    else:
        (y, X), ours, smfam = gamma_inv_data, gamma_inv_fit, sm.families.Gamma()
    with warnings.catch_warnings():  # statsmodels' DomainWarning about Gamma's inverse link
        warnings.simplefilter("ignore", sm.tools.sm_exceptions.DomainWarning)
        ref = sm.GLM(y, X, family=smfam).fit()
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-7)
    np.testing.assert_allclose(ours.mu, ref.mu, rtol=1e-7)
    for name in ("resid_response", "resid_pearson", "resid_deviance", "resid_working"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6,
                                   atol=1e-9, err_msg=name)
    assert ours.pearson_chi2 == pytest.approx(ref.pearson_chi2, rel=1e-8)
    assert ours.scale == pytest.approx(ref.scale, rel=1e-8)
    p = X.shape[1]
    if which == "poisson":
        # no dispersion: R's and statsmodels' llf/aic agree; statsmodels' bic_llf is R's BIC
        assert ours.llf == pytest.approx(ref.llf, rel=1e-9)
        assert ours.aic == pytest.approx(ref.aic, rel=1e-9)
        assert ours.bic == pytest.approx(ref.bic_llf, rel=1e-9)
    else:
        # R's logLik for Gamma uses dispersion = deviance / n; statsmodels' llf uses its Pearson
        # scale, so its llf differs; the same density at R's dispersion matches.
        r_llf = smfam.loglike(y, ref.mu, scale=ref.deviance / len(y))
        assert ours.llf == pytest.approx(r_llf, rel=1e-8)
        assert ours.llf != pytest.approx(ref.llf, rel=1e-6)
        # R's AIC/BIC count the dispersion as a parameter (p + 1); statsmodels' do not.
        assert ours.aic == pytest.approx(-2 * r_llf + 2 * (p + 1), rel=1e-8)
        assert ours.bic == pytest.approx(-2 * r_llf + math.log(len(y)) * (p + 1), rel=1e-8)


# ---------------------------------------------------------------------------------------------
# 6. compile counts
# ---------------------------------------------------------------------------------------------


def test_refit_same_shape_does_not_recompile(poisson_fit):
    before = bg.irls.irls._cache_size()
    assert before >= 1
    rng = np.random.default_rng(1111)
    X2 = np.column_stack([np.ones(N), rng.normal(size=N), rng.normal(size=N)])
    y2 = rng.poisson(np.exp(X2 @ BETA)).astype(float)
    second = bg.GLM(y2, X2, family="poisson").fit_mle()  # new data, new family object
    assert bg.irls.irls._cache_size() == before
    bg.GLM(y2, X2, family=F.Poisson()).fit_mle(tol=1e-10, maxiter=37)
    assert bg.irls.irls._cache_size() == before
    # and it really is a fit of the new data
    assert not np.allclose(second.params, poisson_fit.params)


def test_nb_fixed_alpha_change_does_not_recompile():
    family, y, X, _ = _simulate("negative_binomial-log-alpha0.7")
    bg.GLM(y, X, family=family).fit_mle()
    before = bg.irls.irls._cache_size()
    bg.GLM(y, X, family=F.NegativeBinomial(alpha=0.9)).fit_mle()
    assert bg.irls.irls._cache_size() == before


@pytest.mark.parametrize("weighted", [False, True])
def test_the_log_likelihood_summed_by_row_blocks_is_the_rows_sum(weighted):
    # 300,007 rows: more than 4 blocks of irls.LOGLIKE_BLOCK_ROWS, the last one shifted back
    # (a row counted twice or left out would move llf by ~1, far beyond 1e-10 relative)
    from bayesglm.irls import LOGLIKE_BLOCK_ROWS

    n = 300_007
    assert n >= 4 * LOGLIKE_BLOCK_ROWS
    rng = np.random.default_rng(11)
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.3 + 0.5 * x))
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    fit = bg.GLM(y, np.column_stack([np.ones(n), x]), family="poisson", weights=w).fit_mle()
    mu = fit.mu.to_numpy()
    direct = np.sum((1.0 if w is None else w) * stats.poisson.logpmf(y, mu))
    assert fit.llf == pytest.approx(direct, rel=1e-10)


def test_the_log_likelihood_holds_no_temporary_of_the_rows_length():
    # XLA's temporaries of the compiled sum at n = 1e6: two n-vectors (15.3 MB) when it was
    # evaluated on all rows at once (the peak memory of a large fit), 0.5 MB by row blocks
    from bayesglm.irls import IRLSData, loglike_sum

    n = 1_000_000
    data = IRLSData(None, np.ones(n), None, None, np.float64(0.0))
    with jax.enable_x64(True):
        compiled = loglike_sum.lower(F.get_family("poisson"), data, np.full(n, 1.5),
                                     np.float64(1.0), np.float64(1.0), None).compile()
    assert compiled.memory_analysis().temp_size_in_bytes < 8 * n / 4
