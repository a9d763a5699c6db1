"""Beta regression: y in (0, 1) with mean mu and precision phi, Var(y) = mu (1 - mu) / (1 + phi)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln, xlog1py, xlogy

from .. import links as L
from .. import priors as P
from .base import Domain
from .binomial import Binomial
from .likelihood import LikelihoodFamily, Param, unit_parts


class Beta(LikelihoodFamily):
    """Proportions strictly inside (0, 1): y ~ Beta(mu phi, (1 - mu) phi).

    ``phi`` is the precision, as glmmTMB's ``beta_family`` (its ``sigma()``) and betareg's
    ``phi``: Var(y) = mu (1 - mu) / (1 + phi). A 0 or a 1 in the response is outside the
    family's domain (the density is 0 or infinite there); zero- or one-inflated models are not
    this family.
    """

    name = "beta"
    domain = Domain(0.0, 1.0, lower_open=True, upper_open=True)
    links = (L.Logit, L.Probit, L.CLogLog)
    default_link = L.Logit

    def extra_params(self):
        return (Param("phi", "positive", meaning="precision: Var(y) = mu (1 - mu) / (1 + phi)",
                      limit="phi runs to infinity: the proportions vary no more around their "
                            "means than their rounding allows"),)

    def default_extra_prior(self, param, design):
        return [(P.Gamma(0.01, 0.01), "brms: gamma(0.01, 0.01) on the beta precision phi")]

    def valid_mu(self, mu):
        return jnp.isfinite(mu) & (mu > 0) & (mu < 1)

    def loglike(self, y, eta, extra, trials=None, aux=None):
        phi = extra["phi"]
        mu, nu = unit_parts(self.link, eta)
        a, b = mu * phi, nu * phi
        # -log B(a, b) from gammaln (betaln loses digits at these arguments)
        return (gammaln(phi) - gammaln(a) - gammaln(b) + xlogy(a - 1.0, y)
                + xlog1py(b - 1.0, -y))

    def start_family(self):
        return Binomial(self.link)

    def start_extra(self, y, mu, trials, weights, aux=None):
        # the moment estimate: E[(y - mu)^2 / (mu (1 - mu))] = 1 / (1 + phi)
        w = np.ones_like(y) if weights is None else weights
        r = float(np.sum(w * (y - mu) ** 2 / (mu * (1.0 - mu))) / np.sum(w))
        return {"phi": float(np.clip(1.0 / max(r, 1e-8) - 1.0, 0.5, 1e5))}

    def crude_mean(self, ybar):
        return float(np.clip(ybar, 0.02, 0.98))

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        mu = np.asarray(self.mean(jnp.asarray(eta), extra))
        phi = extra["phi"]
        return rng.beta(mu * phi, (1.0 - mu) * phi)
