"""bayesglm's posterior (NUTS) against reference posterior moments computed without MCMC.

What the reference is
---------------------
For each model the log posterior is written here in NumPy/SciPy, independently of bayesglm's
code (``scipy.stats`` densities for the likelihood and the priors; bayesglm's families, links,
model and priors are never called). Its moments are computed by self-normalised importance
sampling (IS):

1. the posterior mode by ``scipy.optimize.minimize`` (BFGS), in the unconstrained parameters
   (coefficients, and the log of the dispersion with its Jacobian), polished by four Newton steps;
2. the Hessian of the negative log posterior there by central finite differences (steps of 1e-2
   posterior sd, taken from the previous pass's Hessian);
3. a multivariate Student-t proposal (``DF_PROPOSAL`` = 5 degrees of freedom) at the mode, with
   scale matrix ``INFLATE`` (1.2) times the inverse Hessian -- heavier tails and a wider body than
   the posterior, so the weights are bounded;
4. ``N_IS`` = 2e5 proposal draws (in chunks), weights ``w = p(theta | y) / q(theta)``; the mean,
   sd and Monte Carlo standard error of the mean of every parameter (the dispersion on its natural
   scale) are the weighted moments.

The reference is trusted only if the IS effective sample size ``(sum w)^2 / sum w^2`` exceeds
``MIN_IS_ESS_FRAC`` (20%) of the draws and the Pareto k-hat of the weights (ArviZ ``psislw``,
Vehtari et al. 2015, arXiv:1507.02646) is below 0.5 -- both are asserted.

Models (real data sets shipped with statsmodels; <= 5 parameters each, explicit proper priors
given to bayesglm as a dict so that both sides use the same posterior; a prior on ``const`` is on
the uncentred intercept, as documented in ``bayesglm.priors.resolve_priors``):

* ``spector`` logistic regression, GRADE ~ 1 + GPA + TUCE + PSI (n = 32): a small data set whose
  posterior is visibly skewed (the Normal(0, 5) prior on the intercept moves the posterior mean
  from the MLE -13.0 to about -8.3);
* ``star98`` binomial with trials, [NABOVE, NBELOW] ~ 1 + LOWINC + PERASIAN + PERHISP (n = 303);
* ``cpunish`` Poisson, EXECUTIONS ~ 1 + INCOME/1e4 + PERPOVERTY + SOUTH (n = 17);
* ``scotland`` Gamma with log link, YES ~ 1 + COUTAX/100 + UNEMPF + AGE (n = 32), shape ~
  Gamma(2, 0.01) (mean 200; the moment estimate is ~177);
* ``randhie`` (first 2000 rows) negative binomial NB2, mdvis ~ 1 + lncoins + idp + physlm,
  alpha ~ Exponential(1).

Coefficients ~ Normal(0, 5) everywhere (intercept included).

Tolerances
----------
* Means: ``z = (mean_nuts - mean_ref) / sqrt(mcse_nuts^2 + se_ref^2)`` with ``mcse_nuts`` from
  ``arviz.mcse(method="mean")`` and ``se_ref`` the IS standard error; ``|z| < Z_MAX`` = 3.5 per
  quantity. Under a correct sampler z is ~N(0, 1): 4.65e-4 false-failure chance per quantity,
  22 quantities, so a family-wise false-failure rate <= 1.0% (Bonferroni). The seeds are fixed,
  so the outcome is deterministic; that rate is the chance that the chosen seeds are unlucky.
* Sds: ``|sd_nuts / sd_ref - 1| < SD_RTOL`` = 5%. With 4 x 2500 draws the NUTS ESS is > 5000 for
  every quantity here, so the Monte Carlo relative error of the sd is ~1/sqrt(2 ESS) <= 1% (and
  the IS one smaller): 5% is more than 4 such errors, while a sampler that got the width wrong by
  5% or more fails. The z of the sd (with ``arviz.mcse(method="sd")``) is reported beside it.

Run time (measured on the shared 2-core machine at load average ~10): 9.3 min wall, 2.4 min CPU
for the file -- one NUTS compilation per model, ~1-2 s of sampling, and the IS reference ~5-40 s
per model (the binomial with 303 rows of large counts is the slowest; the negative binomial's
2000 rows collapse to ~180 distinct (x, y) pairs).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import arviz as az
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, special, stats

import bayesglm as bg
from bayesglm.priors import Exponential, Gamma, Normal

N_IS = 200_000  # proposal draws
CHUNK_CELLS = 1_000_000  # draws x rows evaluated at once (8 MB per array)
DF_PROPOSAL = 5
INFLATE = 1.2
MIN_IS_ESS_FRAC = 0.20
MAX_KHAT = 0.5
Z_MAX = 3.5
SD_RTOL = 0.05
DRAWS, CHAINS, SEED = 2500, 4, 20240611
PRIOR_SD = 5.0


# -- the models, written with scipy.stats only -------------------------------------------------
@dataclass
class Case:
    name: str
    y: object  # what bayesglm gets as endog
    X: pd.DataFrame  # with the constant column "const"
    family: str | object
    loglik: Callable  # (beta (S, p), disp (S,) or None) -> (S,)
    disp_name: str | None = None
    disp_prior: object = None  # bayesglm prior spec
    disp_logpdf: Callable | None = None  # scipy: log prior density of the dispersion

    @property
    def names(self) -> list[str]:
        return list(self.X.columns) + ([self.disp_name] if self.disp_name else [])

    @property
    def priors(self) -> dict:
        pri = {c: Normal(0.0, PRIOR_SD) for c in self.X.columns}
        if self.disp_name:
            pri["dispersion"] = self.disp_prior
        return pri


def _spector() -> Case:
    d = sm.datasets.spector.load_pandas()
    X = sm.add_constant(d.exog[["GPA", "TUCE", "PSI"]], prepend=True)
    y = d.endog.to_numpy()
    Xa = X.to_numpy()

    def loglik(B, disp):
        p = special.expit(B @ Xa.T)
        return stats.binom.logpmf(y[None, :], 1, p).sum(axis=1)

    return Case("spector_logit", d.endog, X, "binomial", loglik)


def _star98() -> Case:
    d = sm.datasets.star98.load_pandas()
    X = sm.add_constant(d.exog[["LOWINC", "PERASIAN", "PERHISP"]], prepend=True)
    succ = d.endog["NABOVE"].to_numpy()
    n = succ + d.endog["NBELOW"].to_numpy()
    Xa = X.to_numpy()

    def loglik(B, disp):
        p = special.expit(B @ Xa.T)
        return stats.binom.logpmf(succ[None, :], n[None, :], p).sum(axis=1)

    endog = np.column_stack([succ, d.endog["NBELOW"].to_numpy()])  # [successes, failures]
    return Case("star98_binomial", endog, X, "binomial", loglik)


def _cpunish() -> Case:
    d = sm.datasets.cpunish.load_pandas()
    ex = d.exog.copy()
    ex["INCOME"] = ex["INCOME"] / 1e4
    X = sm.add_constant(ex[["INCOME", "PERPOVERTY", "SOUTH"]], prepend=True)
    y = d.endog.to_numpy()
    Xa = X.to_numpy()

    def loglik(B, disp):
        return stats.poisson.logpmf(y[None, :], np.exp(B @ Xa.T)).sum(axis=1)

    return Case("cpunish_poisson", d.endog, X, "poisson", loglik)


def _scotland() -> Case:
    d = sm.datasets.scotland.load_pandas()
    ex = d.exog.copy()
    ex["COUTAX"] = ex["COUTAX"] / 100
    X = sm.add_constant(ex[["COUTAX", "UNEMPF", "AGE"]], prepend=True)
    y = d.endog.to_numpy()
    Xa = X.to_numpy()

    def loglik(B, shape):
        mu = np.exp(B @ Xa.T)
        k = shape[:, None]
        return stats.gamma.logpdf(y[None, :], a=k, scale=mu / k).sum(axis=1)

    prior = Gamma(2.0, 0.01)  # shape alpha = 2, rate beta = 0.01
    return Case("scotland_gamma_log", d.endog, X, bg.families.Gamma(link="log"), loglik,
                "shape", prior, lambda s: stats.gamma.logpdf(s, a=2.0, scale=1 / 0.01))


def _randhie() -> Case:
    d = sm.datasets.randhie.load_pandas()
    rows = slice(0, 2000)
    X = sm.add_constant(d.exog[["lncoins", "idp", "physlm"]].iloc[rows], prepend=True)
    X = X.reset_index(drop=True)
    y = d.endog.iloc[rows].to_numpy().astype(float)
    # The 2000 rows hold only ~180 distinct (x, y) pairs: the log-likelihood is summed over the
    # distinct pairs times their counts (exact, and ~10x faster for 2e5 draws).
    rows_xy = np.column_stack([X.to_numpy(), y])
    uniq, counts = np.unique(rows_xy, axis=0, return_counts=True)
    Xu, yu = uniq[:, :-1], uniq[:, -1]

    def loglik(B, alpha):
        mu = np.exp(B @ Xu.T)
        r = 1.0 / alpha[:, None]  # NB2: var = mu + alpha mu^2; scipy's n = 1/alpha
        return stats.nbinom.logpmf(yu[None, :], r, r / (r + mu)) @ counts

    return Case("randhie_negbin", pd.Series(y), X, bg.families.NegativeBinomial(), loglik,
                "alpha", Exponential(1.0), lambda a: stats.expon.logpdf(a, scale=1.0))


CASES = {c.name: c for c in (f() for f in (_spector, _star98, _cpunish, _scotland, _randhie))}
N_QUANTITIES = sum(len(c.names) for c in CASES.values())


# -- importance sampling --------------------------------------------------------------------
def log_posterior(case: Case, theta: np.ndarray) -> np.ndarray:
    """Unnormalised log posterior of unconstrained draws (S, d): coefficients, then log(disp)."""
    theta = np.atleast_2d(theta)
    p = case.X.shape[1]
    B = theta[:, :p]
    out = stats.norm.logpdf(B, 0.0, PRIOR_SD).sum(axis=1)
    disp = None
    if case.disp_name:
        z = theta[:, p]
        disp = np.exp(z)
        out = out + case.disp_logpdf(disp) + z  # + log Jacobian of disp = exp(z)
    with np.errstate(all="ignore"):
        ll = case.loglik(B, disp)
    out = out + ll
    return np.where(np.isfinite(out), out, -np.inf)


def _chunked_log_posterior(case: Case, theta: np.ndarray) -> np.ndarray:
    size = max(1, CHUNK_CELLS // len(case.X))  # (an upper bound for aggregated rows)
    return np.concatenate([log_posterior(case, theta[i:i + size])
                           for i in range(0, len(theta), size)])


def _fd_hessian(f, x, steps):
    d = len(x)
    H = np.empty((d, d))
    f0 = f(x)
    for i in range(d):
        ei = np.zeros(d)
        ei[i] = steps[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(d)
            ej[j] = steps[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * steps[i] * steps[j])
    return H


def _mode_and_cov(case: Case):
    def nlp(t):
        v = -log_posterior(case, t)[0]
        return v if np.isfinite(v) else 1e300

    x0 = np.zeros(len(case.names))  # log(dispersion) = 0 where there is one
    ybar = float(np.mean(np.asarray(case.y, dtype=float)[..., 0] if np.ndim(case.y) == 2
                         else np.asarray(case.y, dtype=float)))
    if case.family != "binomial":
        x0[0] = math.log(ybar)
    res = optimize.minimize(nlp, x0, method="BFGS", options={"gtol": 1e-6, "maxiter": 10_000})
    x = res.x
    # Newton polish with a finite-difference Hessian and gradient; the first pass uses
    # unit-free steps, later passes steps of 1e-2 posterior sd from the previous Hessian
    steps = 1e-3 * np.maximum(np.abs(x), 1e-2)
    for _ in range(4):
        H = _fd_hessian(nlp, x, steps)
        cov = np.linalg.inv(H)
        steps = 1e-2 * np.sqrt(np.diag(cov))
        g = np.array([(nlp(x + s * e) - nlp(x - s * e)) / (2 * s)
                      for s, e in zip(steps, np.eye(len(x)))])
        x = x - cov @ g
    H = _fd_hessian(nlp, x, steps)
    cov = np.linalg.inv(H)
    assert np.all(np.linalg.eigvalsh(H) > 0), f"{case.name}: Hessian not positive definite"
    return x, cov


@dataclass
class Reference:
    mean: np.ndarray
    sd: np.ndarray
    se_mean: np.ndarray
    ess: float
    ess_frac: float
    khat: float
    mode: np.ndarray


_REFS: dict = {}


def reference(case: Case) -> Reference:
    if case.name in _REFS:
        return _REFS[case.name]
    mode, cov = _mode_and_cov(case)
    prop = stats.multivariate_t(loc=mode, shape=INFLATE * cov, df=DF_PROPOSAL)
    rng = np.random.default_rng(12345)
    theta = prop.rvs(size=N_IS, random_state=rng)
    logw = _chunked_log_posterior(case, theta) - prop.logpdf(theta)
    logw -= logw.max()
    w = np.exp(logw)
    w /= w.sum()
    ess = 1.0 / np.sum(w**2)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow inside ArviZ's GPD fit
        _, khat = az.psislw(logw.copy())
    p = case.X.shape[1]
    vals = theta.copy()
    if case.disp_name:
        vals[:, p] = np.exp(theta[:, p])  # the dispersion on its natural scale
    mean = w @ vals
    sd = np.sqrt(w @ (vals - mean) ** 2)
    se_mean = np.sqrt(np.sum(w[:, None] ** 2 * (vals - mean) ** 2, axis=0))
    ref = Reference(mean, sd, se_mean, ess, ess / N_IS, float(khat), mode)
    _REFS[case.name] = ref
    return ref


# -- bayesglm's side ------------------------------------------------------------------------
_FITS: dict = {}


def nuts(case: Case):
    if case.name not in _FITS:
        model = bg.GLM(case.y, case.X, family=case.family, priors=case.priors)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLE-side warnings are not the subject here
            _FITS[case.name] = model.fit(draws=DRAWS, chains=CHAINS, seed=SEED, progress=False)
    return _FITS[case.name]


def _post_stats(res, case: Case):
    """(mean, sd, mcse_mean, mcse_sd, ess_bulk) in the order of ``case.names``."""
    idata = res.idata
    vars_ = ["beta"] + ([case.disp_name] if case.disp_name else [])
    out = []
    for fn in (lambda: idata.posterior.mean(("chain", "draw")),
               lambda: idata.posterior.std(("chain", "draw")),
               lambda: az.mcse(idata, var_names=vars_, method="mean"),
               lambda: az.mcse(idata, var_names=vars_, method="sd"),
               lambda: az.ess(idata, var_names=vars_, method="bulk")):
        ds = fn()
        beta = ds["beta"].sel(coef=list(case.X.columns)).to_numpy()
        extra = [float(ds[case.disp_name])] if case.disp_name else []
        out.append(np.concatenate([beta, extra]))
    return out


def comparison_table(case: Case) -> pd.DataFrame:
    ref = reference(case)
    mean, sd, mcse_m, mcse_s, ess = _post_stats(nuts(case), case)
    z = (mean - ref.mean) / np.sqrt(mcse_m**2 + ref.se_mean**2)
    return pd.DataFrame({
        "ref_mean": ref.mean, "nuts_mean": mean, "z_mean": z,
        "ref_sd": ref.sd, "nuts_sd": sd, "sd_rel_err": sd / ref.sd - 1,
        "z_sd": (sd - ref.sd) / mcse_s, "nuts_ess": ess,
        "is_ess_frac": ref.ess_frac, "is_khat": ref.khat,
    }, index=case.names)


# -- tests ----------------------------------------------------------------------------------
def test_family_wise_rate_stated():
    """The docstring's family-wise rate: N_QUANTITIES tests at |z| < 3.5."""
    per = 2 * stats.norm.sf(Z_MAX)
    assert N_QUANTITIES == 22
    assert N_QUANTITIES * per < 0.011


@pytest.mark.parametrize("name", list(CASES))
def test_reference_is_trustworthy(name):
    """The IS reference: high effective sample size, small Pareto k, a sane mode."""
    case = CASES[name]
    ref = reference(case)
    assert ref.ess_frac > MIN_IS_ESS_FRAC, f"IS ESS {ref.ess:.0f} of {N_IS}: reference not trusted"
    assert ref.khat < MAX_KHAT, f"Pareto k-hat {ref.khat:.2f}"
    assert np.all(np.isfinite(ref.mean)) and np.all(ref.sd > 0)
    # the IS standard error of every mean is far below the posterior sd
    assert np.all(ref.se_mean < 0.01 * ref.sd)


def test_reference_against_exact_gaussian():
    """The IS machinery on a conjugate Gaussian posterior, whose moments are known exactly.

    y_i ~ N(x_i' beta, 1) with beta ~ N(0, 5^2 I): the posterior is N(m, V) with
    V = (X'X + I/25)^-1, m = V X'y.
    """
    rng = np.random.default_rng(7)
    Xa = np.column_stack([np.ones(20), rng.normal(size=(20, 2))])
    y = Xa @ np.array([1.0, -0.5, 2.0]) + rng.normal(size=20)

    def loglik(B, disp):
        return stats.norm.logpdf(y[None, :], B @ Xa.T, 1.0).sum(axis=1)

    case = Case("exact_gaussian", y, pd.DataFrame(Xa, columns=["const", "a", "b"]), "binomial",
                loglik)
    V = np.linalg.inv(Xa.T @ Xa + np.eye(3) / PRIOR_SD**2)
    m = V @ Xa.T @ y
    ref = reference(case)
    assert ref.ess_frac > MIN_IS_ESS_FRAC
    np.testing.assert_allclose(ref.mode, m, atol=1e-6 * np.sqrt(np.diag(V)).max())
    assert np.all(np.abs(ref.mean - m) < 4 * ref.se_mean + 1e-12)
    np.testing.assert_allclose(ref.sd, np.sqrt(np.diag(V)), rtol=0.01)


@pytest.mark.parametrize("name", list(CASES))
def test_nuts_matches_reference(name):
    case = CASES[name]
    ref = reference(case)
    assert ref.ess_frac > MIN_IS_ESS_FRAC  # otherwise the comparison means nothing
    table = comparison_table(case)
    print(f"\n{name} (IS ESS {ref.ess:.0f} = {100 * ref.ess_frac:.1f}% of {N_IS}, "
          f"k-hat {ref.khat:.2f})\n{table.round(4).to_string()}")
    bad_mean = table.index[np.abs(table["z_mean"]) >= Z_MAX].tolist()
    bad_sd = table.index[np.abs(table["sd_rel_err"]) >= SD_RTOL].tolist()
    assert not bad_mean, f"posterior means off (|z| >= {Z_MAX}): {bad_mean}\n{table}"
    assert not bad_sd, f"posterior sds off by >= {SD_RTOL:.0%}: {bad_sd}\n{table}"


if __name__ == "__main__":  # print the full comparison
    pd.set_option("display.width", 200)
    for nm, c in CASES.items():
        r = reference(c)
        print(f"\n{nm}: IS ESS {r.ess:.0f} ({100 * r.ess_frac:.1f}%), k-hat {r.khat:.2f}")
        print(comparison_table(c).round(4).to_string())
