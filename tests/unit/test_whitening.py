"""The sampler's whitening of a mixed model (``bayesglm.sampling.BlockCovariance``).

NUTS runs on u with x = start + A u. A is built from the dense block's covariance, each level's
conditional covariance of z and the coupling -V H_zk read from the log density's curvature at
the start. When those inputs are the exact ones of a Gaussian with precision H (the dense
block's marginal covariance and the per-level blocks of H_zz^-1: exact here, a single grouping
factor makes H_zz block diagonal by level), A A' must be H^-1 itself; that is checked on a small
Gaussian model with a correlated (x | g) term, at the Laplace start, for both parametrisations
of the term. Deterministic.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm._x64 import float64
from bayesglm.group_cov import layouts
from bayesglm.mixed import fit_mixed
from bayesglm.mixed_bayes import laplace_start, term_priors
from bayesglm.sampling import (BlockCovariance, NUTSConfig, compiled_model, from_whitened,
                               linear_map, make_plan)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(3)
    L, per = 6, 8
    g = np.repeat(np.arange(L), per)
    x = rng.normal(size=L * per)
    y = 1.0 + 0.5 * x + rng.normal(0, 1.0, L)[g] + rng.normal(0, 0.4, L)[g] * x \
        + rng.normal(0, 0.7, L * per)
    return bg.glm("y ~ x + (x | g)", pd.DataFrame({"y": y, "x": x, "g": g.astype(str)}))


@float64
def _check(model, centred):
    sizes = {"beta": 2, "sigma": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mle = fit_mixed(model, progress=False)
    lays0, _, start = laplace_start(model, mle, dict(sizes))
    lays = layouts(list(model.groups), [centred])
    sizes["theta"], sizes["z"] = lays[-1].theta_span[1], lays[-1].z_span[1]
    structure, priors = term_priors(model, lays)
    data = pb.with_groups(pb.from_design(model.design), list(model.groups))
    _, pot_gen = compiled_model(model.family, structure)
    values = dict(start.values)
    if centred != lays0[0].centred:  # the same effects b in the other parametrisation
        C = np.linalg.cholesky(mle.covariances[0])
        zz = values["z"].reshape(-1, 2)
        values["z"] = (zz @ C.T if centred else np.linalg.solve(C, zz.T).T).reshape(-1)

    # the exact normal approximation at the start: H, the potential's Hessian in
    # (beta, log sigma, theta, z)
    k = 3 + sizes["theta"]
    x0 = np.concatenate([values["beta"], [np.log(values["sigma"])], values["theta"],
                         values["z"]])

    def flat(x):
        return pot_gen(data=data, priors=priors)(
            {"beta": x[:2], "sigma": x[2], "theta": x[3:k], "z": x[k:]})

    H = np.array(jax.hessian(flat)(x0))
    # The start is not the joint mode, so H may curve down in theta: the dense block's own
    # curvature is raised until H is positive definite (A is built from H's other blocks and
    # the covariances given, which this leaves as they are)
    lam, dense = 0.0, np.diag(np.r_[np.ones(k), np.zeros(x0.size - k)])
    while np.linalg.eigvalsh(H + lam * dense).min() <= 1e-6:
        lam = 2 * lam + 1e-3
    H += lam * dense
    S = np.linalg.inv(H)
    Hzz = H[k:, k:].reshape(6, 2, 6, 2)
    blocks = np.stack([np.linalg.inv(Hzz[l, :, l, :]) for l in range(6)])
    assert np.allclose(H[k:, k:], np.kron(np.eye(6), np.ones((2, 2))) * H[k:, k:])  # by level
    cov = BlockCovariance(("beta", "sigma", "theta"), S[:k, :k], {"z": (blocks,)})
    plan = make_plan(model.family, structure, data, priors, sizes, NUTSConfig(), cov)
    lin = linear_map(plan, values, cov, list(sizes))

    d = x0.size
    eye = {"dense": np.eye(d)[:, :k], "rest": np.eye(d)[:, k:]}
    cols = from_whitened(eye, lin, plan.layout, np)  # x at u = e_i, for every i
    A = np.concatenate([cols["beta"], cols["sigma"][:, None], cols["theta"], cols["z"]],
                       axis=1).T - x0[:, None]
    at0 = from_whitened({"dense": np.zeros(k), "rest": np.zeros(d - k)}, lin, plan.layout, np)
    np.testing.assert_allclose(at0["z"], values["z"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(A @ A.T, S, rtol=1e-8, atol=1e-10 * np.abs(S).max())


@pytest.mark.parametrize("centred", [False, True], ids=["non-centred", "centred"])
def test_the_whitening_of_an_exact_normal_approximation_is_its_covariance(model, centred):
    _check(model, centred)
