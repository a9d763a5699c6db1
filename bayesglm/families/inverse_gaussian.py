"""Inverse Gaussian: V(mu) = mu^3; phi = 1/lambda, the Bayesian parameter ``lam``."""

from __future__ import annotations

import math

import jax.numpy as jnp

from .. import links as L
from .base import Domain, Family, PrecisionParameter

_LOG_2PI = math.log(2.0 * math.pi)


class InverseGaussian(PrecisionParameter, Family):
    """Positive continuous response: V(mu) = mu^3, dispersion 1/lambda."""

    name = "inverse_gaussian"
    domain = Domain(0.0, math.inf, lower_open=True, upper_open=True)
    links = (L.InverseSquared, L.Inverse, L.Identity, L.Log)
    default_link = L.InverseSquared
    has_dispersion = True
    dispersion_name = "lam"
    allow_power = True

    def variance(self, mu, phi=1.0):
        return mu**3

    def unit_deviance(self, y, mu, phi=1.0):
        return (y - mu) ** 2 / (y * mu**2)

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        # (y - mu)^2 / (v y mu^2) written as (y/mu - 1)^2 / (v y): no overflow (nor a NaN
        # gradient) at the huge means a link clipped at eta ~ 0 gives
        v = phi / trials
        return -0.5 * (_LOG_2PI + jnp.log(v) + 3.0 * jnp.log(y) + (y / mu - 1.0) ** 2 / (v * y))



    def log_dispersion_var(self, value, n_eff, alpha_se=None):
        return 2.0 / n_eff  # I(lam) = n / (2 lam^2)

    def crude_dispersion(self, ybar, var):
        return max(ybar**3 / max(var, 1e-12), 1e-3)

    def _draw(self, rng, mu, phi, trials):
        return rng.wald(mu, 1.0 / phi)
