"""Poisson counts: V(mu) = mu."""

from __future__ import annotations

import math

import numpy as np
from jax.scipy.special import gammaln, xlogy

from .. import links as L
from .base import FLOAT32_DENSITY_ERROR, Domain, Family, float32_error
from .kernels import log_kernel, ylogy_over

#: NumPy's Poisson takes means below 2^63 (~9.2e18); larger ones are drawn at this mean
POISSON_MAX = 1e18


class Poisson(Family):
    """Counts: V(mu) = mu."""

    name = "poisson"
    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Log, L.Identity, L.Sqrt)
    default_link = L.Log
    allow_power = True
    ppc_kind = "count"
    count_response = True

    @property
    def boundary(self):
        # under the log link a direction along which all counts are 0 sends the rates to 0
        return "zero_counts" if isinstance(self.link, L.Log) else None

    def variance(self, mu, phi=1.0):
        return mu

    def unit_deviance(self, y, mu, phi=1.0):
        return 2.0 * (ylogy_over(y, mu) - (y - mu))

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        return xlogy(y, mu) - mu - gammaln(y + 1.0)

    def loglike_eta(self, y, eta, phi=1.0, trials=None):
        if isinstance(self.link, L.Log):
            return log_kernel(eta, y) - gammaln(y + 1.0)
        return super().loglike_eta(y, eta, phi, trials)

    def sampler_float32(self, trials=None, y=None) -> bool:
        # the log kernel y eta - e^eta (kernels.log_kernel, the derivative written out): a
        # row's term is at most about y (|log y| + 1) + 1 near the fit, so counts of a few
        # dozen keep the summed rounding small; large counts do not
        if not isinstance(self.link, L.Log) or y is None:
            return False
        y = np.asarray(y, dtype=float)
        bound = y * (np.abs(np.log(np.maximum(y, 1.0))) + 1.0) + 1.0
        return float32_error(bound) <= FLOAT32_DENSITY_ERROR

    def starting_mu(self, y, trials):
        return y + 0.1

    def valid_draw_mean(self, mu):
        return np.isfinite(mu) & (mu >= 0)

    def _draw(self, rng, mu, phi, trials):
        return rng.poisson(np.minimum(mu, POISSON_MAX))
