"""The NumPyro model of a GLM with group-level terms against its log density written by hand.

The model (bayesglm.model) samples the fixed effects, sigma (on the log scale), theta (each
term's log sd's and NumPyro's unconstrained correlation factor) and z (the group effects,
non-centred b_l = C z_l or centred z_l = b_l). Its potential energy must be minus the log joint
density written here with SciPy: a Gaussian likelihood, the user's priors, rstanarm's decov on
the covariance (for q = 2 and LKJ(1): the correlation uniform on (-1, 1), sd's from
``decov_logpdf``, itself checked against rstanarm's construction in test_group_cov.py) and the
normal density of the effects, with every Jacobian. Constants are compared away by taking
differences between random points. Deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm._x64 import float64
from bayesglm.group_cov import corr_cholesky, layouts
from bayesglm.mixed_bayes import term_priors
from bayesglm.priors.covariance import decov_logpdf
from bayesglm.sampling import compiled_model


PRIORS = {"Intercept": bg.priors.Normal(0, 10), "x": bg.priors.Normal(0, 5),
          "sigma": bg.priors.Exponential(0.5)}


def _data():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(6), 5)
    x = rng.normal(size=30)
    y = 1.0 + 0.5 * x + rng.normal(size=6)[g] + 0.3 * rng.normal(size=6)[g] * x + \
        rng.normal(size=30)
    return pd.DataFrame({"y": y, "x": x, "g": g})


@pytest.fixture(scope="module")
def model():
    return bg.glm("y ~ x + (x | g)", _data(), priors=PRIORS)


@float64
def _potential(m, centred, params, weights=None):
    """The model's potential; ``weights``: the term partially non-centred with them."""
    groups = list(m.groups)
    partial = weights is not None
    lays = layouts(groups, [centred], [partial])
    structure, arrays = term_priors(m, lays, [weights] if partial else None)
    data = pb.with_groups(pb.from_design(m.design), groups)
    _, pot_gen = compiled_model(m.family, structure)
    return float(pot_gen(data=data, priors=arrays)(params))


def _common(m, params, b):
    """The log density but the effects' own: the Gaussian likelihood at group effects ``b``
    (levels, q), the coefficients' and sigma's priors, decov on the log sd's (in units of
    sigma, Jacobian 1), with the log Jacobian of sigma."""
    d = m.design
    (factor, rows), = m.groups
    beta, log_sigma = params["beta"], params["sigma"]
    sigma = math.exp(log_sigma)
    eta = d.X @ beta + (rows.Z * b[rows.index]).sum(1)
    lp = stats.norm(eta, sigma).logpdf(d.y).sum()
    lp += stats.norm(0, 10).logpdf(beta[0]) + stats.norm(0, 5).logpdf(beta[1])
    lp += stats.expon(scale=2.0).logpdf(sigma) + log_sigma  # Jacobian of log
    q = b.shape[1]
    return lp + decov_logpdf(np, gammaln, params["theta"][:q] - log_sigma, 1.0, 1.0, 1.0)


def _log_joint(m, centred, params):
    """The log joint in the unconstrained coordinates, by hand (up to a constant)."""
    (factor, _), = m.groups
    s, xc = params["theta"][:2], params["theta"][2:]
    sd = np.exp(s)
    L = corr_cholesky(xc, 2)
    C = sd[:, None] * L
    zz = params["z"].reshape(factor.n_levels, 2)
    lp = _common(m, params, zz if centred else zz @ C.T)
    # LKJ(1) for q = 2: the correlation r = tanh(x) is uniform on (-1, 1)
    r = np.tanh(xc[0])
    lp += math.log(0.5) + math.log(1 - r * r)
    if centred:
        Sigma = C @ C.T
        lp += stats.multivariate_normal(np.zeros(2), Sigma).logpdf(zz).sum()
    else:
        lp += stats.norm.logpdf(zz).sum()
    return lp


@pytest.mark.parametrize("centred", [False, True])
def test_model_density_is_the_hand_written_one(model, centred):
    rng = np.random.default_rng(7 + centred)
    points = [{"beta": rng.normal(size=2), "sigma": rng.normal(0, 0.3),
               "theta": rng.normal(0, 0.5, size=3), "z": rng.normal(size=12)}
              for _ in range(4)]
    pot = [_potential(model, centred, p) for p in points]
    ref = [_log_joint(model, centred, p) for p in points]
    # -potential = log joint + constant: differences agree
    got = -np.diff(pot)
    np.testing.assert_allclose(got, np.diff(ref), rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def intercepts():
    """The same data, a random intercept: a term that can be partially non-centred."""
    return bg.glm("y ~ x + (1 | g)", _data(), priors=PRIORS)


def _partial_log_joint(m, weights, params):
    """b_l = sd^w_l z_l: the effects' normal density in b, plus log|db/dz| = sum_l w_l log sd."""
    (factor, _), = m.groups
    s = params["theta"][0]
    b = params["z"].reshape(factor.n_levels, 1) * math.exp(s) ** weights
    return _common(m, params, b) + stats.norm(0, math.exp(s)).logpdf(b).sum() + np.sum(
        weights * s)


def test_a_partially_non_centred_term_has_the_same_density(intercepts):
    rng = np.random.default_rng(11)
    weights = rng.uniform(0, 1, size=(6, 1))
    points = [{"beta": rng.normal(size=2), "sigma": rng.normal(0, 0.3),
               "theta": rng.normal(0, 0.5, size=1), "z": rng.normal(size=6)}
              for _ in range(4)]
    pot = [_potential(intercepts, False, p, weights) for p in points]
    ref = [_partial_log_joint(intercepts, weights, p) for p in points]
    np.testing.assert_allclose(-np.diff(pot), np.diff(ref), rtol=1e-9, atol=1e-9)
