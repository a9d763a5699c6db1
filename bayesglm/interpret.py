"""What a fitted GLM says on the response scale: predictions, comparisons and slopes, as R's
marginaleffects names them, from the MLE (delta method) and from the posterior (its draws).

One recipe for every quantity: a set of evaluation rows (the fitted rows, new ones, or a
:func:`datagrid`), made into counterfactual copies where a variable is changed (a comparison's
two values, a slope's two nearby values), turned into design rows by the model's formula
(:func:`bayesglm.design.new_rows`), and a function ``q(theta)`` of the parameters in JAX:

* predictions: mu_i (``type="response"``) or eta_i (``"link"``) of each row;
* comparisons: q(hi) - q(lo) per row (``comparison="difference"``), or, for an average, the
  ratio of the averages (``"ratio"``, marginaleffects' "ratioavg") or its log (``"lnratio"``);
  a row-level ratio is mu_hi / mu_lo;
* slopes: d mu_i / d x, the mean's derivative in eta by JAX's automatic differentiation times
  d eta_i / d x = (dX_i / dx) beta, whose design part (dX/dx) comes from central differences of
  the formula's columns, exact for columns linear in x (x, its interactions with other
  columns) and within O(h^2) for transforms such as log(x);
* their averages (``avg_*``): over the rows, within ``by`` groups, weighted by frequency weights
  with ``wts=True``.

The MLE's version is q at the estimate with the delta method's standard error, sqrt(J V J'),
J = dq/dtheta by JAX (``jacfwd``) and V the fit's covariance (``cov_type="HC*"`` included;
a likelihood family's (beta, u) in its unconstrained coordinates); z and p test 0 (1 for a
ratio); the interval of a prediction is formed on the link scale and mapped back, every
other interval is Wald on the quantity's own scale. The posterior's version is q at every
draw: its mean, sd and HDI at ``conf_level``; the draws are in the table's
``attrs["draws"]`` (draws x rows). Offsets and exposure of the rows are respected: for a
model with an exposure the response scale is the expected count of each row's exposure (pass
``exposure=1`` rows in ``data`` for the rate per unit); a binomial model's response scale is
the probability of a success, whatever the rows' trials (as R's ``predict(type =
"response")``).

With group-level terms, ``re="include"`` adds each row's group effects to eta (the posterior:
every draw's, an unseen level's drawn from the population; the MLE: the conditional modes,
held fixed in the delta method, 0 for an unseen level) and ``re="exclude"`` leaves them out
(see :class:`GroupEffects`).
"""

from __future__ import annotations

import itertools
from statistics import NormalDist
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ._xla import jit

__all__ = ["datagrid", "condition_grid", "Evaluator", "TYPES", "COMPARISONS"]

TYPES = ("response", "link")
COMPARISONS = ("difference", "ratio", "lnratio")
#: the group effects in a model with group-level terms: each row's (a level unseen in the fit:
#: see GroupEffects), or none (the population-level quantity, b = 0)
RE = ("include", "exclude")
#: the relative step of a slope's central differences of the design (times max(1, sd of x))
SLOPE_STEP = 1e-5


# -- the evaluation rows --------------------------------------------------------------------
def _raw_rows(model) -> pd.DataFrame:
    data = getattr(model, "data", None) if model is not None else None
    if data is None:
        raise ValueError(
            "these quantities need the model's raw rows: build the model with bg.glm(formula, "
            "data, ...) (the array interface keeps only the design), or pass data=")
    return data


def datagrid(model, **values) -> pd.DataFrame:
    """A grid of rows for predictions, as marginaleffects' ``datagrid``: every combination of
    the given values (``x=[0, 1, 2], treat=["a", "b"]``; the last varies fastest), each other
    column of the model at its mean (numbers) or its most frequent value (strings,
    categoricals, booleans; ties to the first in sorted order).

    ``model``: a GLM made by ``bg.glm``, or a fit of one."""
    data = _raw_rows(model if hasattr(model, "data") else getattr(model, "model", model))
    unknown = [k for k in values if k not in data.columns]
    if unknown:
        raise ValueError(f"datagrid: {', '.join(map(repr, unknown))} "
                         f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of "
                         f"the model's data (its columns: {', '.join(map(str, data.columns))})")
    base = {}
    for col in data.columns:
        s = data[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            base[col] = float(s.mean())
        else:
            counts = s.value_counts(sort=False)
            top = counts[counts == counts.max()].index
            base[col] = sorted(top, key=str)[0]
    given = {k: list(np.atleast_1d(v)) if not isinstance(v, (list, tuple)) else list(v)
             for k, v in values.items()}
    rows = [dict(base, **dict(zip(given, combo)))
            for combo in itertools.product(*given.values())] if given else [base]
    out = pd.DataFrame(rows, columns=list(data.columns))
    for col in data.columns:  # keep categoricals' categories (the formula's levels)
        if isinstance(data[col].dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical(out[col], categories=data[col].cat.categories,
                                      ordered=data[col].cat.ordered)
    return out


#: points on the x axis of a numeric first condition (its fitted range)
CONDITION_POINTS = 50
_SUMMARIES = {
    "threenum": lambda r: [r.mean() - r.std(ddof=1), r.mean(), r.mean() + r.std(ddof=1)],
    "fivenum": lambda r: list(np.quantile(r, [0.0, 0.25, 0.5, 0.75, 1.0])),
    "quartile": lambda r: list(np.quantile(r, [0.25, 0.5, 0.75])),
    "minmax": lambda r: [r.min(), r.max()],
}


def condition_grid(fit, condition) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a conditional plot (``plot_predictions``, ``plot_slopes``), as
    marginaleffects' ``condition``: (a :func:`datagrid`, the condition's column names).

    ``condition``: one or two column names (the x axis, then the series), or a dict of them
    to values or to a summary (``"threenum"``: mean and mean +- sd; ``"fivenum"``: min,
    quartiles, max; ``"quartile"``; ``"minmax"``). By default a numeric x spans its fitted
    range in :data:`CONDITION_POINTS` points, a numeric series takes its five numbers, and a
    categorical column its levels; every other column is at its mean or mode."""
    data = _raw_rows(fit if hasattr(fit, "data") else getattr(fit, "model", fit))
    if isinstance(condition, str):
        condition = [condition]
    given = dict(condition) if isinstance(condition, dict) else {c: None for c in condition}
    if not 1 <= len(given) <= 2 or not all(isinstance(c, str) for c in given):
        raise ValueError(f"condition: give one or two column names (the x axis, then the "
                         f"series), or a dict of them; got {condition!r}")
    values = {}
    for j, (name, spec) in enumerate(given.items()):
        if name not in data.columns:
            raise ValueError(f"condition: {name!r} is not a column of the model's data (its "
                             f"columns: {', '.join(map(str, data.columns))})")
        col = data[name]
        if spec is not None and not isinstance(spec, str):
            values[name] = list(np.atleast_1d(spec))
        elif not _is_numeric(col):
            if spec is not None:
                raise ValueError(f"condition: {name!r} is not numeric; give its levels as a "
                                 f"list, or nothing for all of them (got {spec!r})")
            values[name] = _levels(col)
        else:
            r = col.to_numpy(dtype=float)
            if spec is None:
                spec = "range" if j == 0 else "fivenum"
            if spec == "range":
                values[name] = list(np.linspace(r.min(), r.max(), CONDITION_POINTS))
            elif spec in _SUMMARIES:
                values[name] = [float(v) for v in _SUMMARIES[spec](r)]
            else:
                raise ValueError(f"condition: {name!r}: a numeric column's values are a list "
                                 f"or one of {', '.join(_SUMMARIES)}; got {spec!r}")
    return datagrid(fit, **values), list(given)


class Rows(NamedTuple):
    """Evaluation rows as the quantity functions take them (host arrays)."""

    X: np.ndarray
    offset: Any  # (m,) or None
    aux: Any  # a likelihood family's extra design matrices, or None
    groups: tuple = ()  # each group term's (Z (m, q), level index (m,)); () without them


class GroupEffects(NamedTuple):
    """What a fit with group-level terms gives its evaluator: the terms (GroupFactor), their
    effects (the MLE: each term's (levels, q) conditional modes; the posterior: (draws,
    levels, q)), and ``new(j, k)``: the effects of k levels of term j not seen in the fit
    (the MLE: 0, as lme4's ``predict(allow.new.levels = TRUE)``; the posterior: draws from
    the fitted population, as rstanarm's ``posterior_predict``)."""

    factors: tuple
    effects: tuple
    new: Any


# -- the parameters -------------------------------------------------------------------------
class Source(NamedTuple):
    """What the quantities need of a fit: the coefficient names, the fitted design (None: a
    loaded fit, which keeps only part of it), the formula (None: the array interface), the raw
    fitted rows (None: not kept, e.g. a loaded fit), the family, and (without the design)
    whether the model has an offset and an exposure."""

    names: tuple
    design: Any
    formula_spec: Any
    data: Any
    family: Any
    has_offset: bool = False
    has_exposure: bool = False


class Evaluator:
    """The model's mean as a function of its parameters, for one fit: the MLE (``theta``,
    ``cov``) or the posterior (``draws``, (D, k)); theta is the ``p`` coefficients, then (a
    likelihood family) the extra parameters' unconstrained values."""

    def __init__(self, source: Source, *, theta=None, cov=None, draws=None,
                 groups: GroupEffects | None = None):
        self.source, self.family = source, source.family
        self.groups = groups  # None: no group terms, or re="exclude"
        self.effects = ()  # the group effects of the evaluation rows' levels (base_rows)
        self._new_levels = None
        # on the device once: every quantity of a call reads them
        self.theta = None if theta is None else jax.device_put(np.asarray(theta, dtype=float))
        self.cov = None if cov is None else np.asarray(cov, dtype=float)
        self.draws = None if draws is None else jax.device_put(np.asarray(draws, dtype=float))
        self.p = len(source.names)
        self.exact = bool(getattr(self.family, "exact_likelihood", False))
        self.ordinal = bool(getattr(self.family, "ordinal", False))

    # the rows --------------------------------------------------------------------------------
    def base_rows(self, data):
        """(the evaluation DataFrame, its design Rows, the fitted rows' frequency weights or
        None)."""
        if data is None:
            if self.source.data is None:
                raise ValueError(
                    "this fit has not kept the model's raw rows (the array interface keeps only "
                    "the design, a fit loaded from a file neither): pass data=, a DataFrame of "
                    "the model's columns")
            d = self.source.design
            groups = self._group_rows(self.source.data, base=True)
            return self.source.data, Rows(d.X, d.total_offset, d.aux, groups), d.weights
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a DataFrame of the model's columns (or None for the "
                            f"fitted rows), got {type(data).__name__}")
        return data, self.rows_of(data, base=True), None

    def _group_rows(self, frame: pd.DataFrame, base: bool = False) -> tuple:
        """The group terms' rows of ``frame``; for the evaluation rows (``base``), also the
        effects of their levels, unseen ones' from ``GroupEffects.new`` (once per call, so
        that every counterfactual copy of the rows shares them)."""
        if self.groups is None:
            return ()
        fs = self.source.formula_spec
        if fs is None:
            raise ValueError("the group effects of the rows need the model's formula (a model "
                             "made by bg.glm); pass re='exclude' for the fixed effects alone")
        found = fs.group_rows(frame, self.groups.factors)
        new = [levels for _, levels in found]
        if base:
            self._new_levels = new
            self.effects = tuple(jnp.asarray(
                e if not k else np.concatenate([e, self.groups.new(j, len(k))], axis=-2))
                for j, (e, k) in enumerate(zip(self.groups.effects, new)))
        elif any(k and k != b for k, b in zip(new, self._new_levels)):
            raise ValueError("a counterfactual copy of the rows has group levels that are "
                             "neither in the fit nor in the rows")
        return tuple((g.Z, g.index) for g, _ in found)

    def rows_of(self, frame: pd.DataFrame, like: Rows | None = None,
                base: bool = False) -> Rows:
        """The design rows of ``frame`` (the formula re-applied); ``like``: rows whose offset
        to keep (the fitted rows' own, for counterfactual copies of them)."""
        from .design import new_rows

        src = self.source
        d, fs = src.design, src.formula_spec
        if fs is None:
            raise ValueError("comparisons and slopes change a variable of the raw rows: build "
                             "the model with bg.glm(formula, data, ...)")
        if d is None:
            has_off, has_exp = src.has_offset, src.has_exposure
        else:
            has_off, has_exp = d.offset is not None, d.exposure is not None
        if like is not None:  # the fitted rows: their own offset, however it was given
            X, _ = fs.design_matrix(frame, what="data")
            off = like.offset
        else:
            nr = new_rows(frame, names=src.names, family=self.family, formula_spec=fs,
                          has_offset=has_off, has_exposure=has_exp)
            X, off = nr.X, nr.offset
        aux = None
        if self.exact and self.family.aux_formulas():
            aux = fs.aux_matrices(frame, "data")
        return Rows(np.asarray(X, dtype=float), off, aux, self._group_rows(frame, base))

    # estimates ------------------------------------------------------------------------------
    def quantity(self, what: str, kind: str, *, comparison: str = "difference",
                 A=None, **arrays) -> Quantity:
        """A quantity of this fit's parameters: ``what`` ("predictions", "comparisons",
        "slopes"), on the ``kind`` scale, averaged by ``A`` (G, m) or per row; ``arrays`` the
        Rows it needs (``rows``; ``lo`` and ``hi``; ``rows`` and ``D``)."""
        ordinal = self.ordinal and kind == "response"
        spec = Spec(self.family, self.p, self.exact, what, kind, comparison, A is not None,
                    ordinal)
        args = {k: _device(v) for k, v in arrays.items()}
        if A is not None:
            args["A"] = jnp.asarray(A)
        return Quantity(spec, args)

    def estimate(self, q: Quantity, conf_level: float, null: float = 0.0, link_rows=None):
        """The table columns of the quantity ``q``."""
        if self.draws is not None:
            return _posterior_columns(
                _over_draws(self.draws, self.effects, q.args, q.spec), conf_level)
        value, J = _value_and_jacobian(self.theta, self.effects, q.args, q.spec)
        value, se = np.asarray(value), self._se(J)
        z_q = NormalDist().inv_cdf(0.5 + conf_level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (value - null) / se
        from .results import two_sided_p

        lo, hi = value - z_q * se, value + z_q * se
        if link_rows is not None:  # formed on the link scale, mapped back
            lo, hi = self._link_interval(link_rows, z_q)
        return {"estimate": value, "std_error": se, "z": z, "p_value": two_sided_p(z),
                "conf_low": lo, "conf_high": hi}, None

    def _se(self, J) -> np.ndarray:
        J = np.asarray(J)
        return np.sqrt(np.maximum(np.einsum("ma,ab,mb->m", J, self.cov, J), 0.0))

    def _link_interval(self, rows: Rows, z_q: float):
        """A prediction's interval formed on the link scale and mapped back (ordered)."""
        q = self.quantity("predictions", "link", rows=rows)
        eta, J = _value_and_jacobian(self.theta, self.effects, q.args, q.spec)
        eta, se = np.asarray(eta), self._se(J)
        ends = np.asarray(_inverse_link(jnp.asarray(np.stack([eta - z_q * se, eta + z_q * se])),
                                        self.family))
        return ends.min(axis=0), ends.max(axis=0)


# -- the quantities as compiled programs ------------------------------------------------------
# One program per quantity's structure (Spec) and array shapes, with every array an argument:
# a new set of rows of a seen shape compiles nothing, and no program holds data as a constant.
class Spec(NamedTuple):
    """The static structure of a quantity (see :meth:`Evaluator.quantity`)."""

    family: Any
    p: int
    exact: bool
    what: str
    kind: str
    comparison: str
    averaged: bool
    ordinal: bool  # an ordinal model's response scale: a probability per category


class Quantity(NamedTuple):
    spec: Spec
    args: dict  # device arrays: rows / lo, hi / rows, D; and A when averaged


def _device(v):
    if isinstance(v, Rows):
        aux = None if v.aux is None else {k: jnp.asarray(a) for k, a in v.aux.items()}
        return {"X": jnp.asarray(v.X), "offset": None if v.offset is None
                else jnp.asarray(v.offset), "aux": aux,
                "groups": tuple((jnp.asarray(Z), jnp.asarray(i)) for Z, i in v.groups)}
    if isinstance(v, tuple):
        return tuple(jnp.asarray(a) for a in v)
    return jnp.asarray(v)


def _group_part(groups, effects):
    """sum over the terms of Z_i . b[level_i]: the rows' group effects on eta."""
    out = 0.0
    for (Z, index), b in zip(groups, effects):
        out = out + jnp.sum(Z * b[index], axis=-1)
    return out


def _eta(theta, effects, rows, p):
    eta = rows["X"] @ theta[:p] + _group_part(rows["groups"], effects)
    return eta if rows["offset"] is None else eta + rows["offset"]


def _mean_of(spec: Spec, theta, rows, eta):
    if spec.exact:
        from .likelihood_mle import unpack

        extra = unpack(spec.family, theta[spec.p:], jnp)
        if spec.ordinal:  # (m, K): P(Y = k) per row
            return spec.family.probabilities(eta, extra)
        return spec.family.mean(eta, extra, rows["aux"])
    return spec.family.link.inverse(eta)


def _mean(spec: Spec, theta, effects, rows):
    eta = _eta(theta, effects, rows, spec.p)
    return eta if spec.kind == "link" else _mean_of(spec, theta, rows, eta)


def _slope(spec: Spec, theta, effects, rows, D, DZ):
    """d mean / d x: the mean's jvp in eta along D beta + DZ . b (D = dX/dx, DZ = dZ/dx)."""
    eta = _eta(theta, effects, rows, spec.p)
    deta = D @ theta[:spec.p] + _group_part(
        tuple((dz, i) for dz, (_, i) in zip(DZ, rows["groups"])), effects)
    if spec.kind == "link":
        return deta
    return jax.jvp(lambda e: _mean_of(spec, theta, rows, e), (eta,), (deta,))[1]


def _q(theta, effects, args, spec: Spec):
    """The quantity's (m,) (per row) or (G,) (averaged) values at theta (and the group
    effects); an ordinal model's (m, K) or (G, K) probabilities flattened row by row."""
    return _q2(theta, effects, args, spec).reshape(-1)


def _q2(theta, effects, args, spec: Spec):
    avg = (lambda v: args["A"] @ v) if spec.averaged else (lambda v: v)
    if spec.what == "predictions":
        return avg(_mean(spec, theta, effects, args["rows"]))
    if spec.what == "slopes":
        return avg(_slope(spec, theta, effects, args["rows"], args["D"], args["DZ"]))
    lo = avg(_mean(spec, theta, effects, args["lo"]))
    hi = avg(_mean(spec, theta, effects, args["hi"]))
    if spec.comparison == "difference":
        return hi - lo
    # per row: mu_hi / mu_lo; averaged: the ratio of the averages (marginaleffects' ratioavg)
    return hi / lo if spec.comparison == "ratio" else jnp.log(hi / lo)


@jit(static_argnames=("spec",))
def _value_and_jacobian(theta, effects, args, spec: Spec):
    """The delta method's value and Jacobian in theta; the group effects (conditional modes)
    held fixed, as marginaleffects does for lme4's fits."""
    return _q(theta, effects, args, spec), jax.jacfwd(_q)(theta, effects, args, spec)


@jit(static_argnames=("spec",))
def _over_draws(draws, effects, args, spec: Spec):
    return jax.vmap(lambda t, e: _q(t, e, args, spec))(draws, effects)


@jit(static_argnames=("family",))
def _inverse_link(eta, family):
    return family.link.inverse(eta)


def _posterior_columns(draws, conf_level: float):
    from .bayes_results import draws_table  # ArviZ's HDI, where ArviZ is read

    d = np.asarray(draws)
    t = draws_table(d, None, conf_level)
    return {"estimate": t["mean"].to_numpy(), "std_error": t["sd"].to_numpy(),
            "conf_low": t.iloc[:, 2].to_numpy(), "conf_high": t.iloc[:, 3].to_numpy()}, d


def _averager(frame: pd.DataFrame, by, weights):
    """(the group table, a (G, m) averaging matrix) for averages within ``by`` groups."""
    m = len(frame)
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=float)
    if by is None:
        return pd.DataFrame(index=[0]), (w / w.sum())[None, :]
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"by: {', '.join(map(repr, missing))} not among the evaluation rows' "
                         f"columns ({', '.join(map(str, frame.columns))})")
    keys = frame[cols].astype(object).apply(tuple, axis=1) if len(cols) > 1 else frame[cols[0]]
    codes, uniques = pd.factorize(keys, sort=True)
    A = np.zeros((len(uniques), m))
    A[codes, np.arange(m)] = w
    A /= A.sum(axis=1, keepdims=True)
    groups = pd.DataFrame(list(uniques) if len(cols) > 1 else {cols[0]: list(uniques)},
                          columns=cols)
    return groups, A


# -- contrasts -------------------------------------------------------------------------------
def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    return sorted(pd.unique(s), key=lambda v: (str(type(v)), v))


def _contrasts(name: str, spec, frame: pd.DataFrame, fitted: pd.DataFrame | None):
    """[(label, lo values, hi values)] of one variable: each value a scalar for every row or
    the rows' own (an array). ``spec`` as marginaleffects' ``variables`` entries."""
    if name not in frame.columns:
        raise ValueError(f"variables: {name!r} is not a column of the evaluation rows "
                         f"({', '.join(map(str, frame.columns))})")
    x = frame[name]
    ref = fitted[name] if fitted is not None and name in fitted.columns else x
    if _is_numeric(x):
        v = x.to_numpy(dtype=float)
        if spec is None or (np.isscalar(spec) and not isinstance(spec, str)):
            step = 1.0 if spec is None else float(spec)
            return [(f"+{step:g}", v, v + step)]
        if isinstance(spec, str):
            r = ref.to_numpy(dtype=float)
            m, sd = float(r.mean()), float(r.std(ddof=1))
            pairs = {"sd": (m - sd / 2, m + sd / 2), "2sd": (m - sd, m + sd),
                     "iqr": tuple(np.quantile(r, [0.25, 0.75])),
                     "minmax": (float(r.min()), float(r.max()))}
            if spec not in pairs:
                raise ValueError(f"variables: {name!r}: a numeric variable's contrast is a "
                                 f"step, two values [lo, hi], or one of {', '.join(pairs)}; "
                                 f"got {spec!r}")
            lo, hi = pairs[spec]
            return [(spec, np.full(len(v), lo), np.full(len(v), hi))]
        lo, hi = _pair(name, spec)
        return [(f"{hi:g} - {lo:g}", np.full(len(v), float(lo)), np.full(len(v), float(hi)))]
    levels = _levels(ref)
    if spec is None or spec == "reference":
        pairs = [(levels[0], b) for b in levels[1:]]
    elif spec == "pairwise":
        pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1:]]
    elif isinstance(spec, str):
        raise ValueError(f"variables: {name!r}: a categorical variable's contrast is "
                         f"'reference', 'pairwise' or two levels [lo, hi]; got {spec!r}")
    else:
        pairs = [_pair(name, spec)]
    for a, b in pairs:
        for lev in (a, b):
            if lev not in levels:
                raise ValueError(f"variables: {name!r} has no level {lev!r} (its levels: "
                                 f"{', '.join(map(str, levels))})")
    return [(f"{b} - {a}", a, b) for a, b in pairs]


def _pair(name, spec):
    try:
        lo, hi = spec
    except (TypeError, ValueError):
        raise ValueError(f"variables: {name!r}: give two values [lo, hi], got {spec!r}") from None
    return lo, hi


def _variables(variables) -> dict:
    if isinstance(variables, str):
        return {variables: None}
    if isinstance(variables, dict):
        return dict(variables)
    if isinstance(variables, (list, tuple)) and all(isinstance(v, str) for v in variables):
        return {v: None for v in variables}
    raise TypeError(f"variables must be a column name, a list of them, or a dict of column "
                    f"-> contrast; got {variables!r}")


def _with(frame: pd.DataFrame, name: str, values) -> pd.DataFrame:
    out = frame.copy()
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        vals = np.broadcast_to(np.asarray(values, dtype=object), (len(frame),))
        out[name] = pd.Categorical(vals, categories=col.cat.categories, ordered=col.cat.ordered)
    else:
        out[name] = values if np.ndim(values) else [values] * len(frame)
    return out


# -- the public methods (a mixin of the results classes) -------------------------------------
class Interpretation:
    """``predictions``, ``comparisons``, ``slopes`` and their averages (see the module); a
    results class provides ``_evaluator()``."""

    def _evaluator(self, re: str = "include") -> Evaluator:
        raise NotImplementedError

    def _check(self, type, conf_level, comparison="difference", re="include"):
        if re not in RE:
            raise ValueError(f"re must be one of {', '.join(map(repr, RE))}; got {re!r}")
        if type not in TYPES:
            raise ValueError(f"type must be one of {', '.join(map(repr, TYPES))}; got {type!r}")
        if comparison not in COMPARISONS:
            raise ValueError(f"comparison must be one of {', '.join(map(repr, COMPARISONS))}; "
                             f"got {comparison!r}")
        if not (isinstance(conf_level, float | int) and 0 < conf_level < 1):
            raise ValueError(f"conf_level must lie in (0, 1), got {conf_level!r}")

    @staticmethod
    def _weights(wts, frame, fitted_w):
        """The averages' weights: None (equal), the fitted rows' frequency weights
        (``wts=True``; none where the model has none), a column of the rows, or an array."""
        if wts is False or wts is None:
            return None
        if wts is True:
            return fitted_w
        if isinstance(wts, str):
            if wts not in frame.columns:
                raise ValueError(f"wts: {wts!r} is not a column of the evaluation rows")
            return frame[wts].to_numpy(dtype=float)
        return np.asarray(wts, dtype=float)

    def _table(self, ev, parts, conf_level):
        """Stack the parts [(info DataFrame, Quantity, null, rows of a link-scale interval or
        None)]."""
        tables, draws = [], []
        for info, q, null, link_rows in parts:
            cols, d = ev.estimate(q, conf_level, null, link_rows)
            t = info.reset_index(drop=True).copy()
            if q.spec.ordinal:  # a row per (row, category), the category in "group"
                levels = list(ev.family.levels)
                t = t.loc[t.index.repeat(len(levels))].reset_index(drop=True)
                t.insert(0, "group", pd.Categorical(levels * len(info), categories=levels,
                                                    ordered=True))
            for k, v in cols.items():
                t[k] = np.asarray(v)
            tables.append(t)
            if d is not None:
                draws.append(d)
        out = pd.concat(tables, ignore_index=True)
        if draws:
            out.attrs["draws"] = np.concatenate(draws, axis=1)
        return out

    def _prediction_parts(self, ev, frame, R, w, by, type, average):
        if not average:
            link = type == "response" and ev.draws is None and not ev.exact
            return [(frame, ev.quantity("predictions", type, rows=R), 0.0,
                     R if link else None)]
        groups, A = _averager(frame, by, w)
        return [(groups, ev.quantity("predictions", type, rows=R, A=A), 0.0, None)]

    def predictions(self, data=None, *, by=None, type: str = "response",
                    conf_level: float = 0.95, wts=False, side_by_side: bool = False,
                    re: str = "include"):
        """The mean (``type="response"``) or eta (``"link"``) of each evaluation row (the
        fitted rows, or ``data``: new rows or a :func:`bayesglm.datagrid`), with its
        uncertainty; ``by``: averaged within groups (as marginaleffects' ``by``)."""
        return self._interpret("predictions", data, by=by, type=type, conf_level=conf_level,
                               wts=wts, side_by_side=side_by_side, re=re, average=by is not None)

    def avg_predictions(self, data=None, *, by=None, type: str = "response",
                        conf_level: float = 0.95, wts=False, side_by_side: bool = False,
                        re: str = "include"):
        """The average prediction over the evaluation rows (within ``by`` groups)."""
        return self._interpret("predictions", data, by=by, type=type, conf_level=conf_level,
                               wts=wts, side_by_side=side_by_side, re=re, average=True)

    def comparisons(self, variables, data=None, *, by=None, comparison: str = "difference",
                    type: str = "response", conf_level: float = 0.95, wts=False,
                    side_by_side: bool = False,
                    re: str = "include"):
        """Each row's change in the prediction when ``variables`` change (a numeric one by +1,
        or as a dict gives: ``{"x": [0, 10]}``, ``"sd"``, ``"2sd"``, ``"iqr"``, ``"minmax"``,
        a step; a categorical one each level against the first, ``"pairwise"``, or two
        levels), as a ``"difference"``, ``"ratio"`` or ``"lnratio"``."""
        return self._interpret("comparisons", data, variables=variables, by=by,
                               comparison=comparison, type=type, conf_level=conf_level, wts=wts,
                               side_by_side=side_by_side, re=re, average=by is not None)

    def avg_comparisons(self, variables, data=None, *, by=None,
                        comparison: str = "difference", type: str = "response",
                        conf_level: float = 0.95, wts=False, side_by_side: bool = False,
                        re: str = "include"):
        """The average comparison over the evaluation rows (within ``by`` groups); a ratio of
        an average is the ratio of the averages (marginaleffects' "ratioavg")."""
        return self._interpret("comparisons", data, variables=variables, by=by,
                               comparison=comparison, type=type, conf_level=conf_level, wts=wts,
                               side_by_side=side_by_side, re=re, average=True)

    def slopes(self, variables, data=None, *, by=None, type: str = "response",
               conf_level: float = 0.95, wts=False, side_by_side: bool = False,
               re: str = "include"):
        """Each row's derivative of the prediction in the numeric ``variables``."""
        return self._interpret("slopes", data, variables=variables, by=by, type=type,
                               conf_level=conf_level, wts=wts, side_by_side=side_by_side, re=re,
                               average=by is not None)

    def avg_slopes(self, variables, data=None, *, by=None, type: str = "response",
                   conf_level: float = 0.95, wts=False, side_by_side: bool = False,
                   re: str = "include"):
        """The average slope over the evaluation rows (within ``by`` groups)."""
        return self._interpret("slopes", data, variables=variables, by=by, type=type,
                               conf_level=conf_level, wts=wts, side_by_side=side_by_side, re=re,
                               average=True)

    def _interpret(self, what, data, *, variables=None, by=None, comparison="difference",
                   type="response", conf_level=0.95, wts=False, side_by_side=False,
                   average=False, re="include"):
        self._check(type, conf_level, comparison, re)
        with jax.enable_x64(True):  # as every bayesglm entry point (bayesglm._x64)
            out = self._compute(what, data, variables, by, comparison, type, conf_level, wts,
                                average, re)
        if side_by_side:
            mle = getattr(self, "mle", None)
            if mle is None or not hasattr(self, "idata"):
                raise ValueError("side_by_side=True is for a posterior fit with its MLE")
            if not hasattr(mle, "_compute"):
                raise ValueError("side_by_side=True needs the MLE's covariance, and a fit loaded "
                                 "from a file keeps only its estimates and standard errors: "
                                 "compute it with model.fit_mle()")
            with jax.enable_x64(True):
                m = mle._compute(what, data, variables, by, comparison, type, conf_level, wts,
                                 average, re)
            draws = out.attrs.get("draws")
            extra = {f"mle_{k}" if k != "estimate" else "mle": m[k].to_numpy()
                     for k in ("estimate", "std_error", "conf_low", "conf_high")}
            at = list(out.columns).index("estimate")
            for j, (k, v) in enumerate(extra.items()):
                out.insert(at + j, k, v)
            if draws is not None:
                out.attrs["draws"] = draws
        return out

    def _compute(self, what, data, variables, by, comparison, type, conf_level, wts, average,
                 re="include"):
        ev = self._evaluator(re)
        frame, R, fitted_w = ev.base_rows(data)
        if wts is True and data is not None:
            raise ValueError("wts=True weights by the fitted rows' frequency weights: with "
                             "data=, give wts= a column name of it or an array")
        w = self._weights(wts, frame, fitted_w) if average else None
        if what == "predictions":
            return self._table(ev, self._prediction_parts(ev, frame, R, w, by, type, average),
                               conf_level)
        fitted = ev.source.data
        like = R if data is None else None
        parts = []
        for name, spec in _variables(variables).items():
            if what == "slopes":
                parts.append(self._slope_part(ev, frame, R, like, name, by, type, w, average))
                continue
            for label, lo, hi in _contrasts(name, spec, frame, fitted):
                rows = {"lo": ev.rows_of(_with(frame, name, lo), like),
                        "hi": ev.rows_of(_with(frame, name, hi), like)}
                head = pd.DataFrame({"term": [name] * len(frame),
                                     "contrast": _label(label, comparison)})
                parts.append(_comparison_part(ev, frame, head, rows, comparison, type, by, w,
                                              average))
        return self._table(ev, parts, conf_level)

    def _slope_part(self, ev, frame, R, like, name, by, type, w, average):
        if name not in frame.columns or not _is_numeric(frame[name]):
            raise ValueError(f"variables: slopes need numeric columns; {name!r} is "
                             f"{'not a column' if name not in frame.columns else 'not numeric'}")
        x = frame[name].to_numpy(dtype=float)
        h = SLOPE_STEP * max(1.0, float(np.std(x)) if len(x) > 1 else 1.0)
        up = ev.rows_of(_with(frame, name, x + h), like)
        down = ev.rows_of(_with(frame, name, x - h), like)
        D = (up.X - down.X) / (2.0 * h)
        DZ = tuple((zu - zd) / (2.0 * h) for (zu, _), (zd, _) in zip(up.groups, down.groups))
        head = pd.DataFrame({"term": [name] * len(frame)})
        if not average:
            return (pd.concat([head, frame.reset_index(drop=True)], axis=1),
                    ev.quantity("slopes", type, rows=R, D=D, DZ=DZ), 0.0, None)
        groups, A = _averager(frame, by, w)
        return (pd.concat([pd.DataFrame({"term": [name] * len(groups)}), groups], axis=1),
                ev.quantity("slopes", type, rows=R, D=D, DZ=DZ, A=A), 0.0, None)


def _label(label: str, comparison: str) -> str:
    """A contrast's label as the comparison formed it: "b - a", "b / a", "ln(b / a)" (a step,
    "+1", or a summary, "sd", is the same for each)."""
    if comparison == "difference" or " - " not in label:
        return label
    ratio = label.replace(" - ", " / ", 1)
    return ratio if comparison == "ratio" else f"ln({ratio})"


def _comparison_part(ev, frame, head, rows, comparison, type, by, w, average):
    null = 1.0 if comparison == "ratio" else 0.0
    if not average:
        q = ev.quantity("comparisons", type, comparison=comparison, **rows)
        return (pd.concat([head, frame.reset_index(drop=True)], axis=1), q, null, None)
    groups, A = _averager(frame, by, w)
    q = ev.quantity("comparisons", type, comparison=comparison, A=A, **rows)
    info = pd.concat([head.iloc[:len(groups)].reset_index(drop=True), groups], axis=1)
    return (info, q, null, None)
