"""Priors on the covariance of group-level effects: rstanarm's ``decov`` and brms' LKJ style.

A term ``(1 + x | g)`` has a covariance Sigma = diag(sd) Omega diag(sd) of its q effects per level.
Two priors are built (the model's coordinates are the log sd's and the unconstrained
correlation Cholesky factor, :mod:`bayesglm.group_cov`):

* :class:`Decov` (the default, ``priors="auto"``): rstanarm's ``decov(regularization,
  concentration, shape, scale)`` (``?rstanarm::priors``, "Covariance matrices"; the Stan code is
  ``make_theta_L`` in rstanarm's ``src/stan_files/functions/common_functions.stan``). The trace
  of Sigma is ``q tau^2`` with ``tau ~ Gamma(shape, rate = 1 / scale)``; the simplex ``pi`` of
  the variances' shares (sd_k^2 = q tau^2 pi_k) is ``Dirichlet(concentration)``; Omega is
  ``LKJ(regularization)``. For q = 1 this is ``sd ~ Gamma(shape, rate = 1 / scale)``. For the
  Gaussian family every sd is in units of sigma (rstanarm's ``dispersion`` argument of
  ``make_theta_L``: sd = sigma tau ...), so the prior is scale free. (rstanarm also multiplies
  by the Gamma's shape or the inverse Gaussian's lambda, its ``aux``, for those families; that
  has no scale meaning, and here those families' sd's are on the linear predictor's scale as
  for the binomial and Poisson.)
* :class:`LKJ` (brms' style): ``Omega ~ LKJ(eta)`` with a separate prior per ``sd_*`` (any
  positive :class:`~bayesglm.priors.Prior`; default ``HalfStudentT(3, 2.5 s_y)``, brms'
  ``student_t(3, 0, 2.5)`` with the Gaussian family's sd(y) scaling of the other defaults).

:func:`decov_logpdf` is the decov's density of the log sd's, written once over NumPy's or
JAX's functions (the model and the tests evaluate the same expression).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .specs import HalfStudentT, Prior, format_number

__all__ = ["Decov", "LKJ", "TermPrior", "decov_logpdf", "resolve_group_priors",
           "group_prior_keys", "split_group_priors", "group_prior_table", "DEFAULT_SD_DF"]

#: the degrees of freedom of the default sd prior of the LKJ style (brms' student_t(3, 0, ...))
DEFAULT_SD_DF = 3.0


def _positive(obj, name: str, value) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{type(obj).__name__}: {name} must be a positive finite number, "
                         f"got {value!r}")
    object.__setattr__(obj, name, float(value))


@dataclass(frozen=True)
class Decov:
    """rstanarm's ``decov`` prior on a group term's covariance (see the module docstring)."""

    regularization: float = 1.0
    concentration: float = 1.0
    shape: float = 1.0
    scale: float = 1.0

    def __post_init__(self):
        for name in ("regularization", "concentration", "shape", "scale"):
            _positive(self, name, getattr(self, name))

    def describe(self) -> str:
        return (f"Decov(regularization={format_number(self.regularization)}, concentration="
                f"{format_number(self.concentration)}, shape={format_number(self.shape)}, "
                f"scale={format_number(self.scale)})")


@dataclass(frozen=True)
class LKJ:
    """``LKJ(eta)`` on a group term's correlation matrix (eta = 1: uniform over correlation
    matrices; larger: towards the identity), with a prior per ``sd_*`` (brms' style)."""

    eta: float = 1.0

    def __post_init__(self):
        _positive(self, "eta", self.eta)

    def describe(self) -> str:
        return f"LKJ({format_number(self.eta)})"


class TermPrior(NamedTuple):
    """The resolved prior of one group term's covariance."""

    kind: str  # "decov" or "lkj"
    decov: Decov | None  # kind "decov"
    eta: float  # the correlation's LKJ shape (decov: its regularization)
    sd: tuple  # kind "lkj": a positive Prior per sd; decov: ()
    unit_sigma: bool  # the sd's are in units of the Gaussian sigma (decov on a Gaussian model)
    note: str


def decov_logpdf(xp, lgamma, s, shape, scale, concentration):
    """log density of ``s`` = log(sd / unit) (last axis: the term's q sd's) under decov.

    With u = exp(s), T = sum u^2 = q tau^2 and pi = u^2 / T, the density of (tau, pi) is carried
    to s by the Jacobian of (tau, pi_1..pi_{q-1}) -> s: 2 q tau T^(q-1) / (2^q prod u^2), so

        log p(s) = log Gamma(tau; shape, 1/scale) + log Dirichlet(pi; concentration)
                   - log(2 q tau) - (q - 1) log T + q log 2 + 2 sum s.

    For q = 1 it is log Gamma(u; shape, 1/scale) + s. ``xp``: numpy or jax.numpy; ``lgamma``
    the matching log-gamma function.
    """
    q = s.shape[-1]
    m = xp.max(s, axis=-1, keepdims=True)
    log_t = xp.log(xp.sum(xp.exp(2.0 * (s - m)), axis=-1)) + 2.0 * m[..., 0]
    log_tau = 0.5 * (log_t - math.log(q))
    lp_tau = (-shape * xp.log(scale) - lgamma(shape) + (shape - 1.0) * log_tau
              - xp.exp(log_tau) / scale)
    log_pi = 2.0 * s - log_t[..., None]
    c = concentration
    lp_dir = lgamma(q * c) - q * lgamma(c) + (c - 1.0) * xp.sum(log_pi, axis=-1)
    return (lp_tau + lp_dir - math.log(2.0 * q) - log_tau - (q - 1.0) * log_t
            + q * math.log(2.0) + 2.0 * xp.sum(s, axis=-1))


def _sd_names(factor) -> list[str]:
    return [f"sd_{factor.group}__{t}" for t in factor.terms]


def group_prior_keys(groups) -> set[str]:
    """The ``priors=`` dict keys that belong to the group terms: ``"covariance"``, ``"cor"``,
    ``"cor_<group>"`` and every ``"sd_<group>__<term>"``."""
    keys = {"covariance", "cor"}
    for factor, _ in groups:
        keys.add(f"cor_{factor.group}")
        keys.update(_sd_names(factor))
    return keys


def _check(value, where: str, kinds: tuple):
    if isinstance(value, type):
        raise TypeError(f"{where}: got the class {value.__name__}, not an instance; did you "
                        f"mean {value.__name__}(...)?")
    if not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{where}: must be a bayesglm.priors {names}, got "
                        f"{type(value).__name__} {value!r}")
    return value


def resolve_group_priors(priors, groups, gaussian: bool, s_y: float) -> tuple[TermPrior, ...]:
    """One :class:`TermPrior` per group term from the ``priors=`` argument.

    ``"auto"`` (and ``"gelman2008"``, ``"flat"``, a single Prior, which concern the fixed
    effects): rstanarm's ``decov()`` on every term. A dict may hold ``"covariance"``
    (a :class:`Decov` or :class:`LKJ` for every term), ``"cor"`` / ``"cor_<group>"`` (an
    :class:`LKJ`: that term, or every term, in brms' style) and ``"sd_<group>__<term>"`` (a
    positive Prior: that term in brms' style). A term in brms' style takes ``LKJ(1)`` and
    ``HalfStudentT(3, 2.5 s_y)`` (s_y = sd(y) for the Gaussian family, else 1) for what is not
    given.
    """
    given = dict(priors) if isinstance(priors, dict) else {}
    cov = given.get("covariance")
    if cov is not None:
        _check(cov, "priors['covariance']", (Decov, LKJ))
    cor_all = given.get("cor")
    if cor_all is not None:
        _check(cor_all, "priors['cor']", (LKJ,))
    out = []
    for factor, _ in groups:
        cor = given.get(f"cor_{factor.group}", cor_all)
        if cor is not None:
            _check(cor, f"priors['cor_{factor.group}']", (LKJ,))
        sds = {}
        for name in _sd_names(factor):
            if name in given:
                pr = _check(given[name], f"priors[{name!r}]", (Prior,))
                if pr.support != "positive":
                    raise ValueError(f"priors[{name!r}]: {pr.describe()} has real support, "
                                     "but a standard deviation is positive; use HalfNormal, "
                                     "HalfStudentT, HalfCauchy, Exponential or Gamma")
                sds[name] = pr
        lkj = cor if cor is not None else (cov if isinstance(cov, LKJ) else None)
        if lkj is None and not sds:
            d = cov if isinstance(cov, Decov) else Decov()
            note = ("rstanarm: decov" if cov is None else "user prior") + (
                "; sd's in units of sigma" if gaussian else "")
            out.append(TermPrior("decov", d, d.regularization, (), gaussian, note))
            continue
        if isinstance(cov, Decov):
            raise ValueError(f"priors: the term of {factor.group!r} has both a Decov "
                             "('covariance') and brms-style priors ('cor_*' / 'sd_*'); "
                             "give one or the other")
        default = HalfStudentT(DEFAULT_SD_DF, 2.5 * s_y)
        sd = tuple(sds.get(name, default) for name in _sd_names(factor))
        eta = 1.0 if lkj is None else lkj.eta
        out.append(TermPrior("lkj", None, eta, sd, False, "brms style: LKJ + sd priors"))
    return tuple(out)


def split_group_priors(priors, groups, design, family):
    """(the fixed effects' part of ``priors``, the group terms' TermPriors).

    A dict's group keys (:func:`group_prior_keys`) go to the terms; the rest to
    ``resolve_priors``, which names any key that is neither. A group key in a model without
    group terms is left there, to be named as unknown.
    """
    if not groups:
        return priors, ()
    gaussian = family.autoscale_by_sd_y
    y = np.asarray(design.y, dtype=float)
    sd_y = float(np.std(y, ddof=1)) if len(y) > 1 else math.nan
    s_y = sd_y if gaussian and math.isfinite(sd_y) and sd_y > 0 else 1.0
    fixed = priors
    if isinstance(priors, Mapping):
        keys = group_prior_keys(groups)
        fixed = {k: v for k, v in priors.items() if k not in keys}
        priors = {k: v for k, v in priors.items() if k in keys}
    return fixed, resolve_group_priors(priors, groups, gaussian, s_y)


def group_prior_table(groups, term_priors):
    """prior_summary's rows of the group terms (the columns of ``ResolvedPriors.table``)."""
    import pandas as pd  # the table only (bayesglm.priors stays light to import)

    rows = []
    for (factor, _), tp in zip(groups, term_priors):
        if tp.kind == "decov":
            rows.append((f"Sigma_{factor.group}", tp.decov.describe(), tp.decov.describe(),
                         False, tp.note))
            continue
        for name, pr in zip(_sd_names(factor), tp.sd):
            rows.append((name, pr.describe(), pr.describe(), False, tp.note))
        if factor.correlated and len(factor.terms) > 1:
            lkj = LKJ(tp.eta).describe()
            rows.append((f"cor_{factor.group}", lkj, lkj, False, tp.note))
    return pd.DataFrame(rows, columns=["parameter", "prior", "specified", "adjusted", "note"])
