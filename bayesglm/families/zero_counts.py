"""Counts with a zero part of their own: zero-inflated and hurdle Poisson and negative binomial.

* zero-inflated (as ``pscl::zeroinfl``): y = 0 with probability ``zi`` (a structural zero), else
  a Poisson or NB2 count; P(0) = zi + (1 - zi) f(0), P(k) = (1 - zi) f(k) for k > 0;
* hurdle (as ``pscl::hurdle``, glmmTMB's ``truncated_*`` with ``ziformula``, brms' ``hurdle_*``):
  y = 0 with probability ``hu``, else a zero-truncated count; P(0) = hu, P(k) = (1 - hu) f(k) /
  (1 - f(0)). ``hu`` is P(y = 0), so its logit coefficients have the opposite sign of pscl's
  hurdle zero model (which models P(y > 0)).

f is the count distribution with mean mu = exp(eta) (the log link), NB2's Var = mu + alpha mu^2
(alpha = 1 / theta of pscl and MASS). The zero part is a constant probability (a parameter
``zi`` / ``hu`` in ``params``) or a logistic model given as a formula to the family,
``ZeroInflatedPoisson(zi="~ x")``, whose coefficients are ``zi_<name>`` / ``hu_<name>``; its
design matrix is data, made by the formula front end (``bg.glm``) and handed to the density as
``aux[<name>]``.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax.nn import log_sigmoid
from jax.numpy import logaddexp

from .. import links as L
from .. import priors as P
from .._args import real
from .base import Domain
from .likelihood import LikelihoodFamily, Param
from .negative_binomial import NegativeBinomial
from .poisson import POISSON_MAX, Poisson

_POISSON, _NB = Poisson(), NegativeBinomial()  # their count densities (one owner)

__all__ = ["ZeroInflatedPoisson", "ZeroInflatedNegativeBinomial", "HurdlePoisson",
           "HurdleNegativeBinomial"]


class _ZeroCounts(LikelihoodFamily):
    """The shared rules of the four families (see the module)."""

    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Log,)
    default_link = L.Log
    ppc_kind = "zero_count"
    count_response = True
    mean_is_inverse_link = False
    negbin = False
    hurdle = False
    zero_name = "zi"

    def __init__(self, link: L.Link | str | None = None, *, zero=None, zero_names=None,
                 alpha: float | None = None):
        super().__init__(link)
        if zero is not None and not (isinstance(zero, str) and zero.strip().startswith("~")):
            raise ValueError(f"{type(self).__name__}: {self.zero_name} must be None (a constant "
                             f"probability, estimated) or a one-sided formula such as '~ x' "
                             f"(a logistic model), got {zero!r}")
        self.zero = None if zero is None else zero.strip()
        self.zero_names = None if zero_names is None else tuple(str(v) for v in zero_names)
        if alpha is not None:
            if not self.negbin:
                raise TypeError(f"{type(self).__name__} has no alpha")
            alpha = real(alpha, f"{type(self).__name__}: alpha", low=0.0, low_open=True)
        self.alpha = alpha

    # -- identity (the base's, from spec_params) ---------------------------------------------
    def __repr__(self):
        parts = [f"link={self.link!r}"]
        if self.zero is not None:
            parts.append(f"{self.zero_name}={self.zero!r}")
        if self.alpha is not None:
            parts.append(f"alpha={self.alpha:g}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- the zero part's design ------------------------------------------------------------
    def aux_formulas(self) -> dict:
        """The extra design matrices the family needs, by name: the zero model's formula."""
        return {} if self.zero is None else {self.zero_name: self.zero}

    def bind_aux(self, names: dict):
        """The family bound to its zero model's column names (the model does this)."""
        kw = dict(zip(self.spec_params, self._spec_values()))
        return type(self)(self.link, **{**kw, "zero_names": names[self.zero_name]})

    # -- what the family declares ---------------------------------------------------------
    def extra_params(self):
        what = "structural zero" if not self.hurdle else "zero"
        out = []
        if self.zero is None:
            out.append(Param(self.zero_name, "unit",
                             meaning=f"probability of a {what}"
                             + (" (P(y = 0))" if self.hurdle else " (pscl's zero model)"),
                             limit_low=self._low_text(),
                             limit=f"{self.zero_name} runs to 1: (almost) every count is 0, and "
                                   "the counts' own part is not identified"))
        else:
            if self.zero_names is None:
                raise ValueError(f"{type(self).__name__}: the zero model {self.zero!r} is not "
                                 "bound to its design yet (bg.glm builds it from the data)")
            out.append(Param(self.zero_name, "real", size=len(self.zero_names),
                             names=tuple(f"{self.zero_name}_{n}" for n in self.zero_names),
                             meaning=f"logit P({what}) = Z {self.zero_name}_coefficients"))
        if self.negbin and self.alpha is None:
            plain = "hurdle Poisson" if self.hurdle else "zero-inflated Poisson"
            out.append(Param("alpha", "positive", meaning="Var = mu + alpha mu^2 (1 / theta)",
                             limit_low=f"alpha runs to 0: the counts are no more dispersed "
                                       f"than Poisson ones, and the {plain} family fits as "
                                       "well"))
        return tuple(out)

    def default_extra_prior(self, param, design):
        if param.name == "alpha":
            return [(P.Exponential(1.0), "Exponential(1) on alpha, as the negative binomial's")]
        if param.support == "unit":
            return [(P.Flat(), "uniform on (0, 1) (brms: beta(1, 1))")]
        # the zero model is a logistic regression: rstanarm's stan_glm defaults for one,
        # normal(0, 2.5) on the intercept and normal(0, 2.5 / sd(z)) on each slope
        Z = design.aux[self.zero_name]
        out = []
        for j in range(Z.shape[1]):
            col = Z[:, j]
            k = len(np.unique(col))
            sd = float(np.std(col, ddof=1)) if k > 1 else 1.0
            note = ("rstanarm (logistic): normal(0, 2.5), on the uncentred intercept" if k == 1
                    else "rstanarm (logistic): normal(0, 2.5 / sd(z))")
            out.append((P.Normal(0.0, 2.5 / sd), note))
        return out

    def fixed_extra(self):
        return {"alpha": self.alpha} if (self.negbin and self.alpha is not None) else {}

    def _low_text(self):
        plain = "negative binomial" if self.negbin else "Poisson"
        if self.hurdle:
            return (f"hu runs to 0: there are (almost) no zeros, and a zero-truncated {plain} "
                    "describes the counts")
        return (f"{self.zero_name} runs to 0: the {plain} counts explain the zeros without a "
                f"zero part, and the plain {plain} family fits as well")

    # -- the mathematics (JAX) ------------------------------------------------------------
    def _log_count(self, y, mu, extra):
        """(log f(y), log f(0)) of the count distribution."""
        if self.negbin:
            alpha = extra["alpha"]
            return _NB.loglike_obs(y, mu, alpha), -jnp.log1p(alpha * mu) / alpha
        return _POISSON.loglike_obs(y, mu), -mu

    def _zero_logits(self, extra, aux):
        """(log p, log(1 - p)) of the zero part's probability p, per row or scalar."""
        if self.zero is None:
            p = extra[self.zero_name]
            return jnp.log(p), jnp.log1p(-p)
        g = aux[self.zero_name] @ extra[self.zero_name]
        return log_sigmoid(g), log_sigmoid(-g)

    def loglike(self, y, eta, extra, trials=None, aux=None):
        mu = jnp.exp(eta)
        lf, lf0 = self._log_count(y, mu, extra)
        lp, lq = self._zero_logits(extra, aux)
        zero = y == 0
        if self.hurdle:
            lpos = lq + lf - jnp.log(-jnp.expm1(jnp.minimum(lf0, -jnp.finfo(lf0.dtype).tiny)))
            return jnp.where(zero, lp, lpos)
        return jnp.where(zero, logaddexp(lp, lq + lf0), lq + lf)

    def mean(self, eta, extra, aux=None):
        mu = jnp.exp(eta)
        lp, lq = self._zero_logits(extra, aux)
        if self.hurdle:
            _, lf0 = self._log_count(jnp.zeros_like(mu), mu, extra)
            return jnp.exp(lq) * mu / -jnp.expm1(lf0)
        return jnp.exp(lq) * mu

    # -- the classical fit's start ----------------------------------------------------------
    def start_family(self):
        return Poisson(self.link)

    def start_extra(self, y, mu, trials, weights, aux=None):
        w = np.ones_like(y) if weights is None else weights
        frac0 = float(np.sum(w * (y == 0)) / np.sum(w))
        if self.hurdle:
            p = frac0
        else:
            f0 = float(np.sum(w * np.exp(-mu)) / np.sum(w))
            p = (frac0 - f0) / max(1.0 - f0, 1e-8)
        p = float(np.clip(p, 0.02, 0.9))
        out = {}
        if self.zero is None:
            out[self.zero_name] = p
        else:
            Z = aux[self.zero_name]
            gamma = np.zeros(Z.shape[1])
            const = [j for j in range(Z.shape[1]) if np.all(Z[:, j] == Z[0, j]) and Z[0, j] != 0]
            if const:
                gamma[const[0]] = math.log(p / (1 - p)) / Z[0, const[0]]
            out[self.zero_name] = gamma
        if self.negbin and self.alpha is None:
            m = float(np.sum(w * y) / np.sum(w))
            v = float(np.sum(w * (y - m) ** 2) / np.sum(w))
            out["alpha"] = float(np.clip((v - m) / max(m * m, 1e-12), 0.1, 10.0))
        return out

    def draw_rows(self, rng, eta, extra, trials=None, aux=None):
        eta = np.asarray(eta, dtype=float)
        mu = np.minimum(np.exp(eta), POISSON_MAX)
        if self.zero is None:
            p = np.full(eta.shape, float(extra[self.zero_name]))
        else:
            p = 1.0 / (1.0 + np.exp(-(np.asarray(aux[self.zero_name]) @ np.asarray(
                extra[self.zero_name]))))
            p = np.broadcast_to(p, eta.shape)

        def counts(size_mu):
            if self.negbin:
                a = extra["alpha"]
                return rng.poisson(np.minimum(rng.gamma(1.0 / a, a * size_mu), POISSON_MAX))
            return rng.poisson(size_mu)

        y = counts(mu).astype(float)
        if self.hurdle:  # a zero-truncated count: redraw the zeros (at most 200 rounds)
            for _ in range(200):
                redo = y == 0
                if not redo.any():
                    break
                y[redo] = counts(mu[redo])
            y[y == 0] = 1.0  # rates so small that a positive count is almost surely 1
        return np.where(rng.random(eta.shape) < p, 0.0, y)


class ZeroInflatedPoisson(_ZeroCounts):
    """Poisson counts with extra (structural) zeros: P(0) = zi + (1 - zi) e^-mu (pscl's
    ``zeroinfl(dist = "poisson")``). ``zi=None`` estimates a constant zi; ``zi="~ x"`` models
    logit(zi) with coefficients ``zi_<name>``."""

    name = "zero_inflated_poisson"
    spec_params = ("zi", "zero_names")

    def __init__(self, link=None, *, zi=None, zero_names=None):
        super().__init__(link, zero=zi, zero_names=zero_names)

    @property
    def zi(self):
        """The zero model's formula, or None (a constant zi)."""
        return self.zero


class ZeroInflatedNegativeBinomial(_ZeroCounts):
    """NB2 counts with structural zeros (pscl's ``zeroinfl(dist = "negbin")``); ``alpha`` =
    1 / theta estimated unless given."""

    name = "zero_inflated_negative_binomial"
    negbin = True
    spec_params = ("zi", "zero_names", "alpha")

    def __init__(self, link=None, *, zi=None, alpha=None, zero_names=None):
        super().__init__(link, zero=zi, zero_names=zero_names, alpha=alpha)

    @property
    def zi(self):
        """The zero model's formula, or None (a constant zi)."""
        return self.zero


class HurdlePoisson(_ZeroCounts):
    """P(0) = hu, the positive counts zero-truncated Poisson (pscl's ``hurdle(dist =
    "poisson")``, with its zero model's sign reversed: hu = P(y = 0))."""

    name = "hurdle_poisson"
    hurdle = True
    zero_name = "hu"
    spec_params = ("hu", "zero_names")

    def __init__(self, link=None, *, hu=None, zero_names=None):
        super().__init__(link, zero=hu, zero_names=zero_names)

    @property
    def hu(self):
        """The zero model's formula, or None (a constant hu)."""
        return self.zero


class HurdleNegativeBinomial(_ZeroCounts):
    """P(0) = hu, the positive counts zero-truncated NB2 (pscl's ``hurdle(dist = "negbin")``)."""

    name = "hurdle_negative_binomial"
    hurdle = True
    negbin = True
    zero_name = "hu"
    spec_params = ("hu", "zero_names", "alpha")

    def __init__(self, link=None, *, hu=None, alpha=None, zero_names=None):
        super().__init__(link, zero=hu, zero_names=zero_names, alpha=alpha)

    @property
    def hu(self):
        """The zero model's formula, or None (a constant hu)."""
        return self.zero
