"""The prior specifications: one class per distribution, its log density written once.

Each prior writes its log density once (``Prior.kernel``, generic over NumPy's and JAX's
functions, :class:`Ops`): ``logpdf`` evaluates it in NumPy (the prior-conflict check, the
tests), the NumPyro model (``bayesglm.model``) with JAX. ``sample`` draws from it with NumPy's
generator (prior predictive). Plain Python/NumPy objects, no JAX.
"""


from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from functools import wraps
from typing import NamedTuple

import numpy as np

__all__ = ["Prior", "Normal", "StudentT", "Cauchy", "Laplace", "Flat", "HalfNormal",
           "HalfStudentT", "HalfCauchy", "Exponential", "Gamma", "Ops", "NUMPY_OPS",
           "PRIOR_CLASSES", "centre"]

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)


# -- helpers -------------------------------------------------------------------------------
def format_number(v: float) -> str:
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
        return f"{type(self).__name__}({', '.join(format_number(a) for a in self._args())})"

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


class _Half(Prior):
    """``|X|`` for X of a symmetric distribution ``_base`` centred at 0 (scale ``sigma``)."""

    support = "positive"
    _base: type = Prior

    def __post_init__(self):
        for name in self.__dataclass_fields__:
            _check(self, name, getattr(self, name), positive=True)

    def _args(self):
        return tuple(getattr(self, f) for f in self.__dataclass_fields__)

    def _scaled(self, factor):
        return replace(self, sigma=self.sigma * factor)

    @classmethod
    def kernel(cls, ops, x, **params):
        return _LOG_2 + cls._base.kernel(ops, x, mu=0.0, **params)

    def sample(self, rng, size):
        return np.abs(self._base(**self.params()).sample(rng, size))


@dataclass(frozen=True)
class HalfNormal(_Half):
    """Half-normal on [0, inf): ``|X|`` for ``X ~ Normal(0, sigma)``."""

    sigma: float = 1.0
    _base = Normal


@dataclass(frozen=True)
class HalfStudentT(_Half):
    """Half Student t on [0, inf): ``|X|`` for ``X ~ StudentT(df, 0, sigma)``."""

    df: float
    sigma: float = 1.0
    _base = StudentT


@dataclass(frozen=True)
class HalfCauchy(_Half):
    """Half-Cauchy on [0, inf): ``|X|`` for ``X ~ Cauchy(0, sigma)``."""

    sigma: float = 1.0
    _base = Cauchy


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


