"""Prior specifications and the default (autoscaled) priors of a GLM.

Backend-neutral: plain Python/NumPy objects. Each prior writes its log density once
(``Prior.kernel``, generic over NumPy's and JAX's functions, :class:`Ops`): ``logpdf``
evaluates it in NumPy (the prior-conflict check, the tests), the NumPyro model in
``model.py`` with JAX. ``sample`` draws from it with NumPy's generator (prior predictive).

Default priors (``priors="auto"``) follow rstanarm, as documented in the vignette *Prior
Distributions for rstanarm Models* (section "Default priors and scale adjustments",
https://mc-stan.org/rstanarm/articles/priors.html) and ``?rstanarm::priors``, and as coded
in rstanarm's ``stan_glm.fit`` / ``handle_glm_prior`` / ``set_prior_scale``
(https://github.com/stan-dev/rstanarm, files ``R/stan_glm.fit.R``, ``R/priors.R``,
``R/misc.R``). With ``s_y = sd(y)`` for the Gaussian family and 1 otherwise (R's ``sd``,
``ddof=1``):

* slope k: ``Normal(0, 2.5 * s_y / sd(x_k))``; a column with one unique value is not divided
  (rstanarm: ``if (num.categories == 1) x.scale <- 1 else x.scale <- sd(x)``); scales are
  floored at 1e-12 (rstanarm's ``min_prior_scale``);
* intercept, on centred predictors (the intercept at ``x = colMeans(X)``):
  ``Normal(m_y, 2.5 * s_y)`` with ``m_y = mean(y)`` for Gaussian + identity link, else 0;
* dispersion (rstanarm's ``prior_aux = exponential(autoscale = TRUE)``):
  ``Exponential(rate = 1 / s_y)``;
* probit link: the default scales 2.5 (slopes and intercept) are first multiplied by
  ``dnorm(0) / dlogis(0)`` (about 1.596; ``?rstanarm::priors``: "unless the probit link function
  is used, in which case these defaults are scaled by a factor of dnorm(0)/dlogis(0)";
  ``set_prior_scale`` in R/misc.R).

``priors="gelman2008"`` follows ``arm::bayesglm`` (Gelman, Jakulin, Pittau & Su 2008, "A weakly
informative default prior distribution for logistic and other regression models", Ann. Appl.
Stat. 2(4):1360-1383; ``?arm::bayesglm`` and ``bayesglm.fit`` in
https://github.com/suyusung/arm, R/bayesglm.R): Cauchy (``prior.df = 1``) priors with location 0
and scale ``prior.scale = 2.5`` for slopes, ``prior.scale.for.intercept = 10`` for the
intercept, both times 1.6 for the probit link and, for the Gaussian family, times ``2 * sd(y)``;
then (``scaled = TRUE``) each column's scale is divided by 1 (one unique value), by its range
(two unique values) or by ``2 * sd(x)`` (more); the intercept's prior applies to the intercept
at the predictors' means (``x.star[nobs + 1, ] <- colMeans(x)``).

Frequency weights are ignored in all of these data-dependent choices, as rstanarm and arm
ignore theirs (``sd(y)``, ``sd(x)``, ``mean(y)`` and ``colMeans(x)`` are unweighted).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from functools import wraps
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "Prior",
    "Normal",
    "StudentT",
    "Cauchy",
    "Laplace",
    "Flat",
    "HalfNormal",
    "HalfStudentT",
    "HalfCauchy",
    "Exponential",
    "Gamma",
    "ResolvedPriors",
    "resolve_priors",
    "PROBIT_FACTOR",
    "Ops",
    "NUMPY_OPS",
    "PRIOR_CLASSES",
    "centre",
    "x_scale",
]

#: rstanarm's probit rescaling of default prior scales: dnorm(0) / dlogis(0) = 4 / sqrt(2 pi).
PROBIT_FACTOR = 4.0 / math.sqrt(2.0 * math.pi)
_ARM_PROBIT_FACTOR = 1.6  # arm::bayesglm multiplies by the literal 1.6
_MIN_SCALE = 1e-12  # rstanarm's min_prior_scale and arm's min.prior.scale
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)


# -- helpers -------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{v + 0.0:.4g}"


def _out(x, val):
    return float(val) if np.ndim(x) == 0 else val


def _quiet(logpdf):
    """Evaluate a logpdf without NumPy floating-point warnings (inf/NaN inputs give -inf/NaN)."""

    @wraps(logpdf)
    def wrapper(self, x):
        with np.errstate(all="ignore"):
            return logpdf(self, x)

    return wrapper


def _check(prior, name: str, value, *, positive: bool) -> None:
    """Validate and store one argument as a float (frozen dataclass: via object.__setattr__)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok else math.nan
    if not (ok and math.isfinite(v) and (v > 0 or not positive)):
        what = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{type(prior).__name__}: {name} must be {what}, got {value!r}")
    object.__setattr__(prior, name, v)


class Ops(NamedTuple):
    """The array functions a prior's log density is written with: NumPy's or JAX's.

    Each prior writes its log density once (``Prior.kernel``), in these functions; ``logpdf``
    evaluates it with :data:`NUMPY_OPS` (adding the handling of values off the support), the
    NumPyro model (``bayesglm.model``) with ``jax.numpy``'s, on values inside the support.
    """

    log: object
    log1p: object
    abs: object
    lgamma: object


def _np_lgamma(a):
    from scipy.special import gammaln

    return gammaln(a)


NUMPY_OPS = Ops(np.log, np.log1p, np.abs, _np_lgamma)


def _t_kernel(ops, z, df):
    return (ops.lgamma((df + 1.0) / 2.0) - ops.lgamma(df / 2.0) - 0.5 * ops.log(df * math.pi)
            - (df + 1.0) / 2.0 * ops.log1p(z * z / df))


def _half(x, logdens):
    """``logdens(|x|)`` on x >= 0 (the kernel holds the log 2), -inf below (NaN stays NaN)."""
    x = np.asarray(x, dtype=float)
    return np.where(x < 0, -np.inf, logdens(np.abs(x)))


# -- the priors ----------------------------------------------------------------------------
class Prior:
    """Base class of prior specifications.

    Attributes: ``support`` ("real" or "positive"), ``proper`` (integrates to 1), and
    methods ``describe()``, ``scaled(factor)``, ``shifted(loc)``, ``logpdf(x)``, ``params()``,
    ``sample(rng, size)`` and the log density itself, ``kernel(ops, x, **params)``.
    """

    support: str = "real"
    proper: bool = True

    def _args(self) -> tuple[float, ...]:
        raise NotImplementedError

    def params(self) -> dict:
        """The numeric parameters by name (the keyword arguments of :meth:`kernel`)."""
        return {f: float(getattr(self, f)) for f in self.__dataclass_fields__
                if f != "support"}

    @staticmethod
    def kernel(ops: Ops, x, **params):
        """The normalised log density at ``x`` inside the support, in ``ops``' functions."""
        raise NotImplementedError

    def describe(self) -> str:
        """Short text such as ``"Normal(0, 2.5)"`` (4 significant digits)."""
        return f"{type(self).__name__}({', '.join(_fmt(a) for a in self._args())})"

    def scaled(self, factor: float) -> Prior:
        """The distribution of ``factor * X`` for ``X`` with this prior."""
        factor = _factor(self, factor)
        return self._scaled(factor)

    def _scaled(self, factor: float) -> Prior:
        raise NotImplementedError

    def shifted(self, loc: float) -> Prior:
        """The distribution of ``X + loc`` (location families only)."""
        raise TypeError(f"{type(self).__name__} is not a location family; it cannot be shifted")

    @_quiet
    def logpdf(self, x):
        """Normalised log density at ``x`` (array-like; a float for a scalar)."""
        kern = lambda v: self.kernel(NUMPY_OPS, v, **self.params())  # noqa: E731
        if self.support == "positive":
            return _out(x, _half(x, kern))
        return _out(x, kern(np.asarray(x, dtype=float)))

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        """Draws from the prior (NumPy's generator ``rng``)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


def _factor(prior: Prior, factor) -> float:
    ok = isinstance(factor, numbers.Real) and not isinstance(factor, bool)
    f = float(factor) if ok else math.nan
    if prior.support == "positive":
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f"{type(prior).__name__}.scaled: factor must be a positive finite "
                             f"number, got {factor!r}")
    elif not (math.isfinite(f) and f != 0):
        raise ValueError(f"{type(prior).__name__}.scaled: factor must be a non-zero finite "
                         f"number, got {factor!r}")
    return f


def _loc(prior: Prior, loc) -> float:
    ok = isinstance(loc, numbers.Real) and not isinstance(loc, bool)
    v = float(loc) if ok else math.nan
    if not math.isfinite(v):
        raise ValueError(f"{type(prior).__name__}.shifted: loc must be a finite number, "
                         f"got {loc!r}")
    return v


class _LocationScale(Prior):
    """Symmetric location-scale families: ``mu`` and a scale attribute ``_scale_name``."""

    _scale_name = "sigma"

    def _replace(self, mu, scale):
        kwargs = {k: getattr(self, k) for k in self.__dataclass_fields__}
        kwargs.update({"mu": mu, self._scale_name: scale})
        return type(self)(**kwargs)

    def _scaled(self, factor):
        return self._replace(self.mu * factor, getattr(self, self._scale_name) * abs(factor))

    def shifted(self, loc):
        return self._replace(self.mu + _loc(self, loc), getattr(self, self._scale_name))


@dataclass(frozen=True)
class Normal(_LocationScale):
    """Normal(mu, sigma): mean ``mu``, standard deviation ``sigma``."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _check(self, "mu", self.mu, positive=False)
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return self.mu, self.sigma

    @staticmethod
    def kernel(ops, x, mu, sigma):
        z = (x - mu) / sigma
        return -0.5 * _LOG_2PI - ops.log(sigma) - 0.5 * z * z

    def sample(self, rng, size):
        return rng.normal(self.mu, self.sigma, size)


@dataclass(frozen=True)
class StudentT(_LocationScale):
    """Student t with ``df`` degrees of freedom, location ``mu`` and scale ``sigma``."""

    df: float
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _check(self, "df", self.df, positive=True)
        _check(self, "mu", self.mu, positive=False)
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return self.df, self.mu, self.sigma

    @staticmethod
    def kernel(ops, x, df, mu, sigma):
        return _t_kernel(ops, (x - mu) / sigma, df) - ops.log(sigma)

    def sample(self, rng, size):
        return self.mu + self.sigma * rng.standard_t(self.df, size)


@dataclass(frozen=True)
class Cauchy(_LocationScale):
    """Cauchy(mu, sigma): median ``mu``, scale (half interquartile range) ``sigma``."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _check(self, "mu", self.mu, positive=False)
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return self.mu, self.sigma

    @staticmethod
    def kernel(ops, x, mu, sigma):
        z = (x - mu) / sigma
        return -_LOG_PI - ops.log(sigma) - ops.log1p(z * z)

    def sample(self, rng, size):
        return self.mu + self.sigma * rng.standard_cauchy(size)


@dataclass(frozen=True)
class Laplace(_LocationScale):
    """Laplace (double exponential) with location ``mu`` and scale ``b`` (sd = b sqrt(2))."""

    mu: float = 0.0
    b: float = 1.0
    _scale_name = "b"

    def __post_init__(self):
        _check(self, "mu", self.mu, positive=False)
        _check(self, "b", self.b, positive=True)

    def _args(self):
        return self.mu, self.b

    @staticmethod
    def kernel(ops, x, mu, b):
        return -_LOG_2 - ops.log(b) - ops.abs(x - mu) / b

    def sample(self, rng, size):
        return rng.laplace(self.mu, self.b, size)


@dataclass(frozen=True)
class Flat(Prior):
    """Improper uniform prior: on the real line, or on (0, inf) with ``support="positive"``.

    ``logpdf`` is 0 on the support (-inf off it). A posterior under flat priors may be
    improper, e.g. a logistic regression under separation.
    """

    support: str = "real"
    proper = False

    def __post_init__(self):
        if self.support not in ("real", "positive"):
            raise ValueError(f'Flat: support must be "real" or "positive", got {self.support!r}')

    def describe(self):
        return "Flat()" if self.support == "real" else "Flat(0, inf)"

    def params(self):
        return {}

    def _scaled(self, factor):
        return self

    def shifted(self, loc):
        if self.support == "positive":
            return super().shifted(loc)
        _loc(self, loc)
        return self

    @_quiet
    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        off = (x <= 0) if self.support == "positive" else np.zeros(x.shape, dtype=bool)
        return _out(x, np.where(np.isnan(x), np.nan, np.where(off, -np.inf, 0.0)))

    def sample(self, rng, size):
        raise ValueError("a flat (improper) prior cannot be sampled")


@dataclass(frozen=True)
class HalfNormal(Prior):
    """Half-normal on [0, inf): ``|X|`` for ``X ~ Normal(0, sigma)``."""

    sigma: float = 1.0
    support = "positive"

    def __post_init__(self):
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return (self.sigma,)

    def _scaled(self, factor):
        return HalfNormal(self.sigma * factor)

    @staticmethod
    def kernel(ops, x, sigma):
        return _LOG_2 + Normal.kernel(ops, x, 0.0, sigma)

    def sample(self, rng, size):
        return np.abs(rng.normal(0.0, self.sigma, size))


@dataclass(frozen=True)
class HalfStudentT(Prior):
    """Half Student t on [0, inf): ``|X|`` for ``X ~ StudentT(df, 0, sigma)``."""

    df: float
    sigma: float = 1.0
    support = "positive"

    def __post_init__(self):
        _check(self, "df", self.df, positive=True)
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return self.df, self.sigma

    def _scaled(self, factor):
        return HalfStudentT(self.df, self.sigma * factor)

    @staticmethod
    def kernel(ops, x, df, sigma):
        return _LOG_2 + StudentT.kernel(ops, x, df, 0.0, sigma)

    def sample(self, rng, size):
        return np.abs(self.sigma * rng.standard_t(self.df, size))


@dataclass(frozen=True)
class HalfCauchy(Prior):
    """Half-Cauchy on [0, inf): ``|X|`` for ``X ~ Cauchy(0, sigma)``."""

    sigma: float = 1.0
    support = "positive"

    def __post_init__(self):
        _check(self, "sigma", self.sigma, positive=True)

    def _args(self):
        return (self.sigma,)

    def _scaled(self, factor):
        return HalfCauchy(self.sigma * factor)

    @staticmethod
    def kernel(ops, x, sigma):
        return _LOG_2 + Cauchy.kernel(ops, x, 0.0, sigma)

    def sample(self, rng, size):
        return np.abs(self.sigma * rng.standard_cauchy(size))


@dataclass(frozen=True)
class Exponential(Prior):
    """Exponential with ``rate`` (mean 1 / rate) on [0, inf)."""

    rate: float = 1.0
    support = "positive"

    def __post_init__(self):
        _check(self, "rate", self.rate, positive=True)

    def _args(self):
        return (self.rate,)

    def _scaled(self, factor):
        return Exponential(self.rate / factor)

    @staticmethod
    def kernel(ops, x, rate):
        return ops.log(rate) - rate * x

    def sample(self, rng, size):
        return rng.exponential(1.0 / self.rate, size)


@dataclass(frozen=True)
class Gamma(Prior):
    """Gamma with shape ``alpha`` and rate ``beta`` (mean alpha / beta) on (0, inf)."""

    alpha: float
    beta: float
    support = "positive"

    def __post_init__(self):
        _check(self, "alpha", self.alpha, positive=True)
        _check(self, "beta", self.beta, positive=True)

    def _args(self):
        return self.alpha, self.beta

    def _scaled(self, factor):
        return Gamma(self.alpha, self.beta / factor)

    @staticmethod
    def kernel(ops, x, alpha, beta):
        return alpha * ops.log(beta) - ops.lgamma(alpha) + (alpha - 1.0) * ops.log(x) - beta * x

    @_quiet
    def logpdf(self, x):
        a, b = self.alpha, self.beta
        x = np.asarray(x, dtype=float)
        pos = (x > 0) & (x < np.inf)
        val = self.kernel(NUMPY_OPS, np.where(pos, x, 1.0), a, b)
        at0 = 0.0 if a == 1.0 else (math.inf if a < 1.0 else -math.inf)  # (a - 1) log(0)
        val = np.where(pos, val, a * math.log(b) - math.lgamma(a) + at0)
        val = np.where((x < 0) | (x == np.inf), -np.inf, val)
        return _out(x, np.where(np.isnan(x), np.nan, val))

    def sample(self, rng, size):
        return rng.gamma(self.alpha, 1.0 / self.beta, size)


#: the prior classes by name (a compiled model's static structure names them)
PRIOR_CLASSES = {cls.__name__: cls for cls in (Normal, StudentT, Cauchy, Laplace, Flat,
                                               HalfNormal, HalfStudentT, HalfCauchy,
                                               Exponential, Gamma)}


def centre(params, x_means, index, *, inverse: bool = False):
    """The intercept ``params[index]`` moved to the centred intercept ``b0 + x_means @ beta``
    (``inverse``: back), on the last axis; NumPy or JAX arrays.

    ``x_means[index]`` is 0, so the map is linear with unit Jacobian and its inverse subtracts
    the same ``x_means @ beta``.
    """
    shift = params @ x_means
    e = np.zeros(np.shape(x_means)[-1])
    e[index] = 1.0
    return params + (-shift if inverse else shift)[..., None] * e


# -- resolved priors -----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResolvedPriors:
    """The priors of one model, after defaults and autoscaling.

    Attributes
    ----------
    coef : tuple of Prior
        One prior per coefficient, in design order. When ``intercept_centered`` is True, the
        intercept's entry is the prior of the *centred* intercept ``b0 + x_means @ beta``.
    intercept_index : int or None
        Position of the intercept (``design.const_index``).
    intercept_centered : bool
        Whether the intercept's prior applies to the centred intercept.
    x_means : numpy.ndarray
        (p,) centring vector: column means of X divided by the intercept column's value, 0 at
        the intercept (all zeros when not centred). Unweighted, as rstanarm and arm.
    dispersion : Prior or None
        Prior of the family's dispersion parameter (``dispersion_name``), None where the family
        has none (Binomial, Poisson, NegativeBinomial with a fixed alpha).
    source : str
        ``"auto"``, ``"gelman2008"``, ``"flat"`` or ``"custom"``.
    names, dispersion_name : coefficient names and the dispersion's name.
    coef_specified, dispersion_specified : the priors asked for before autoscaling.
    coef_notes, dispersion_note : how each prior was obtained.
    """

    coef: tuple[Prior, ...]
    intercept_index: int | None
    intercept_centered: bool
    x_means: np.ndarray
    dispersion: Prior | None
    source: str
    names: tuple[str, ...] = ()
    dispersion_name: str | None = None
    coef_specified: tuple[Prior, ...] = ()
    dispersion_specified: Prior | None = None
    coef_notes: tuple[str, ...] = ()
    dispersion_note: str = ""

    def centred(self, params) -> np.ndarray:
        """``params`` with the intercept replaced by ``b0 + x_means @ beta`` when centred.

        The map is linear with unit Jacobian, so the prior density of ``params`` is the product
        of ``coef[j].logpdf`` over the entries of ``centred(params)``.
        """
        params = np.asarray(params, dtype=float)
        if not self.intercept_centered:
            return params
        return centre(params, self.x_means, self.intercept_index)

    def log_prior(self, params, dispersion=None) -> float:
        """Total normalised log prior density (NumPy) of a coefficient vector and dispersion."""
        theta = self.centred(params)
        total = sum(float(pr.logpdf(t)) for pr, t in zip(self.coef, theta))
        if self.dispersion is not None and dispersion is not None:
            total += float(self.dispersion.logpdf(dispersion))
        return total

    def draw(self, rng: np.random.Generator, draws: int) -> dict:
        """Draws of the parameters from their (proper) priors, NumPy's generator ``rng``:
        ``{"beta": (draws, p), dispersion_name: (draws,)}``; a centred intercept's draw is
        turned into the intercept (:func:`centre`, inverse)."""
        if any(not pr.proper for pr in self.coef) or (
                self.dispersion is not None and not self.dispersion.proper):
            raise ValueError(
                "prior predictive draws need proper priors; this model has a flat (improper) "
                'prior. Use priors="auto" or give a proper prior for every coefficient and the '
                "dispersion.")
        beta = np.stack([pr.sample(rng, draws) for pr in self.coef], axis=-1)
        if self.intercept_centered:
            beta = centre(beta, self.x_means, self.intercept_index, inverse=True)
        out = {"beta": beta}
        if self.dispersion is not None:
            out[self.dispersion_name] = self.dispersion.sample(rng, draws)
        return out

    def table(self) -> pd.DataFrame:
        """Rows: coefficients, then the dispersion; columns: parameter, prior (as used),
        specified (as asked, before autoscaling), adjusted (they differ), note."""
        rows = []
        for j, pr in enumerate(self.coef):
            spec = self.coef_specified[j] if self.coef_specified else pr
            note = self.coef_notes[j] if self.coef_notes else ""
            name = self.names[j] if self.names else f"x{j}"
            rows.append((name, pr.describe(), spec.describe(), spec != pr, note))
        if self.dispersion is not None:
            spec = self.dispersion_specified or self.dispersion
            rows.append((self.dispersion_name or "dispersion", self.dispersion.describe(),
                         spec.describe(), spec != self.dispersion, self.dispersion_note))
        return pd.DataFrame(rows, columns=["parameter", "prior", "specified", "adjusted", "note"])


# -- resolution ----------------------------------------------------------------------------
_FORMS = ('"auto", "gelman2008", "flat", a bayesglm.priors.Prior (for every slope), or a dict '
          '{coef_name: Prior, ..., "dispersion": Prior}')


def _sd(x) -> float:
    """R's sd (ddof=1); NaN for fewer than 2 values."""
    return float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


class _Context:
    """Data summaries shared by the default rules."""

    def __init__(self, design, family):
        if not all(hasattr(family, a) for a in ("link", "dispersion_param", "autoscale_by_sd_y")):
            raise TypeError("family must be a bayesglm.families.Family, got "
                            f"{type(family).__name__}")
        self.family = family
        self.name, self.link = family.name, family.link.name
        self.disp_name = family.dispersion_param  # None: no dispersion parameter (or fixed)
        self.identity = self.link == "identity" or (
            self.link == "power" and getattr(family.link, "power", 0) == 1)
        self.gaussian = family.autoscale_by_sd_y
        X = np.asarray(design.X, dtype=float)
        y = np.asarray(design.y, dtype=float)
        self.X, self.y = X, y
        self.names = tuple(design.names)
        self.p = X.shape[1]
        self.icpt = design.const_index
        self.c = float(X[0, self.icpt]) if self.icpt is not None else 1.0
        sd_y = _sd(y)
        self.sd_y_ok = math.isfinite(sd_y) and sd_y > 0
        self.s_y = sd_y if self.gaussian and self.sd_y_ok else 1.0
        self.slopes = [j for j in range(self.p) if j != self.icpt]
        means = X.mean(axis=0) / self.c
        if self.icpt is not None:
            means[self.icpt] = 0.0
        self.x_means = means


def x_scale(x, rule: str) -> tuple[float, str]:
    """Divisor of a column's prior scale: rstanarm (sd) or arm (range / 2 sd); 1 if constant."""
    k = len(np.unique(x))
    if k == 1:
        return 1.0, "one value: not divided"
    if rule == "auto":
        return _sd(x), "/ sd(x)"
    if k == 2:
        return float(x.max() - x.min()), "/ range(x) (two values)"
    return 2.0 * _sd(x), "/ (2 sd(x))"


def _default_coefs(ctx: _Context, rule: str):
    """Default priors of every coefficient under ``rule``: lists (coef, specified, notes)."""
    auto = rule == "auto"
    src = "rstanarm" if auto else "arm::bayesglm"
    dist, icpt_scale = (Normal, 2.5) if auto else (Cauchy, 10.0)
    factor, txt = 1.0, ""
    if ctx.link == "probit":
        factor = PROBIT_FACTOR if auto else _ARM_PROBIT_FACTOR
        txt = (" * dnorm(0)/dlogis(0)" if auto else " * 1.6") + " [probit]"
    if ctx.gaussian:
        factor *= ctx.s_y if auto else 2.0 * ctx.s_y
        txt += (" * sd(y)" if auto else " * 2 sd(y)") if ctx.sd_y_ok else \
            " * 1 (sd(y) is 0 or undefined)"
    coef, spec, notes = [], [], []
    for j in range(ctx.p):
        if j == ctx.icpt:
            loc = float(ctx.y.mean()) if auto and ctx.gaussian and ctx.identity else 0.0
            prior = dist(loc, max(_MIN_SCALE, icpt_scale * factor))
            note = (f"{src}: centred intercept (at the predictors' means), "
                    f"scale {_fmt(icpt_scale)}{txt}" + (", location mean(y)" if loc else ""))
            if ctx.c != 1.0:  # prior of c b0 + xbar beta -> prior of b0 + (xbar / c) beta
                prior = prior.scaled(1.0 / ctx.c)
                note += f"; divided by the constant column's value {_fmt(ctx.c)}"
            coef.append(prior)
            spec.append(dist(loc, icpt_scale))
        else:
            divisor, how = x_scale(ctx.X[:, j], rule)
            coef.append(dist(0.0, max(_MIN_SCALE, 2.5 * factor / divisor)))
            spec.append(dist(0.0, 2.5))
            note = f"{src}: 2.5{txt} {how}"
        notes.append(note)
    return coef, spec, notes


def _auto_dispersion(ctx: _Context):
    """rstanarm's prior_aux = exponential(autoscale = TRUE): (prior, specified, note)."""
    if ctx.disp_name is None:
        return None, None, ""
    return ctx.family.default_dispersion_prior(ctx.s_y, ctx.sd_y_ok)


def _check_prior(value, where: str):
    if isinstance(value, type) and issubclass(value, Prior):
        raise TypeError(f"{where}: got the class {value.__name__}, not an instance; "
                        f"did you mean {value.__name__}(...)?")
    if not isinstance(value, Prior):
        raise TypeError(f"{where}: must be a bayesglm.priors.Prior (e.g. Normal(0, 2.5)), got "
                        f"{type(value).__name__} {value!r}")
    return value


def _coef_prior(value, where: str) -> Prior:
    value = _check_prior(value, where)
    if value.support != "real":
        raise ValueError(f"{where}: {value.describe()} has {value.support} support, but a "
                         "coefficient takes any real value; use Normal, StudentT, Cauchy, "
                         "Laplace or Flat")
    return value


def _dispersion_prior(value, ctx: _Context) -> Prior:
    where = f"priors['dispersion'] ({ctx.disp_name})"
    value = _check_prior(value, where)
    if isinstance(value, Flat):
        return Flat(support="positive")
    if value.support != "positive":
        raise ValueError(f"{where}: {value.describe()} has real support, but {ctx.disp_name} "
                         "is positive; use HalfNormal, HalfStudentT, HalfCauchy, Exponential, "
                         "Gamma or Flat")
    return value


def resolve_priors(priors, design, family) -> ResolvedPriors:
    """Turn the ``priors=`` argument of a model into one prior per parameter.

    Parameters
    ----------
    priors : str, Prior or dict
        ``"auto"`` (rstanarm's autoscaled defaults), ``"gelman2008"`` (arm::bayesglm's Cauchy
        defaults), ``"flat"`` (improper uniform on every coefficient and the dispersion), one
        ``Prior`` (used as given for every slope; intercept and dispersion keep the auto
        defaults), or a dict ``{coef_name: Prior, ..., "dispersion": Prior}`` (the named
        parameters get those priors, as given; the others the auto defaults). A user prior for
        the intercept applies to the uncentred intercept ``b0``.
    design : bayesglm.design.Design
        Validated data (``y``, ``X``, ``names``, ``const_index``).
    family : bayesglm.families.Family
        Family with its link; ``family.dispersion_name`` names the dispersion parameter.

    Returns
    -------
    ResolvedPriors

    Raises
    ------
    ValueError
        Unknown string or coefficient name (the message lists the valid ones), a dispersion
        prior for a family without one, a real-support dispersion prior, a positive-support
        coefficient prior.
    TypeError
        A value that is not a ``Prior``, or an unsupported type of ``priors``.

    Notes
    -----
    Rules and sources are in the module docstring. Deviations from rstanarm: (1) the probit
    factor multiplies default scales only (rstanarm's ``set_prior_scale`` also multiplies
    user-given normal/t/cauchy scales; here a user's prior is used exactly as given); (2) for
    the negative binomial, rstanarm's ``Exponential(1)`` applies to the reciprocal dispersion
    ``theta = 1/alpha``; here ``Exponential(1)`` applies to ``alpha`` (rstanarm's choice would
    be ``alpha ~ InverseGamma(1, 1)``, whose density vanishes at the Poisson limit
    ``alpha = 0``; ours shrinks toward it); (3) a constant ``sd(y)`` (constant or single
    Gaussian response) is replaced by 1. ``"gelman2008"`` uses the ``"auto"`` dispersion prior
    (arm estimates the dispersion without a prior). ``"flat"``: the posterior may be improper
    (e.g. under separation).
    """
    ctx = _Context(design, family)
    if isinstance(priors, str):
        key = priors.strip().lower()
        if key == "flat":
            flat = (Flat(),) * ctx.p
            disp = Flat(support="positive") if ctx.disp_name else None
            return _record(ctx, "flat", flat, flat, ("flat (improper)",) * ctx.p,
                           (disp, disp, "flat (improper) on (0, inf)" if disp else ""), False)
        if key not in ("auto", "gelman2008"):
            raise ValueError(f"priors: unknown value {priors!r}; accepted forms: {_FORMS}")
        disp = _auto_dispersion(ctx)
        if key == "gelman2008" and disp[0] is not None:
            disp = (*disp[:2], "as 'auto' (arm has no prior on the dispersion); " + disp[2])
        return _record(ctx, key, *_default_coefs(ctx, key), disp, ctx.icpt is not None)

    coef, spec, notes = _default_coefs(ctx, "auto")
    disp = _auto_dispersion(ctx)
    centred = ctx.icpt is not None
    if isinstance(priors, Prior) or (isinstance(priors, type) and issubclass(priors, Prior)):
        prior = _coef_prior(priors, "priors")
        for j in ctx.slopes:
            coef[j], spec[j], notes[j] = prior, prior, "user prior for every slope"
    elif isinstance(priors, Mapping):
        given = _check_keys(dict(priors), ctx)
        for j, nm in enumerate(ctx.names):
            if nm in given:
                pr = _coef_prior(given[nm], f"priors[{nm!r}]")
                coef[j], spec[j], notes[j] = pr, pr, "user prior"
                if j == ctx.icpt:
                    centred = False
                    notes[j] = "user prior on the uncentred intercept"
        if "dispersion" in given:
            pr = _dispersion_prior(given["dispersion"], ctx)
            disp = (pr, pr, "user prior")
    else:
        raise TypeError(f"priors: unsupported type {type(priors).__name__}; accepted forms: "
                        f"{_FORMS}")
    return _record(ctx, "custom", coef, spec, notes, disp, centred)


def _check_keys(given: dict, ctx: _Context) -> dict:
    """Validate a dict's keys; the dispersion's own name (e.g. "sigma") becomes "dispersion"."""
    alias = ctx.disp_name if ctx.disp_name not in ctx.names else None
    if alias is not None and alias in given:
        if "dispersion" in given:
            raise ValueError(f'priors: give the dispersion prior once, as "dispersion" or '
                             f"{alias!r}, not both")
        given["dispersion"] = given.pop(alias)
    valid = list(ctx.names) + (["dispersion"] if ctx.disp_name else [])
    for key in given:
        if key == "dispersion" and ctx.disp_name is None:
            why = (f"its {ctx.family.dispersion_name} is fixed by the family" if ctx.family.dispersion_name
                   else "it has no dispersion parameter")
            raise ValueError(f'priors: a "dispersion" prior was given, but the {ctx.name} '
                             f"family has none ({why})")
        if key not in valid:
            raise ValueError(f"priors: unknown parameter name {key!r}; valid names are {valid}")
    return given


def _record(ctx: _Context, source, coef, spec, notes, disp, centred: bool) -> ResolvedPriors:
    x_means = np.array(ctx.x_means if centred else np.zeros(ctx.p), dtype=float)
    x_means.setflags(write=False)
    prior, specified, note = disp
    return ResolvedPriors(
        coef=tuple(coef), intercept_index=ctx.icpt, intercept_centered=centred, x_means=x_means,
        dispersion=prior, source=source, names=ctx.names, dispersion_name=ctx.disp_name,
        coef_specified=tuple(spec), dispersion_specified=specified, coef_notes=tuple(notes),
        dispersion_note=note)
