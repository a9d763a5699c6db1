"""The Gaussian identity-link likelihood from sufficient statistics (bayesglm.problem.Gram).

The sampler evaluates such a model's log-likelihood from X'WX and the residuals of the
least-squares fit (a gradient costs O(p^2), independent of n). Here: its potential and gradient
equal the row-by-row model's at random points (to rounding, also where y's mean is 1e4 times
its noise: the statistics are taken about the least-squares fit, not about 0); the
sampler uses it exactly for the Gaussian with the identity link and no group terms; and the
posterior sampled with it equals the row-by-row one within Monte Carlo error.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm import sampling
from bayesglm._x64 import float64
from bayesglm.families import Gaussian
from bayesglm.model import prior_arrays, prior_structure


def _data(n, seed=3, level=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = level + 1.0 + x @ [0.5, -0.3, 0.2] + rng.normal(scale=0.7, size=n)
    return pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2],
                         "w": rng.integers(1, 4, n).astype(float),
                         "o": rng.normal(scale=0.1, size=n)})


@float64
def _potential_and_grad(m, layout, points):
    structure = prior_structure(m.resolved_priors)
    arrays = prior_arrays(m.resolved_priors, structure)
    data = layout(pb.from_design(m.design))
    _, pot_gen = sampling.compiled_model(m.family, structure)
    f = jax.jit(jax.value_and_grad(lambda p, d: pot_gen(data=d, priors=arrays)(p)))
    out = []
    for p in points:
        v, g = f(p, data)
        out.append((float(v), np.concatenate([np.atleast_1d(g["beta"]),
                                              np.atleast_1d(g["sigma"])])))
    return out


@pytest.mark.parametrize("level", [0.0, 1e4])
def test_the_sufficient_statistics_give_the_rows_density(level):
    df = _data(400, level=level)
    m = bg.glm("y ~ x1 + x2 + x3", df, family="gaussian", weights="w", offset="o")
    mle = m.fit_mle().params.to_numpy()
    rng = np.random.default_rng(4)
    pts = [{"beta": mle + rng.normal(scale=0.05, size=4), "sigma": np.float64(s)}
           for s in (0.6, 0.7, 0.9)]
    plain = _potential_and_grad(m, lambda d: d, pts)
    ours = _potential_and_grad(m, pb.to_gram, pts)
    for (v0, g0), (v1, g1) in zip(plain, ours):
        assert abs(v1 - v0) <= 1e-9 * abs(v0), (v0, v1)
        np.testing.assert_allclose(g1, g0, rtol=1e-8, atol=1e-8 * np.abs(g0).max())
    # differences between points, what NUTS reads, to 1e-8 absolute
    assert abs((ours[1][0] - ours[0][0]) - (plain[1][0] - plain[0][0])) < 1e-8


def _plan(m):
    base = prior_structure(m.resolved_priors)
    return float64(sampling.make_plan)(
        m.family, base, pb.from_design(m.design), prior_arrays(m.resolved_priors, base),
        {"beta": 4, "sigma": 1}, sampling.NUTSConfig(progress=False))


def test_the_sampler_uses_them_for_the_gaussian_identity_link_alone():
    df = _data(300)
    df["pos"] = np.exp(df["y"] / 5)
    plan = _plan(bg.glm("y ~ x1 + x2 + x3", df, family="gaussian"))
    assert plan.data.gram is not None and plan.data.X is None and plan.data.XT is None
    assert plan.data.nobs == 300
    # the program's data do not depend on n: one compiled sampler for every n
    other = _plan(bg.glm("y ~ x1 + x2 + x3", _data(700), family="gaussian"))
    shapes = [np.shape(a) for a in jax.tree_util.tree_leaves(plan.data)]
    assert shapes == [np.shape(a) for a in jax.tree_util.tree_leaves(other.data)]
    log = _plan(bg.glm("pos ~ x1 + x2 + x3", df, family=Gaussian("log")))
    assert log.data.gram is None and log.data.XT is not None
    assert not bg.families.Poisson().sampler_gram()
    with pytest.raises(NotImplementedError, match="poisson"):
        bg.families.Poisson().gram_loglike(None, None)


def test_the_posterior_is_the_rows_one_within_mcse(monkeypatch):
    """The same model sampled from its sufficient statistics and row by row (seeds 1 and 2):
    every coefficient's and sigma's mean within 4 combined MCSE (a false failure ~6e-5 per
    parameter for independent runs), sd within 10%. Fixed seeds."""
    df = _data(3000, seed=7)
    m = bg.glm("y ~ x1 + x2 + x3", df, family="gaussian", weights="w")
    made = []  # the sufficient statistics were used (else the comparison would test nothing)
    monkeypatch.setattr(pb, "to_gram", lambda d, f=pb.to_gram: made.append(1) or f(d))
    gram = m.fit(seed=1, progress=False)
    assert made
    monkeypatch.setattr(Gaussian, "sampler_gram", lambda self: False)
    rows = m.fit(seed=2, progress=False)
    assert len(made) == 1
    a, b = gram.summary(), rows.summary()
    tol = 4 * np.sqrt(a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2)
    assert (np.abs(a["mean"] - b["mean"]) < tol).all(), (a, b)
    np.testing.assert_allclose(a["sd"], b["sd"], rtol=0.1)
