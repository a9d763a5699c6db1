"""The priors of one model: defaults, autoscaling and the user's choices (see
:mod:`bayesglm.priors` for the rules and their sources)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .specs import Cauchy, Flat, Normal, Prior, centre, format_number

__all__ = ["ResolvedPriors", "resolve_priors", "check_priors", "x_scale", "PROBIT_FACTOR",
           "column_summaries"]

#: rstanarm's probit rescaling of default prior scales: dnorm(0) / dlogis(0) = 4 / sqrt(2 pi).
PROBIT_FACTOR = 4.0 / math.sqrt(2.0 * math.pi)
_ARM_PROBIT_FACTOR = 1.6  # arm::bayesglm multiplies by the literal 1.6
_MIN_SCALE = 1e-12  # rstanarm's min_prior_scale and arm's min.prior.scale


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


class _Names:
    """What the checks of a ``priors=`` argument need: the names and the family (no data)."""

    def __init__(self, names, family):
        if not all(hasattr(family, a) for a in ("link", "dispersion_param", "autoscale_by_sd_y")):
            raise TypeError("family must be a bayesglm.families.Family, got "
                            f"{type(family).__name__}")
        self.family = family
        self.name, self.link = family.name, family.link.name
        self.disp_name = family.dispersion_param  # None: no dispersion parameter (or fixed)
        self.names = tuple(names)


class _Context(_Names):
    """Data summaries shared by the default rules."""

    def __init__(self, design, family):
        super().__init__(design.names, family)
        self.identity = self.link == "identity" or (
            self.link == "power" and getattr(family.link, "power", 0) == 1)
        self.gaussian = family.autoscale_by_sd_y
        X = np.asarray(design.X, dtype=float)
        y = np.asarray(design.y, dtype=float)
        self.X, self.y = X, y
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
        self._columns = None

    def column(self, j: int):
        """Column j's (sd, distinct values up to 3, range), all columns summarised at once."""
        if self._columns is None:
            self._columns = column_summaries(self.X)
        sd, k, rng = self._columns
        return float(sd[j]), int(k[j]), float(rng[j])


#: rows per block of the column summaries (their temporaries stay small at any n)
_BLOCK_ROWS = 1 << 15


def column_summaries(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sd, number of distinct values capped at 3, range) of every column of X (n, p), in
    passes over row blocks: no n x p temporary and no sort (np.unique of each column took
    most of a model's construction at n = 1e6)."""
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    blocks = range(0, n, _BLOCK_ROWS)
    mean = X.mean(axis=0)
    ss = np.zeros(p)
    first, second, more = X[0].copy(), np.full(p, np.nan), np.zeros(p, bool)
    lo, hi = X[0].copy(), X[0].copy()
    for i in blocks:
        b = X[i:i + _BLOCK_ROWS]
        ss += ((b - mean) ** 2).sum(axis=0)
        lo, hi = np.minimum(lo, b.min(axis=0)), np.maximum(hi, b.max(axis=0))
        other = b != first
        need = other.any(axis=0) & np.isnan(second)
        if need.any():
            cols = np.flatnonzero(need)
            second[cols] = b[other[:, cols].argmax(axis=0), cols]
        more |= (other & (b != second)).any(axis=0)
    sd = np.sqrt(ss / (n - 1)) if n > 1 else np.full(p, np.nan)
    k = np.where(np.isnan(second), 1, np.where(more, 3, 2))
    return sd, k, hi - lo


def x_scale(x, rule: str, summary=None) -> tuple[float, str]:
    """Divisor of a column's prior scale: rstanarm (sd) or arm (range / 2 sd); 1 if constant.
    ``summary``: the column's ``(sd, distinct values, range)`` from :func:`column_summaries`
    (else computed from ``x``)."""
    if summary is None:
        sd, k, rng = (float(v[0]) for v in column_summaries(np.asarray(x, float)[:, None]))
    else:
        sd, k, rng = summary
    if k == 1:
        return 1.0, "one value: not divided"
    if rule == "auto":
        return sd, "/ sd(x)"
    if k == 2:
        return float(rng), "/ range(x) (two values)"
    return 2.0 * sd, "/ (2 sd(x))"


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
                    f"scale {format_number(icpt_scale)}{txt}" + (", location mean(y)" if loc else ""))
            if ctx.c != 1.0:  # prior of c b0 + xbar beta -> prior of b0 + (xbar / c) beta
                prior = prior.scaled(1.0 / ctx.c)
                note += f"; divided by the constant column's value {format_number(ctx.c)}"
            coef.append(prior)
            spec.append(dist(loc, icpt_scale))
        else:
            divisor, how = x_scale(None, rule, ctx.column(j))
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


def _dispersion_prior(value, ctx: _Names) -> Prior:
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
    given = check_priors(priors, design.names, family)
    ctx = _Context(design, family)
    if isinstance(priors, str):
        key = priors.strip().lower()
        if key == "flat":
            flat = (Flat(),) * ctx.p
            disp = Flat(support="positive") if ctx.disp_name else None
            return _record(ctx, "flat", flat, flat, ("flat (improper)",) * ctx.p,
                           (disp, disp, "flat (improper) on (0, inf)" if disp else ""), False)
        disp = _auto_dispersion(ctx)
        if key == "gelman2008" and disp[0] is not None:
            disp = (*disp[:2], "as 'auto' (arm has no prior on the dispersion); " + disp[2])
        return _record(ctx, key, *_default_coefs(ctx, key), disp, ctx.icpt is not None)

    coef, spec, notes = _default_coefs(ctx, "auto")
    disp = _auto_dispersion(ctx)
    centred = ctx.icpt is not None
    if not isinstance(priors, Mapping):
        for j in ctx.slopes:
            coef[j], spec[j], notes[j] = priors, priors, "user prior for every slope"
    else:
        for j, nm in enumerate(ctx.names):
            if nm in given:
                coef[j], spec[j], notes[j] = given[nm], given[nm], "user prior"
                if j == ctx.icpt:
                    centred = False
                    notes[j] = "user prior on the uncentred intercept"
        if "dispersion" in given:
            disp = (given["dispersion"], given["dispersion"], "user prior")
    return _record(ctx, "custom", coef, spec, notes, disp, centred)


def check_priors(priors, names, family) -> dict | None:
    """The checks of :func:`resolve_priors` that need no data (a model runs them when it is
    built; the autoscaling waits until the priors are first needed): the raised errors are
    those documented there. Returns a dict's entries checked, the dispersion under the key
    ``"dispersion"`` (None for the other forms)."""
    ctx = _Names(names, family)
    if isinstance(priors, str):
        if priors.strip().lower() not in ("flat", "auto", "gelman2008"):
            raise ValueError(f"priors: unknown value {priors!r}; accepted forms: {_FORMS}")
        return None
    if isinstance(priors, Prior) or (isinstance(priors, type) and issubclass(priors, Prior)):
        _coef_prior(priors, "priors")
        return None
    if not isinstance(priors, Mapping):
        raise TypeError(f"priors: unsupported type {type(priors).__name__}; accepted forms: "
                        f"{_FORMS}")
    given = _check_keys(dict(priors), ctx)
    for nm in ctx.names:
        if nm in given:
            given[nm] = _coef_prior(given[nm], f"priors[{nm!r}]")
    if "dispersion" in given:
        given["dispersion"] = _dispersion_prior(given["dispersion"], ctx)
    return given


def _check_keys(given: dict, ctx: _Names) -> dict:
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
