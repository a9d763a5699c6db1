"""Binomial: the proportion of successes out of ``trials``, V(mu) = mu (1 - mu)."""

from __future__ import annotations


import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln, xlog1py, xlogy

from .. import links as L
from .base import Domain, Family
from .kernels import logit_kernel, ylogy_over


class Binomial(Family):
    """Binomial proportion of successes out of ``trials``: V(mu) = mu (1 - mu)."""

    name = "binomial"
    domain = Domain(0.0, 1.0)
    links = (L.Logit, L.Probit, L.Cauchit, L.Log, L.CLogLog, L.LogLog)
    default_link = L.Logit
    has_trials = True
    ppc_kind = "binomial"
    boundary = "separation"

    def valid_mu(self, mu):
        return jnp.isfinite(mu) & (mu > 0) & (mu < 1)

    def variance(self, mu, phi=1.0):
        return mu * (1.0 - mu)

    def unit_deviance(self, y, mu, phi=1.0):
        return 2.0 * (ylogy_over(y, mu) + ylogy_over(1.0 - y, 1.0 - mu))

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        k = y * trials
        log_comb = gammaln(trials + 1.0) - gammaln(k + 1.0) - gammaln(trials - k + 1.0)
        return log_comb + xlogy(k, mu) + xlog1py(trials - k, -mu)

    def loglike_eta(self, y, eta, phi=1.0, trials=None):
        if not isinstance(self.link, L.Logit):
            return super().loglike_eta(y, eta, phi, trials)
        if trials is None:  # 0/1: log C(1, k) = 0
            return logit_kernel(eta, y, 1.0)
        k = y * trials
        log_comb = gammaln(trials + 1.0) - gammaln(k + 1.0) - gammaln(trials - k + 1.0)
        return log_comb + logit_kernel(eta, k, trials)

    def sampler_float32(self, trials=None, y=None) -> bool:
        # 0/1 responses under the logit kernel (kernels.logit_kernel: exp(-|eta|), stable for
        # every finite eta), each row's term O(1); with trials a row's term is O(trials), and
        # k = y * trials would be rebuilt from a float32 proportion
        return isinstance(self.link, L.Logit) and trials is None

    def starting_mu(self, y, trials):
        return (trials * y + 0.5) / (trials + 1.0)

    def crude_mean(self, ybar):
        return float(np.clip(ybar, 0.02, 0.98))

    def observed(self, y, trials):
        return y if trials is None else np.round(np.asarray(y) * trials)

    def from_observed(self, y_obs, trials):
        return y_obs if trials is None else np.asarray(y_obs) / trials

    def valid_draw_mean(self, mu):
        return np.isfinite(mu) & (mu >= 0) & (mu <= 1)

    def _draw(self, rng, mu, phi, trials):
        n = 1 if trials is None else np.round(trials).astype(np.int64)
        return rng.binomial(n, mu)



