"""Ordinal regression by a cumulative link: P(Y <= k) = F(cutpoints[k] - x'beta).

As ``MASS::polr`` and ``ordinal::clm``: K ordered categories, K - 1 increasing cutpoints, no
intercept among the coefficients (the cutpoints are the intercepts), F the inverse of the link
(logistic, normal or the complementary log-log's). The response is an ordered categorical (its
categories' order) or integers (their sorted values); inside the package it is the category's
code 0 .. K - 1, and the family, bound to the levels it was fitted with
(:meth:`Cumulative.encode_response`), knows K.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.nn import log_sigmoid
from jax.scipy.special import log_ndtr

from .. import links as L
from .. import priors as P
from .base import Domain
from .likelihood import LikelihoodFamily, Param

__all__ = ["Cumulative"]


def _log_cdf_sf(link, x):
    """(log F(x), log (1 - F(x))) of the link's distribution, each without cancellation."""
    if isinstance(link, L.Logit):
        return log_sigmoid(x), log_sigmoid(-x)
    if isinstance(link, L.Probit):
        return log_ndtr(x), log_ndtr(-x)
    # complementary log-log: F(x) = 1 - exp(-exp(x)), log(1 - F) = -exp(x)
    e = jnp.exp(jnp.minimum(x, 700.0))
    return jnp.log(-jnp.expm1(-e)), -e


def _log_diff(a, b):
    """log(e^a - e^b) for a >= b."""
    return a + jnp.log(-jnp.expm1(jnp.minimum(b - a, 0.0)))


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v


class Cumulative(LikelihoodFamily):
    """Ordered categories by a cumulative link model (proportional odds for the logit).

    ``params`` holds the coefficients (no intercept: a formula's is dropped, and a design whose
    columns add up to a constant is an error) and ``cutpoints[1]`` ... ``cutpoints[K-1]`` in
    increasing order, with P(Y <= k) = F(cutpoints[k] - x'beta): a positive coefficient moves
    the response to higher categories, as ``MASS::polr``'s and ``ordinal::clm``'s (whose
    ``zeta`` / ``alpha`` are these cutpoints).

    ``levels``: the categories in order, learned from the response when the model is built
    (give them only to fix the order of integer codes beforehand).
    """

    name = "cumulative"
    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Logit, L.Probit, L.CLogLog)
    default_link = L.Logit
    ordinal = True
    mean_is_inverse_link = False
    ppc_kind = "ordinal"
    spec_params = ("levels",)

    def __init__(self, link: L.Link | str | None = None, levels=None):
        super().__init__(link)
        if levels is not None:
            levels = tuple(_jsonable(v) for v in levels)
            if len(levels) < 2 or len(set(levels)) != len(levels):
                raise ValueError(f"Cumulative: levels must be two or more distinct categories, "
                                 f"got {levels!r}")
        self.levels = levels

    def __repr__(self):
        extra = "" if self.levels is None else f", levels={list(self.levels)!r}"
        return f"Cumulative(link={self.link!r}{extra})"

    @property
    def n_categories(self) -> int:
        if self.levels is None:
            raise ValueError("Cumulative: the categories are not known yet (the family learns "
                             "them from the response when the model is built)")
        return len(self.levels)

    # -- the response -----------------------------------------------------------------------
    def encode_response(self, endog, what: str = "endog"):
        """(codes, the family bound to the levels): the response as category codes 0 .. K-1
        (float; missing values stay NaN), in a Series with the input's index and name where
        the input was pandas. An ordered categorical gives its categories' order; integers
        their sorted values; anything else is an error naming the response."""
        s = endog.iloc[:, 0] if isinstance(endog, pd.DataFrame) and endog.shape[1] == 1 else endog
        if isinstance(s, pd.DataFrame):
            raise ValueError(f"{what}: an ordinal response is one column, got {s.shape[1]}")
        ser = s if isinstance(s, pd.Series) else pd.Series(np.asarray(s))
        if ser.ndim != 1:
            raise ValueError(f"{what}: an ordinal response is one column")
        missing = ser.isna().to_numpy()
        if isinstance(ser.dtype, pd.CategoricalDtype):
            if not ser.dtype.ordered:
                raise TypeError(
                    f"{what}: the categorical response is not ordered; make the order yours: "
                    "pd.Categorical(values, categories=[...], ordered=True)")
            levels = tuple(_jsonable(v) for v in ser.cat.categories)
            values = ser.astype(object).where(~missing, None).to_numpy()
        elif pd.api.types.is_numeric_dtype(ser.dtype) and not pd.api.types.is_bool_dtype(ser.dtype):
            v = ser.to_numpy(dtype=float, na_value=np.nan)
            bad = np.flatnonzero(~missing & ((v != np.round(v)) | ~np.isfinite(v)))
            if bad.size:
                i = bad[0]
                raise ValueError(f"{what}: row label {ser.index[i]!r} has {v[i]:g}, not an "
                                 "integer: an ordinal response is an ordered categorical or "
                                 "integer codes")
            levels = tuple(int(x) for x in np.unique(v[~missing]))
            values = np.where(missing, np.nan, v)
        else:
            raise TypeError(f"{what}: an ordinal response must be an ordered categorical or "
                            f"integers, got dtype {ser.dtype} (strings have no order: use "
                            "pd.Categorical(values, categories=[...], ordered=True))")
        if self.levels is not None:  # bound already: the levels are the family's
            unknown = [x for x in pd.unique(values[~missing]) if _jsonable(x) not in self.levels]
            if unknown:
                raise ValueError(f"{what}: category {unknown[0]!r} is not one of the levels "
                                 f"{list(self.levels)!r}")
            levels = self.levels
        if len(levels) < 2:
            raise ValueError(f"{what}: the ordinal response has {len(levels)} category; it needs "
                             "two or more")
        index = {lv: k for k, lv in enumerate(levels)}
        codes = np.array([np.nan if m else float(index[_jsonable(x)])
                          for x, m in zip(values, missing)])
        out = pd.Series(codes, index=ser.index, name=ser.name) if isinstance(s, pd.Series) \
            else codes
        return out, type(self)(self.link, levels=levels)

    def check_design(self, design) -> None:
        X = design.X
        ones = np.ones(X.shape[0])
        coef, *_ = np.linalg.lstsq(X, ones, rcond=None)
        if np.linalg.norm(X @ coef - ones) < 1e-8 * math.sqrt(X.shape[0]):
            raise ValueError(
                "exog: the design's columns add up to a constant, which the ordinal model's "
                "cutpoints already are (it has no intercept, as MASS::polr): drop the constant "
                "column, or with a formula write 'y ~ x' (its intercept is dropped for you) "
                "rather than '0 + ...' (whose factors then code every level)")
        seen = np.unique(design.y)
        missing = [self.levels[k] for k in range(self.n_categories) if k not in seen]
        if missing:
            raise ValueError(f"endog: category {missing[0]!r} of {list(self.levels)!r} has no "
                             "rows, so its cutpoint is not identified: drop the level (or merge "
                             "it with a neighbour)")

    # -- the model ----------------------------------------------------------------------------
    def extra_params(self):
        return (Param("cutpoints", "ordered", size=self.n_categories - 1,
                      meaning="P(Y <= k) = F(cutpoints[k] - x'beta)"),)

    def default_extra_prior(self, param, design):
        return [(P.StudentT(3.0, 0.0, 2.5), "brms: student_t(3, 0, 2.5) on each cutpoint")] * \
            param.size

    def valid_mu(self, mu):
        return jnp.isfinite(mu)

    def loglike(self, y, eta, extra, trials=None, aux=None):
        kappa = extra["cutpoints"]
        K = self.n_categories
        c = y.astype(jnp.int32) if hasattr(y, "astype") else jnp.asarray(y, jnp.int32)
        first, last = c == 0, c == K - 1
        # the category's upper cutpoint minus eta (for the last category: its lower one), and
        # for a middle category its lower one; the end categories get a stand-in one unit below
        # (their branch is not used, and must not have an infinite gradient: log(0) at lower =
        # upper would make the where's gradient NaN)
        upper = kappa[jnp.minimum(c, K - 2)] - eta
        lower = jnp.where(first | last, upper - 1.0, kappa[jnp.maximum(c - 1, 0)] - eta)
        lf_u, ls_u = _log_cdf_sf(self.link, upper)
        lf_l, ls_l = _log_cdf_sf(self.link, lower)
        # F(upper) - F(lower), from the side where the two are not both close to 1
        middle = jnp.where(lf_l > math.log(0.5), _log_diff(ls_l, ls_u), _log_diff(lf_u, lf_l))
        return jnp.where(first, lf_u, jnp.where(last, ls_u, middle))

    def probabilities(self, eta, extra, xp=jnp):
        """(n, K) category probabilities P(Y = k | eta)."""
        kappa = extra["cutpoints"]
        F = xp.exp(_log_cdf_sf(self.link, kappa[None, :] - eta[:, None])[0])
        F = xp.concatenate([xp.zeros_like(F[:, :1]), F, xp.ones_like(F[:, :1])], axis=1)
        return F[:, 1:] - F[:, :-1]

    def mean(self, eta, extra, aux=None):
        """E[code] = sum_k P(Y > k), on the codes' scale 0 .. K-1."""
        kappa = extra["cutpoints"]
        eta = jnp.asarray(eta)
        return jnp.sum(jnp.exp(_log_cdf_sf(self.link, kappa[None, :] - eta[:, None])[1]), axis=1)

    # -- the classical fit's start ----------------------------------------------------------
    def start_family(self):
        return None  # no IRLS start: the coefficients start at 0

    def start_extra(self, y, mu, trials, weights, aux=None):
        w = np.ones_like(y) if weights is None else weights
        counts = np.array([np.sum(w[y == k]) for k in range(self.n_categories)])
        cum = np.cumsum(counts)[:-1] / np.sum(counts)
        cum = np.clip(cum, 1e-6, 1 - 1e-6)
        kappa = np.asarray(self.link.link(jnp.asarray(cum)), dtype=float)
        kappa = np.maximum.accumulate(kappa + 1e-6 * np.arange(kappa.size))
        return {"cutpoints": kappa}

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        eta = np.asarray(eta, dtype=float)
        P = np.asarray(self.probabilities(jnp.asarray(eta.ravel()), extra))
        u = rng.random(P.shape[0])[:, None]
        codes = np.sum(np.cumsum(P, axis=1)[:, :-1] < u, axis=1).astype(float)
        return codes.reshape(eta.shape)

