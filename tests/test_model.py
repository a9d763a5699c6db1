"""The NumPyro model's fast pieces (bayesglm.model): the canonical-link likelihoods with their
derivative written out, and the linear predictor whose gradient reads X transposed.

Each is checked against what it replaces: NumPyro's own distribution (log-probability, and its
first and second derivatives by autodiff, on eta from -700 to 700) and the plain ``X @ beta``.
Deterministic, no sampling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

import bayesglm  # noqa: F401
from bayesglm import families as F
from bayesglm import model as M


# this module's own JAX computations (references, direct calls of links and families) in
# float64: bayesglm no longer switches JAX's global setting (conftest.jax_float64)
pytestmark = pytest.mark.usefixtures("jax_float64")


ETA = np.concatenate([np.linspace(-700, 700, 29), np.linspace(-3, 3, 13)])


def _cases():
    rng = np.random.default_rng(0)
    n = ETA.size
    trials = rng.integers(1, 30, n).astype(float)
    return {
        "bernoulli": (F.Binomial(), None, rng.integers(0, 2, n).astype(float),
                      lambda eta: dist.BernoulliLogits(eta)),
        "binomial": (F.Binomial(), trials, np.floor(rng.random(n) * (trials + 1)),
                     lambda eta: dist.BinomialLogits(eta, trials.astype(np.int64))),
        "poisson": (F.Poisson(), None, rng.poisson(3.0, n).astype(float),
                    lambda eta: dist.Poisson(jnp.exp(eta))),
    }


@pytest.mark.parametrize("case", ["bernoulli", "binomial", "poisson"])
def test_canonical_likelihood_matches_numpyro_with_derivatives(case):
    family, trials, y, reference = _cases()[case]
    eta = jnp.asarray(ETA if case != "poisson" else np.clip(ETA, -700, 700))
    like = M.likelihood(family, eta, None, None if trials is None else jnp.asarray(trials))
    assert type(like).__module__ == "bayesglm.model"  # the hand-differentiated form is used
    ours = np.asarray(like.log_prob(jnp.asarray(y)))
    theirs = np.asarray(reference(eta).log_prob(jnp.asarray(y)))
    finite = np.isfinite(theirs)
    if case == "poisson":  # exp(700) overflows nowhere in float64, but y*eta - mu is -1e304
        assert np.all(np.isfinite(ours) | ~finite)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-12, atol=1e-12)

    def total(fn):
        return lambda e: jnp.sum(fn(e).log_prob(jnp.asarray(y)))

    mine = total(lambda e: M.likelihood(family, e, None, None if trials is None else jnp.asarray(trials)))
    ref = total(reference)
    # first and second derivatives elementwise (the log-likelihood is a sum over observations)
    g1, g2 = jax.grad(mine)(eta), jax.grad(ref)(eta)
    h1 = jax.jvp(jax.grad(mine), (eta,), (jnp.ones_like(eta),))[1]
    h2 = jax.jvp(jax.grad(ref), (eta,), (jnp.ones_like(eta),))[1]
    # (NumPyro's stable logit forms have kinks at eta = 0, max(eta, 0) and |eta|, where autodiff
    # takes a one-sided derivative: y - n instead of y - n/2. Ours is exact there; compared below.)
    ok = finite & np.isfinite(np.asarray(g2)) & np.isfinite(np.asarray(h2)) & (ETA != 0)
    assert ok.sum() >= 30
    np.testing.assert_allclose(np.asarray(g1)[ok], np.asarray(g2)[ok], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(h1)[ok], np.asarray(h2)[ok], rtol=1e-10, atol=1e-12)
    # first and second derivatives in closed form (canonical link): y - n mu and -n var(mu)
    n = 1.0 if trials is None else trials
    mu = np.asarray(family.link.inverse(eta))
    var = mu * (1 - mu) if case != "poisson" else mu
    ok = finite & np.isfinite(mu)
    np.testing.assert_allclose(np.asarray(g1)[ok], (y - n * mu)[ok], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(h1)[ok], (-n * var)[ok], rtol=1e-10, atol=1e-12)


def test_canonical_likelihood_samples_like_numpyro():
    key = jax.random.PRNGKey(0)
    eta = jnp.asarray([-1.0, 0.5, 2.0])
    ours = M.likelihood(F.Poisson(), eta, None, None).sample(key, (2000,))
    assert np.allclose(np.asarray(ours).mean(axis=0), np.exp(eta), rtol=0.1)
    b = M.likelihood(F.Binomial(), eta, None, None).sample(key, (2000,))
    assert np.allclose(np.asarray(b).mean(axis=0), 1 / (1 + np.exp(-eta)), atol=0.05)


def test_canonical_likelihoods_survive_jax_transformations():
    """NumPyro flattens distributions into pytrees (vmap, jit boundaries): the hand-written
    forms must come back whole, with the same log-probabilities."""
    eta, y = jnp.asarray([-1.0, 0.5, 2.0]), jnp.asarray([0.0, 1.0, 3.0])
    for like in (M.likelihood(F.Poisson(), eta, None, None),
                 M.likelihood(F.Binomial(), eta, None, jnp.asarray([3.0, 3.0, 3.0])),
                 M.likelihood(F.Binomial(), eta, None, None)):
        leaves, tree = jax.tree_util.tree_flatten(like)
        back = jax.tree_util.tree_unflatten(tree, leaves)
        value = y if type(like).__name__ != "_BernoulliLogit" else jnp.minimum(y, 1.0)
        np.testing.assert_allclose(back.log_prob(value), like.log_prob(value), rtol=1e-14)
        via_jit = jax.jit(lambda d: d.log_prob(value))(like)
        np.testing.assert_allclose(via_jit, like.log_prob(value), rtol=1e-14)


def test_linear_predictor_gradient_reads_the_transpose():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    XT = np.ascontiguousarray(X.T)
    beta, g = jnp.asarray(rng.standard_normal(4)), jnp.asarray(rng.standard_normal(50))
    np.testing.assert_allclose(M.linear_predictor(X, beta, XT), X @ beta, rtol=1e-14)

    def f(b, xt):
        return jnp.dot(M.linear_predictor(X, b, xt), g)

    np.testing.assert_allclose(jax.grad(f)(beta, XT), X.T @ np.asarray(g), rtol=1e-13)
    np.testing.assert_allclose(jax.grad(f)(beta, None), X.T @ np.asarray(g), rtol=1e-13)
    # the gradient is taken from XT itself: a different XT gives a different gradient
    assert not np.allclose(jax.grad(f)(beta, 2 * XT), X.T @ np.asarray(g))
