"""The group terms' covariance coordinates and the decov prior's density (issue 11).

The NumPy twin of NumPyro's CorrCholeskyTransform is checked against it; the decov density of
the log sd's (bayesglm.priors.covariance.decov_logpdf) is checked against rstanarm's
construction drawn directly (tau ~ Gamma(shape, rate 1/scale), pi ~ Dirichlet(concentration),
sd_k = tau sqrt(q pi_k)): it must integrate to 1 and give the draws' moments. Deterministic
(fixed seeds); the Monte Carlo checks use 400,000 draws and a tolerance of 5 standard errors
(false-failure chance below 1e-6 each).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.distributions.transforms import CorrCholeskyTransform
from scipy import stats
from scipy.special import gammaln

from bayesglm.group_cov import (corr_cholesky, corr_unconstrained, layouts, lme4_theta,
                                term_theta, theta_draws)
from bayesglm.group_design import GroupFactor
from bayesglm.priors.covariance import decov_logpdf


@pytest.mark.parametrize("q", [2, 3, 4])
def test_corr_cholesky_is_numpyros_transform(q):
    rng = np.random.default_rng(q)
    x = rng.normal(size=(5, q * (q - 1) // 2)) * 1.5
    ours = corr_cholesky(x, q)
    with jax.enable_x64(True):
        theirs = np.asarray(CorrCholeskyTransform()(jnp.asarray(x)))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(corr_unconstrained(ours), x, atol=1e-9)
    # rows of unit length: L L' is a correlation matrix
    R = ours @ np.swapaxes(ours, -1, -2)
    np.testing.assert_allclose(np.diagonal(R, axis1=-2, axis2=-1), 1.0, atol=1e-12)


def _factor(q, correlated=True, levels=3):
    return GroupFactor("g", tuple(f"t{k}" for k in range(q)), tuple(map(str, range(levels))),
                       correlated)


def test_covariance_round_trip_and_lme4_theta():
    cov = np.array([[4.0, 1.2, 0.3], [1.2, 2.25, -0.6], [0.3, -0.6, 1.0]])
    f = _factor(3)
    lay = layouts([f])[0]
    assert (lay.q, lay.correlated, lay.theta_span, lay.z_span) == (3, True, (0, 6), (0, 9))
    theta = term_theta(cov, lay, sd_floor=1e-3)
    C = theta_draws(theta, lay).chol
    np.testing.assert_allclose(C @ C.T, cov, rtol=1e-9)
    # lme4's theta: the relative factor's lower triangle by column; sigma = 2 divides it
    T = np.linalg.cholesky(cov) / 2.0
    np.testing.assert_allclose(lme4_theta(theta, [lay], [f], unit=2.0),
                               [T[0, 0], T[1, 0], T[2, 0], T[1, 1], T[2, 1], T[2, 2]],
                               rtol=1e-9)


def test_an_sd_at_zero_starts_at_the_floor_and_independent_terms_have_no_correlation():
    lay = layouts([_factor(2, correlated=False)])[0]
    assert lay.n_corr == 0 and lay.theta_span == (0, 2)
    theta = term_theta(np.diag([0.0, 4.0]), lay, sd_floor=0.05)
    np.testing.assert_allclose(np.exp(theta), [0.05, 2.0])


@pytest.mark.parametrize("shape, scale", [(1.0, 1.0), (2.0, 0.5)])
def test_decov_for_one_sd_is_a_gamma_on_the_sd(shape, scale):
    s = np.linspace(-3, 2, 11)[:, None]
    got = decov_logpdf(np, gammaln, s, shape, scale, 1.0)
    want = stats.gamma(shape, scale=scale).logpdf(np.exp(s[:, 0])) + s[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _decov_draws(q, shape, scale, conc, n, seed):
    rng = np.random.default_rng(seed)
    tau = rng.gamma(shape, scale, n)
    pi = rng.dirichlet(np.full(q, conc), n)
    return np.log(tau[:, None] * np.sqrt(q * pi))


@pytest.mark.parametrize("shape, scale, conc", [(1.0, 1.0, 1.0), (2.0, 0.7, 2.5)])
def test_decov_density_of_two_log_sds_integrates_to_one_and_matches_draws(shape, scale, conc):
    g = np.linspace(-9.0, 4.0, 701)
    h = g[1] - g[0]
    S1, S2 = np.meshgrid(g, g, indexing="ij")
    s = np.stack([S1, S2], axis=-1)
    dens = np.exp(decov_logpdf(np, gammaln, s, shape, scale, conc))
    mass = dens.sum() * h * h
    assert mass == pytest.approx(1.0, abs=2e-3)
    mean_grid = (dens * S1).sum() * h * h / mass
    var_grid = (dens * S1**2).sum() * h * h / mass - mean_grid**2
    draws = _decov_draws(2, shape, scale, conc, 400_000, seed=11)
    se = draws[:, 0].std() / math.sqrt(len(draws))
    assert abs(draws[:, 0].mean() - mean_grid) < 5 * se
    assert draws[:, 0].var() == pytest.approx(var_grid, rel=0.02)


def test_decov_density_of_three_log_sds_gives_the_draws_moments():
    # importance check in 3 dimensions: E_q[p/q] = 1 and E_p[s] = E_q[s p/q], q a normal
    shape, scale, conc = 1.0, 1.0, 1.0
    draws = _decov_draws(3, shape, scale, conc, 400_000, seed=12)
    mu, cov = draws.mean(0), np.cov(draws.T) * 1.5
    rng = np.random.default_rng(13)
    prop = rng.multivariate_normal(mu, cov, 400_000)
    logq = stats.multivariate_normal(mu, cov).logpdf(prop)
    w = np.exp(decov_logpdf(np, gammaln, prop, shape, scale, conc) - logq)
    assert w.mean() == pytest.approx(1.0, abs=5 * w.std() / math.sqrt(len(w)))
    est = (w[:, None] * prop).sum(0) / w.sum()
    np.testing.assert_allclose(est, draws.mean(0), atol=0.01)
