"""Tweedie (compound Poisson-gamma, 1 < p < 2): a non-negative response with exact zeros,
Var(y) = phi mu^p. Its density is a series (Dunn and Smyth 2005), summed here so that it is
accurate in float64 and differentiable in JAX for every (y, mu, phi, p)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln, logsumexp

from .. import links as L
from .. import priors as P
from .._args import real
from .base import Domain
from .likelihood import LikelihoodFamily, Param
from .poisson import Poisson

__all__ = ["Tweedie", "tweedie_logpdf", "SERIES_TERMS"]

#: terms of the series evaluated per row (see :func:`_log_series`): with the window's half
#: width 9 s + 4, consecutive terms while the window is this wide, else spaced h <= s / 2 (the
#: window over this many points is (18 s + 8) / 48 <= s / 2 apart once s > 2.2)
SERIES_TERMS = 48


def _log_series(y, phi, p):
    """log sum_j W_j for y > 0 (Dunn and Smyth 2005, eq. 4-5), with a(y, phi) = sum_j W_j / y.

    log W_j = j log z - log j! - log Gamma(j (2 - p) / (p - 1)), z = y^-a (p - 1)^a /
    (phi^(1 - a) (2 - p)), a = (2 - p) / (1 - p) < 0. As a function of j, log W_j is concave
    with its top near j0 = y^(2 - p) / (phi (2 - p)) and curvature ~ -1 / (j (p - 1)), so the terms
    fall like a normal density of sd s = sqrt(j0 (p - 1)). The window j0 -+ (9 s + 4) holds
    every term above ~1e-18 of the largest; its ``SERIES_TERMS`` points are consecutive integers
    while the window is that narrow, else spaced h <= s / 2 apart and the sum is h times theirs
    (the trapezoid rule, whose error on a smooth bell of sd s is ~exp(-2 pi^2 s^2 / h^2) <
    1e-30 relative). The window's placement is piecewise constant (no gradient), the terms
    differentiable.
    """
    a = (2.0 - p) / (1.0 - p)
    log_z = -a * jnp.log(y) + a * jnp.log(p - 1.0) - (1.0 - a) * jnp.log(phi) - jnp.log(2.0 - p)
    j0 = jax.lax.stop_gradient(jnp.exp((2.0 - p) * jnp.log(y) - jnp.log(phi) - jnp.log(2.0 - p)))
    sd = jnp.sqrt(j0 * jax.lax.stop_gradient(p - 1.0))
    half = 9.0 * sd + 4.0
    start = jnp.maximum(1.0, jnp.floor(j0 - half))
    step = jnp.maximum(1.0, jnp.ceil((j0 + half - start) / SERIES_TERMS))
    k = jnp.arange(SERIES_TERMS, dtype=jnp.result_type(y, float))
    j = start[..., None] + step[..., None] * k
    log_w = (j * log_z[..., None] - gammaln(j + 1.0) - gammaln(-j * a[..., None]))
    return logsumexp(log_w, axis=-1) + jnp.log(step)


def tweedie_logpdf(y, mu, phi, p):
    """log f(y; mu, phi, p) of the Tweedie distribution with 1 < p < 2 (JAX).

    f(0) = exp(-mu^(2-p) / (phi (2-p))); for y > 0, f(y) = a(y, phi) exp((y theta - kappa) /
    phi), theta = mu^(1-p) / (1-p), kappa = mu^(2-p) / (2-p), a from the series.
    """
    y, mu, phi, p = jnp.broadcast_arrays(*(jnp.asarray(v, dtype=jnp.result_type(v, float))
                                           for v in (y, mu, phi, p)))
    positive = y > 0
    y_safe = jnp.where(positive, y, 1.0)
    log_mu = jnp.log(mu)
    kappa = jnp.exp((2.0 - p) * log_mu) / (2.0 - p)
    theta = jnp.exp((1.0 - p) * log_mu) / (1.0 - p)
    series = _log_series(y_safe, phi, p) - jnp.log(y_safe) + (y_safe * theta - kappa) / phi
    return jnp.where(positive, series, -kappa / phi)


class Tweedie(LikelihoodFamily):
    """Compound Poisson-gamma response (1 < power < 2): Var(y) = phi mu^power, P(y = 0) > 0.

    For claim amounts, rainfall, biomass: a Poisson number of gamma-distributed amounts, so exact
    zeros and a continuous positive part in one model. ``phi`` and ``power`` are estimated
    (glmmTMB's ``tweedie``: its ``sigma()`` is phi, ``family_params()`` the power);
    ``Tweedie(power=1.5)`` fixes the power. The log-likelihood is the exact density's (finite at
    y = 0 and at large y), not a quasi-likelihood.
    """

    name = "tweedie"
    domain = Domain(0.0, math.inf, upper_open=True)
    links = (L.Log,)
    default_link = L.Log
    spec_params = ("power",)

    def __init__(self, link: L.Link | str | None = None, power: float | None = None):
        super().__init__(link)
        if power is not None:
            power = real(power, "Tweedie: power", low=1.0, high=2.0, low_open=True,
                         high_open=True)
        self.power = power

    def __repr__(self):
        extra = "" if self.power is None else f", power={self.power:g}"
        return f"Tweedie(link={self.link!r}{extra})"

    def extra_params(self):
        phi = Param("phi", "positive", meaning="Var(y) = phi mu^power")
        if self.power is not None:
            return (phi,)
        return (phi, Param("power", "interval", lower=1.0, upper=2.0,
                           meaning="the power of the variance function, in (1, 2)"))

    def default_extra_prior(self, param, design):
        if param.name == "power":
            return [(P.Flat(), "uniform on (1, 2)")]
        return [(P.Exponential(1.0), "rstanarm prior_aux: exponential(1) on the dispersion")]

    def fixed_extra(self):
        return {} if self.power is None else {"power": self.power}

    def loglike(self, y, eta, extra, trials=None, aux=None):
        return tweedie_logpdf(y, self.link.inverse(eta), extra["phi"], extra["power"])

    def start_family(self):
        return Poisson(self.link)

    def start_extra(self, y, mu, trials, weights, aux=None):
        p = 1.5 if self.power is None else self.power
        w = np.ones_like(y) if weights is None else weights
        phi = float(np.sum(w * (y - mu) ** 2 / mu**p) / np.sum(w))
        out = {"phi": max(phi, 1e-6)}
        if self.power is None:
            out["power"] = p
        return out

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        mu = np.exp(np.asarray(eta, dtype=float))
        phi, p = extra["phi"], extra["power"]
        lam = mu ** (2 - p) / (phi * (2 - p))
        n = rng.poisson(lam)
        shape, scale = (2 - p) / (p - 1), phi * (p - 1) * mu ** (p - 1)
        # a sum of n gamma(shape, scale) amounts is gamma(n shape, scale); 0 where n = 0
        return np.where(n > 0, rng.gamma(np.maximum(n, 1) * shape, scale), 0.0)
