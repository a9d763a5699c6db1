"""Beta-binomial: overdispersed binomial counts, the success probability Beta(mu phi, (1-mu) phi)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

from .. import links as L
from .. import priors as P
from .base import Domain
from .binomial import Binomial
from .likelihood import LikelihoodFamily, Param, log_beta_fn, unit_parts


class BetaBinomial(LikelihoodFamily):
    """Successes out of ``trials`` whose probability varies as Beta(mu phi, (1 - mu) phi).

    ``phi`` as glmmTMB's ``betabinomial`` (its ``sigma()``): Var(k) = n mu (1 - mu) (1 + (n - 1)
    / (phi + 1)); as phi grows the model becomes the binomial one. The response is given as
    for Binomial: counts with ``trials``, or a two-column ``[successes, failures]`` endog; rows
    of one trial carry no information about phi, so some row needs more than one.
    """

    name = "beta_binomial"
    domain = Domain(0.0, 1.0)
    links = (L.Logit, L.Probit, L.CLogLog)
    default_link = L.Logit
    has_trials = True
    ppc_kind = "binomial"

    def extra_params(self):
        return (Param("phi", "positive",
                      meaning="Var(k) = n mu (1 - mu) (1 + (n - 1) / (phi + 1))",
                      limit="phi runs to infinity: the counts are no more dispersed than "
                            "binomial ones, and the binomial family fits as well"),)

    def default_extra_prior(self, param, design):
        return [(P.Gamma(0.01, 0.01), "brms: gamma(0.01, 0.01) on the beta-binomial's phi")]

    def check_design(self, design) -> None:
        if design.trials is None or not np.any(design.trials > 1):
            raise ValueError(
                "trials: every row has one trial (0/1 responses), which carry no information "
                "about the beta-binomial's phi; use the binomial family, or give counts with "
                "trials > 1")

    def valid_mu(self, mu):
        return jnp.isfinite(mu) & (mu > 0) & (mu < 1)

    def loglike(self, y, eta, extra, trials=None, aux=None):
        n = 1.0 if trials is None else trials
        phi = extra["phi"]
        k = y * n
        mu, nu = unit_parts(self.link, eta)
        a, b = mu * phi, nu * phi
        log_comb = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
        return log_comb + log_beta_fn(k + a, n - k + b) - log_beta_fn(a, b)

    def start_family(self):
        return Binomial(self.link)

    def start_extra(self, y, mu, trials, weights, aux=None):
        # moments: E[(k - n mu)^2 / (n mu (1 - mu))] = 1 + (n - 1) rho, rho = 1 / (phi + 1)
        n = np.ones_like(y) if trials is None else trials
        w = np.ones_like(y) if weights is None else weights
        x2 = (y * n - n * mu) ** 2 / (n * mu * (1.0 - mu))
        keep = n > 1
        rho = float(np.sum(w[keep] * (x2[keep] - 1.0)) / np.sum(w[keep] * (n[keep] - 1.0)))
        return {"phi": float(np.clip(1.0 / max(rho, 1e-5) - 1.0, 0.1, 1e5))}

    def crude_mean(self, ybar):
        return float(np.clip(ybar, 0.02, 0.98))

    def observed(self, y, trials):
        return Binomial.observed(self, y, trials)

    def from_observed(self, y_obs, trials):
        return Binomial.from_observed(self, y_obs, trials)

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        mu = np.asarray(self.mean(jnp.asarray(eta), extra))
        phi = extra["phi"]
        n = 1 if trials is None else np.round(trials).astype(np.int64)
        return rng.binomial(n, rng.beta(mu * phi, (1.0 - mu) * phi))
