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
        return (gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * (jnp.log(nu) + _LOG_PI)
                - jnp.log(sigma) - 0.5 * (nu + 1.0) * jnp.log1p(z * z / nu))

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
