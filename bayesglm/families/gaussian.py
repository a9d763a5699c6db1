"""Gaussian: V(mu) = 1; phi = sigma^2, the Bayesian parameter ``sigma`` (residual sd)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .. import links as L
from .. import priors as P
from .base import Family

_LOG_2PI = math.log(2.0 * math.pi)


class Gaussian(Family):
    """Normal response: V(mu) = 1, dispersion sigma^2."""

    name = "gaussian"
    links = (L.Identity, L.Log, L.Inverse)
    default_link = L.Identity
    has_dispersion = True
    dispersion_name = "sigma"
    allow_power = True
    positive_mean = False
    autoscale_by_sd_y = True

    def _positive_link(self):
        # log, inverse and power links map only positive means
        return isinstance(self.link, L.Log) or (
            isinstance(self.link, L.Power) and self.link.power != 1.0
        )

    def valid_mu(self, mu):
        if self._positive_link():
            return jnp.isfinite(mu) & (mu > 0)
        return jnp.isfinite(mu)

    def variance(self, mu, phi=1.0):
        return jnp.ones_like(mu)

    def unit_deviance(self, y, mu, phi=1.0):
        return (y - mu) ** 2

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        var = phi / trials
        return -0.5 * (_LOG_2PI + jnp.log(var) + (y - mu) ** 2 / var)

    def starting_mu(self, y, trials):
        if self._positive_link():
            return jnp.where(y > 0, y, jnp.maximum(jnp.mean(jnp.abs(y)), 1.0) * 0.1)
        return y

    def sampler_gram(self) -> bool:
        return isinstance(self.link, L.Identity)

    def gram_loglike(self, gram, beta, phi=1.0):
        # sum_i w_i (-1/2) (log(2 pi phi) + (r_i - x_i' beta)^2 / phi), RSS about beta0
        d = beta - gram.beta0
        rss = gram.rss0 + 2.0 * jnp.dot(d, gram.g0) + jnp.dot(d, gram.A @ d)
        return -0.5 * (gram.sum_w * (_LOG_2PI + jnp.log(phi)) + rss / phi)

    # sigma = sqrt(phi)
    def scale_from_dispersion(self, value):
        return value**2

    def dispersion_from_scale(self, phi):
        return phi**0.5

    def mle_dispersion(self, scale, alpha, alpha_se, n_eff):
        v = math.sqrt(scale)
        return v, v / math.sqrt(2.0 * n_eff)

    def log_dispersion_var(self, value, n_eff, alpha_se=None):
        return 1.0 / (2.0 * n_eff)  # of log sigma

    def crude_dispersion(self, ybar, var):
        return math.sqrt(max(var, 1e-12))

    def crude_mean(self, ybar):
        return max(ybar, 1e-3) if self._positive_link() else ybar

    def default_dispersion_prior(self, s_y, sd_y_ok):
        how = "1 / sd(y)" if sd_y_ok else "1 (sd(y) is 0 or undefined)"
        return P.Exponential(1.0 / s_y), P.Exponential(1.0), f"rstanarm prior_aux: rate {how}"

    def valid_draw_mean(self, mu):
        return np.isfinite(mu)

    def _draw(self, rng, mu, phi, trials):
        return rng.normal(mu, phi**0.5)
