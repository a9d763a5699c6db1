"""Student-t regression: y = mu + sigma e with e ~ t(nu), robust to outlying responses."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

from .. import links as L
from .. import priors as P
from .base import Domain
from .gaussian import Gaussian
from .likelihood import LikelihoodFamily, Param

_LOG_PI = math.log(math.pi)
#: from this nu on, the constant's lgamma difference is its asymptotic series (below)
NU_SERIES = 40.0


def log_t_constant(nu):
    """lgamma((nu + 1) / 2) - lgamma(nu / 2) - log(nu) / 2 (JAX), without the cancellation of
    two lgammas of order nu log nu: from :data:`NU_SERIES` on, with x = nu / 2, the series
    -log(2) / 2 - 1 / (8 x) + 1 / (192 x^3) - 1 / (640 x^5) + 17 / (14336 x^7) (its error
    4.5e-15 at x = 20, checked against R's lgamma there; the difference of lgammas loses 7e-13
    at nu = 2e3 and 1e-9 at 2e6, which made the log-likelihood noisy where nu runs off)."""
    x = 0.5 * nu
    big = x >= 0.5 * NU_SERIES  # each branch sees only its own x (and its gradient)
    xs = jnp.where(big, x, 0.5 * NU_SERIES)
    r = 1.0 / xs
    r2 = r * r
    series = -0.5 * math.log(2.0) - r * (0.125 - r2 * (1.0 / 192.0 - r2 * (
        1.0 / 640.0 - r2 * (17.0 / 14336.0))))
    xd = jnp.where(big, 0.5 * NU_SERIES, x)
    direct = gammaln(xd + 0.5) - gammaln(xd) - 0.5 * jnp.log(2.0 * xd)
    return jnp.where(big, series, direct)


class StudentT(LikelihoodFamily):
    """A real response with Student-t errors: y ~ mu + sigma t_nu.

    ``sigma`` is the scale (not the sd: Var(y) = sigma^2 nu / (nu - 2) for nu > 2) and ``nu``
    the degrees of freedom, both estimated (by maximum likelihood in ``fit_mle``, with priors
    in ``fit``). As nu grows the model becomes the Gaussian one; an estimate running off to
    infinity is reported with a warning.
    """

    name = "student_t"
    domain = Domain(-math.inf, math.inf, lower_open=True, upper_open=True)
    links = (L.Identity, L.Log)
    default_link = L.Identity
    positive_mean = False
    autoscale_by_sd_y = True

    def extra_params(self):
        return (Param("sigma", "positive", meaning="scale of the t errors"),
                Param("nu", "positive", meaning="degrees of freedom",
                      limit="nu runs to infinity: the errors are no heavier-tailed than a "
                            "normal's, and the Gaussian family fits as well"))

    def default_extra_prior(self, param, design):
        if param.name == "nu":
            return [(P.Gamma(2.0, 0.1), "brms: gamma(2, 0.1) on nu (Juarez and Steel 2010)")]
        sd = float(np.std(design.y, ddof=1)) if design.nobs > 1 else 0.0
        ok = np.isfinite(sd) and sd > 0
        return [(P.Exponential(1.0 / sd if ok else 1.0),
                 "rstanarm prior_aux: exponential(1) autoscaled by sd(y)" if ok else
                 "exponential(1) (sd(y) is 0 or undefined)")]

    def valid_mu(self, mu):
        if isinstance(self.link, L.Log):
            return jnp.isfinite(mu) & (mu > 0)
        return jnp.isfinite(mu)

    def loglike(self, y, eta, extra, trials=None, aux=None):
        sigma, nu = extra["sigma"], extra["nu"]
        z = (y - self.link.inverse(eta)) / sigma
        return (log_t_constant(nu) - 0.5 * _LOG_PI - jnp.log(sigma)
                - 0.5 * (nu + 1.0) * jnp.log1p(z * z / nu))

    def start_family(self):
        return Gaussian(self.link)

    def start_extra(self, y, mu, trials, weights, aux=None):
        r = np.abs(y - mu)
        # the scale from the median absolute residual (a t_5's median |e| is 0.727)
        scale = float(np.median(r)) / 0.727 if np.median(r) > 0 else float(np.std(y - mu))
        return {"sigma": max(scale, 1e-8 * max(float(np.std(y)), 1e-300)), "nu": 5.0}

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        mu = np.asarray(self.mean(jnp.asarray(eta), extra))
        return mu + extra["sigma"] * rng.standard_t(extra["nu"], size=mu.shape)
