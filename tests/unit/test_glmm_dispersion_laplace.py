"""The Laplace likelihood of group-level models whose family has a dispersion, against the
Laplace approximation written out here group by group with SciPy's densities (a random
intercept: one-dimensional integrals), for the cases no R reference covers (the inverse
Gaussian, which glmmTMB does not fit, and a negative binomial with alpha fixed); and the
Bayesian fit of such a model. The R references (glmmTMB) are in
tests/reference/test_glmm_dispersion.py. Deterministic (fixed simulated data).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import bayesglm as bg


def _simulate(family: str, seed: int = 4, groups: int = 15, per: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = rng.standard_normal(groups * per)
    mu = np.exp(0.5 + 0.3 * x + rng.normal(0, 0.4, groups)[g])
    if family == "inverse_gaussian":  # lambda = 4: phi = 0.25
        y = rng.wald(mu, 4.0)
    else:  # negative binomial, alpha = 0.5
        y = rng.poisson(rng.gamma(2.0, mu / 2.0))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{k:02d}" for k in g]})


def _logpdf(family: str, y, mu, phi):
    if family == "inverse_gaussian":  # mean mu, shape 1 / phi (scipy: mu / shape, scale shape)
        lam = 1.0 / phi
        return stats.invgauss.logpdf(y, mu / lam, scale=lam)
    return stats.nbinom.logpmf(y, 1.0 / phi, 1.0 / (1.0 + phi * mu))  # alpha = phi


def _laplace_by_hand(family, df, beta, sd, phi) -> float:
    """-2 log L by the Laplace approximation, b_g = sd u_g, u_g ~ N(0, 1): for each group the
    mode of f(u) = -log p(y_g | u) + u^2 / 2 (SciPy's bounded search) and f'' there (central
    second differences), -2 log L = sum_g 2 f(u_g) + log f''(u_g)."""
    eta0 = beta[0] + beta[1] * df["x"].to_numpy()
    y = df["y"].to_numpy(float)
    total = 0.0
    for gname in np.unique(df["g"]):
        rows = (df["g"] == gname).to_numpy()

        def f(u):
            return -np.sum(_logpdf(family, y[rows], np.exp(eta0[rows] + sd * u), phi)) + u**2 / 2

        u = optimize.minimize_scalar(f, bounds=(-10, 10), method="bounded",
                                     options={"xatol": 1e-12}).x
        h = 1e-4
        f2 = (f(u + h) - 2 * f(u) + f(u - h)) / h**2
        total += 2 * f(u) + np.log(f2)
    return total


@pytest.fixture(scope="module")
def inverse_gaussian_fit():
    df = _simulate("inverse_gaussian")
    return df, bg.glm("y ~ x + (1 | g)", df, family="inverse_gaussian", link="log").fit_mle()


def test_inverse_gaussian_laplace_likelihood_by_hand(inverse_gaussian_fit):
    """bayesglm's logLik at its estimate is the Laplace approximation computed by hand (to the
    second differences' ~1e-7), and no nearby point is higher: the maximum, in the fixed
    effects, the sd and the dispersion jointly."""
    df, fit = inverse_gaussian_fit
    beta = fit.params.to_numpy()
    sd = fit.varcorr()["estimate"]["sd_g__Intercept"]
    phi = fit.scale
    assert fit.varcorr()["estimate"]["lam"] == pytest.approx(1.0 / phi, rel=1e-12)
    dev = _laplace_by_hand("inverse_gaussian", df, beta, sd, phi)
    assert -dev / 2 == pytest.approx(fit.llf, abs=1e-5)
    assert fit.k_params == 4  # two fixed effects, the sd, the dispersion
    for k, step in enumerate([0.02, 0.02, 0.02, 0.02]):  # beta0, beta1, log sd, log phi
        for sign in (-1, 1):
            x = np.array([beta[0], beta[1], np.log(sd), np.log(phi)])
            x[k] += sign * step
            assert _laplace_by_hand("inverse_gaussian", df, x[:2], np.exp(x[2]),
                                    np.exp(x[3])) > dev


def test_negative_binomial_with_alpha_fixed_uses_it():
    """A fixed alpha is the likelihood's (before, the Laplace fit evaluated alpha = 1 whatever
    the family said); it is not estimated (no dispersion row, one parameter fewer)."""
    df = _simulate("negative_binomial")
    fam = bg.families.NegativeBinomial(alpha=0.5)
    fit = bg.glm("y ~ x + (1 | g)", df, family=fam).fit_mle()
    assert fit.scale == 0.5 and "alpha" not in fit.varcorr().index
    assert fit.k_params == 3
    sd = fit.varcorr()["estimate"]["sd_g__Intercept"]
    dev = _laplace_by_hand("negative_binomial", df, fit.params.to_numpy(), sd, 0.5)
    assert -dev / 2 == pytest.approx(fit.llf, abs=1e-5)
    free = bg.glm("y ~ x + (1 | g)", df, family="negative_binomial").fit_mle()
    assert free.k_params == 4 and free.llf >= fit.llf - 1e-9  # alpha estimated: never lower


def test_posterior_of_an_inverse_gaussian_mixed_model(inverse_gaussian_fit):
    """fit() of a family with a dispersion: the dispersion's row with its Laplace estimate in
    ``mle``, draws near it. The posterior sd of lam is ~0.5 (lam ~ 4 from 120 rows), so the
    posterior mean within 3 of those of the estimate fails with probability well under 1e-3 if
    the sampler is right."""
    df, mle = inverse_gaussian_fit
    model = bg.glm("y ~ x + (1 | g)", df, family="inverse_gaussian", link="log")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        fit = model.fit(draws=300, warmup=300, chains=2, seed=1, progress=False)
    s = fit.summary()
    assert {"lam", "sd_g__Intercept"} <= set(s.index)
    assert s.loc["lam", "mle"] == pytest.approx(mle.varcorr()["estimate"]["lam"], rel=1e-12)
    lam = fit.idata.posterior["lam"].to_numpy()
    assert abs(lam.mean() - s.loc["lam", "mle"]) < 3 * lam.std()
