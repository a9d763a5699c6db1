"""The NumPyro model (bayesglm.model) and its fast pieces: the families' canonical-link
likelihoods with their derivative written out, and the linear predictor whose gradient reads X
transposed (bayesglm.problem).

Each is checked against what it replaces: NumPyro's own distribution (log-probability, and its
first and second derivatives by autodiff, on eta from -700 to 700) and the plain ``X @ beta``;
the model's log density against the family's ``loglike_obs`` and the priors' ``logpdf`` (one
density, written once). Deterministic, no sampling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro.infer.util import log_density

import bayesglm as bg
from bayesglm import families as F
from bayesglm import model as M
from bayesglm import problem as PB

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
    t = None if trials is None else jnp.asarray(trials)
    y_mean = jnp.asarray(y if trials is None else y / trials)  # the mean's scale

    def loglik(e):
        return family.loglike_eta(y_mean, e, 1.0, t)

    # the hand-differentiated form is used (a custom_jvp in the program)
    assert "custom_jvp_call" in str(jax.make_jaxpr(loglik)(eta))
    ours = np.asarray(loglik(eta))
    theirs = np.asarray(reference(eta).log_prob(jnp.asarray(y)))
    finite = np.isfinite(theirs)
    if case == "poisson":  # exp(700) overflows nowhere in float64, but y*eta - mu is -1e304
        assert np.all(np.isfinite(ours) | ~finite)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-12, atol=1e-12)

    def mine(e):
        return jnp.sum(loglik(e))

    def ref(e):
        return jnp.sum(reference(e).log_prob(jnp.asarray(y)))

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


@pytest.mark.parametrize("family, y", [
    (F.Gaussian(), np.array([0.3, -1.2, 2.5, 0.0])),
    (F.Binomial("probit"),
     np.array([0.0, 1.0, 1.0, 0.0])),
    (F.Poisson("sqrt"), np.array([0.0, 3.0, 1.0, 7.0])),
    (F.Gamma("log"), np.array([0.5, 1.5, 2.0, 4.0])),
    (F.InverseGaussian("log"), np.array([0.5, 1.5, 2.0, 4.0])),
    (F.NegativeBinomial(), np.array([0.0, 3.0, 1.0, 7.0])),
])
def test_model_density_is_the_family_and_the_priors(family, y):
    """The NumPyro model's log joint = the family's loglike_obs summed with the frequency weights
    + every prior's logpdf (NumPy) at the centred intercept: the densities are written once."""
    X = np.column_stack([np.ones(4), [0.1, -0.4, 0.8, 0.3]])
    w = np.array([1.0, 2.0, 1.0, 3.0])
    m = bg.GLM(y, X, family=family, weights=w, priors={"x1": bg.priors.StudentT(3, 0.1, 2.0)})
    resolved = m.resolved_priors
    structure = M.prior_structure(resolved)
    model = M.build_model(m.family, structure)
    beta = np.array([0.2, -0.3])
    params = {"beta": jnp.asarray(beta)}
    disp = m.family.dispersion_param
    phi = m.family.fixed_scale()
    if disp is not None:
        params[disp] = jnp.asarray(1.7)
        phi = m.family.scale_from_dispersion(1.7)
    data = PB.from_design(m.design)
    got, _ = log_density(model, (data, M.prior_arrays(resolved, structure)), {}, params)
    mu = np.asarray(m.family.link.inverse(jnp.asarray(X @ beta)))
    expected = float(np.sum(w * np.asarray(m.family.loglike_obs(jnp.asarray(y), mu, phi, 1.0))))
    expected += resolved.log_prior(beta, 1.7 if disp is not None else None)
    np.testing.assert_allclose(float(got), expected, rtol=1e-12)


def test_linear_predictor_gradient_reads_the_transpose():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4))
    XT = np.ascontiguousarray(X.T)
    beta, g = jnp.asarray(rng.standard_normal(4)), jnp.asarray(rng.standard_normal(50))
    with_xt = PB.Problem(X=None, XT=XT, y=None)
    np.testing.assert_allclose(PB.linear_predictor(with_xt, beta), X @ beta, rtol=1e-14)

    def f(b, xt):
        layout = PB.Problem(X=None, XT=xt, y=None) if xt is not None else PB.Problem(X, None, None)
        return jnp.dot(PB.linear_predictor(layout, b), g)

    np.testing.assert_allclose(jax.grad(f)(beta, XT), X.T @ np.asarray(g), rtol=1e-13)
    np.testing.assert_allclose(jax.grad(f)(beta, None), X.T @ np.asarray(g), rtol=1e-13)
    # the gradient is taken from XT itself: a different XT gives a different gradient
    assert not np.allclose(jax.grad(f)(beta, 2 * XT), X.T @ np.asarray(g))
