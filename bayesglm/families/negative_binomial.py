"""Negative binomial (NB2): V(mu) = mu + alpha mu^2; phi = alpha, the Bayesian ``alpha``."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln, xlogy

from .. import links as L
from .. import priors as P
from .._args import real
from .base import Domain, Family
from .kernels import ylogy_over
from .poisson import POISSON_MAX


class NegativeBinomial(Family):
    """Overdispersed counts (NB2): V(mu) = mu + alpha mu^2, alpha = 1/theta of MASS::glm.nb.

    ``alpha=None`` (the default) means alpha is estimated by maximum likelihood in ``fit_mle``
    and is a parameter of the Bayesian model; a number fixes it (as statsmodels' GLM
    NegativeBinomial family does).
    """

    name = "negative_binomial"
    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Log, L.Sqrt, L.Identity)
    default_link = L.Log
    dispersion_name = "alpha"
    allow_power = True
    ppc_kind = "count"
    count_response = True
    spec_params = ("alpha",)

    def __init__(self, link: L.Link | str | None = None, alpha: float | None = None):
        super().__init__(link)
        if alpha is not None:
            alpha = real(alpha, "NegativeBinomial: alpha", low=0.0, low_open=True)
        self.alpha = alpha

    def __repr__(self):
        extra = "" if self.alpha is None else f", alpha={self.alpha:g}"
        return f"NegativeBinomial(link={self.link!r}{extra})"

    @property
    def boundary(self):
        return "zero_counts" if isinstance(self.link, L.Log) else None

    def variance(self, mu, phi=1.0):
        return mu + phi * mu**2

    def unit_deviance(self, y, mu, phi=1.0):
        theta = 1.0 / phi
        return 2.0 * (ylogy_over(y, mu) - (y + theta) * jnp.log((y + theta) / (mu + theta)))

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        theta = 1.0 / phi
        return (
            gammaln(y + theta)
            - gammaln(theta)
            - gammaln(y + 1.0)
            + xlogy(y, mu / (mu + theta))
            + theta * jnp.log(theta / (mu + theta))
        )

    def starting_mu(self, y, trials):
        return y + 0.1

    # alpha is phi itself; fixed (not a parameter) when given to the family
    @property
    def dispersion_param(self):
        return None if self.alpha is not None else self.dispersion_name

    def fixed_scale(self):
        return 1.0 if self.alpha is None else self.alpha

    def mle_scale(self, scale, alpha):
        return alpha

    def mle_dispersion(self, scale, alpha, alpha_se, n_eff):
        return alpha, alpha_se

    def log_dispersion_var(self, value, n_eff, alpha_se=None):
        if alpha_se is not None and np.isfinite(alpha_se) and alpha_se > 0:
            return (alpha_se / value) ** 2
        return 1.0 / n_eff

    def crude_dispersion(self, ybar, var):
        return max((var - ybar) / max(ybar**2, 1e-12), 0.05)

    def default_dispersion_prior(self, s_y, sd_y_ok):
        return (P.Exponential(1.0), P.Exponential(1.0),
                "Exponential(1) on alpha; rstanarm puts it on theta = 1/alpha instead")

    def _draw(self, rng, mu, phi, trials):
        lam = rng.gamma(1.0 / phi, phi * mu)  # the gamma-Poisson mixture
        return rng.poisson(np.minimum(lam, POISSON_MAX))
