"""Gamma: V(mu) = mu^2; phi = 1/shape, the Bayesian parameter ``shape``."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.special import gammaln

from .. import links as L
from .base import Domain, Family, PrecisionParameter


class Gamma(PrecisionParameter, Family):
    """Positive continuous response: V(mu) = mu^2, dispersion 1/shape."""

    name = "gamma"
    domain = Domain(0.0, math.inf, lower_open=True, upper_open=True)
    links = (L.Inverse, L.Identity, L.Log)
    default_link = L.Inverse
    has_dispersion = True
    dispersion_name = "shape"
    allow_power = True

    def variance(self, mu, phi=1.0):
        return mu**2

    def unit_deviance(self, y, mu, phi=1.0):
        return 2.0 * (-jnp.log(y / mu) + (y - mu) / mu)

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        shape = trials / phi
        return shape * jnp.log(shape * y / mu) - shape * y / mu - jnp.log(y) - gammaln(shape)



    def log_dispersion_var(self, value, n_eff, alpha_se=None):
        from scipy.special import polygamma

        info = n_eff * (float(polygamma(1, value)) - 1.0 / value)  # I(k) = n (trigamma(k) - 1/k)
        return 1.0 / (value**2 * max(info, 1e-300))

    def crude_dispersion(self, ybar, var):
        return max(ybar**2 / max(var, 1e-12), 1e-3)

    def _draw(self, rng, mu, phi, trials):
        shape = 1.0 / phi
        return rng.gamma(shape, mu / shape)
