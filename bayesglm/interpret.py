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
``attrs["draws"]`` (draws x rows). Offsets, exposure and trials of the rows are respected:
for a model with an exposure the response scale is the expected count of each row's
exposure (pass ``exposure=1`` rows in ``data`` for the rate per unit).
"""

from __future__ import annotations

import itertools
from statistics import NormalDist
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

__all__ = ["datagrid", "Evaluator", "TYPES", "COMPARISONS"]

TYPES = ("response", "link")
COMPARISONS = ("difference", "ratio", "lnratio")
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


class Rows(NamedTuple):
    """Evaluation rows as the quantity functions take them (host arrays)."""

    X: np.ndarray
    offset: Any  # (m,) or None
    aux: Any  # a likelihood family's extra design matrices, or None


# -- the parameters -------------------------------------------------------------------------
class Source(NamedTuple):
    """What the quantities need of a fit: the coefficient names, the fitted design, the
    formula (None: the array interface), the raw fitted rows (None: not kept, e.g. a loaded
    fit) and the family."""

    names: tuple
    design: Any
    formula_spec: Any
    data: Any
    family: Any


class Evaluator:
    """The model's mean as a function of its parameters, for one fit: the MLE (``theta``,
    ``cov``) or the posterior (``draws``, (D, k)); theta is the ``p`` coefficients, then (a
    likelihood family) the extra parameters' unconstrained values."""

    def __init__(self, source: Source, *, theta=None, cov=None, draws=None):
        self.source, self.family = source, source.family
        self.theta = None if theta is None else np.asarray(theta, dtype=float)
        self.cov = None if cov is None else np.asarray(cov, dtype=float)
        self.draws = None if draws is None else np.asarray(draws, dtype=float)
        self.p = len(source.names)
        self.exact = bool(getattr(self.family, "exact_likelihood", False))
        if getattr(self.family, "ordinal", False):
            raise NotImplementedError(
                "predictions, comparisons and slopes of an ordinal model (one probability per "
                "category) are not built yet; predict() gives the category probabilities")

    # the rows --------------------------------------------------------------------------------
    def base_rows(self, data):
        """(the evaluation DataFrame, its design Rows, the fitted rows' frequency weights or
        None)."""
        if data is None:
            if self.source.data is None:
                raise ValueError(
                    "this fit has not kept the model's raw rows (the array interface keeps only "
                    "the design, and a loaded fit neither): pass data=, a DataFrame of the "
                    "model's columns")
            d = self.source.design
            return self.source.data, Rows(d.X, d.total_offset, d.aux), d.weights
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a DataFrame of the model's columns (or None for the "
                            f"fitted rows), got {type(data).__name__}")
        return data, self.rows_of(data), None

    def rows_of(self, frame: pd.DataFrame, like: Rows | None = None) -> Rows:
        """The design rows of ``frame`` (the formula re-applied); ``like``: rows whose offset
        to keep (the fitted rows' own, for counterfactual copies of them)."""
        from .design import new_rows

        src = self.source
        d, fs = src.design, src.formula_spec
        if fs is None:
            raise ValueError("comparisons and slopes change a variable of the raw rows: build "
                             "the model with bg.glm(formula, data, ...)")
        has_off, has_exp = d.offset is not None, d.exposure is not None
        if like is not None:  # the fitted rows: their own offset, however it was given
            X, _ = fs.design_matrix(frame, what="data")
            off = like.offset
        else:
            nr = new_rows(frame, names=d.names, family=self.family, formula_spec=fs,
                          has_offset=has_off, has_exposure=has_exp)
            X, off = nr.X, nr.offset
        aux = None
        if self.exact and self.family.aux_formulas():
            aux = fs.aux_matrices(frame, "data")
        return Rows(np.asarray(X, dtype=float), off, aux)

    # the mean -------------------------------------------------------------------------------
    def mean_fn(self, rows: Rows, kind: str):
        """theta -> (m,) of mu (``"response"``) or eta (``"link"``) in JAX."""
        X = jnp.asarray(rows.X)
        off = None if rows.offset is None else jnp.asarray(rows.offset)
        aux = None if rows.aux is None else {k: jnp.asarray(v) for k, v in rows.aux.items()}
        fam, p = self.family, self.p

        def eta_of(theta):
            eta = X @ theta[:p]
            return eta if off is None else eta + off

        if kind == "link":
            return eta_of
        if self.exact:
            from .likelihood_mle import unpack

            def mu(theta):
                return fam.mean(eta_of(theta), unpack(fam, theta[p:], jnp), aux)
            return mu
        return lambda theta: fam.link.inverse(eta_of(theta))

    def slope_fn(self, rows: Rows, D: np.ndarray, kind: str):
        """theta -> (m,) of d mean / d x: the mean's jvp in eta along D beta (D = dX/dx)."""
        Dj = jnp.asarray(D)
        X = jnp.asarray(rows.X)
        off = None if rows.offset is None else jnp.asarray(rows.offset)
        aux = None if rows.aux is None else {k: jnp.asarray(v) for k, v in rows.aux.items()}
        fam, p, exact = self.family, self.p, self.exact

        def slope(theta):
            beta = theta[:p]
            eta = X @ beta if off is None else X @ beta + off
            deta = Dj @ beta
            if kind == "link":
                return deta
            if exact:
                from .likelihood_mle import unpack

                extra = unpack(fam, theta[p:], jnp)
                return jax.jvp(lambda e: fam.mean(e, extra, aux), (eta,), (deta,))[1]
            return jax.jvp(fam.link.inverse, (eta,), (deta,))[1]

        return slope

    # estimates ------------------------------------------------------------------------------
    def estimate(self, fn, conf_level: float, null: float = 0.0, link_interval=None):
        """The table columns of a quantity function ``fn`` (theta -> (m,))."""
        if self.draws is not None:
            return _posterior_columns(jax.vmap(fn)(jnp.asarray(self.draws)), conf_level)
        theta = jnp.asarray(self.theta)
        value = np.asarray(fn(theta))
        J = np.asarray(jax.jacfwd(fn)(theta))
        se = np.sqrt(np.maximum(np.einsum("ma,ab,mb->m", J, self.cov, J), 0.0))
        q = NormalDist().inv_cdf(0.5 + conf_level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (value - null) / se
        from .results import two_sided_p

        lo, hi = value - q * se, value + q * se
        if link_interval is not None:  # formed on the link scale, mapped back
            lo, hi = link_interval(q)
        return {"estimate": value, "std_error": se, "z": z, "p_value": two_sided_p(z),
                "conf_low": lo, "conf_high": hi}, None


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

    def _evaluator(self) -> Evaluator:
        raise NotImplementedError

    def _check(self, type, conf_level, comparison="difference"):
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
        """Stack the parts [(info DataFrame, fn, null, link interval maker or None)]."""
        tables, draws = [], []
        for info, fn, null, link in parts:
            cols, d = ev.estimate(fn, conf_level, null, link)
            t = info.reset_index(drop=True).copy()
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
        fn = ev.mean_fn(R, type)
        link = None
        if ev.draws is None and type == "response" and not ev.exact and not average:
            link = _link_interval(ev, R)
        if not average:
            return [(frame, fn, 0.0, link)]
        groups, A = _averager(frame, by, w)
        Aj = jnp.asarray(A)
        return [(groups, lambda th: Aj @ fn(th), 0.0, None)]

    def predictions(self, data=None, *, by=None, type: str = "response",
                    conf_level: float = 0.95, wts=False, side_by_side: bool = False):
        """The mean (``type="response"``) or eta (``"link"``) of each evaluation row (the
        fitted rows, or ``data``: new rows or a :func:`bayesglm.datagrid`), with its
        uncertainty; ``by``: averaged within groups (as marginaleffects' ``by``)."""
        return self._interpret("predictions", data, by=by, type=type, conf_level=conf_level,
                               wts=wts, side_by_side=side_by_side, average=by is not None)

    def avg_predictions(self, data=None, *, by=None, type: str = "response",
                        conf_level: float = 0.95, wts=False, side_by_side: bool = False):
        """The average prediction over the evaluation rows (within ``by`` groups)."""
        return self._interpret("predictions", data, by=by, type=type, conf_level=conf_level,
                               wts=wts, side_by_side=side_by_side, average=True)

    def comparisons(self, variables, data=None, *, by=None, comparison: str = "difference",
                    type: str = "response", conf_level: float = 0.95, wts=False,
                    side_by_side: bool = False):
        """Each row's change in the prediction when ``variables`` change (a numeric one by +1,
        or as a dict gives: ``{"x": [0, 10]}``, ``"sd"``, ``"2sd"``, ``"iqr"``, ``"minmax"``,
        a step; a categorical one each level against the first, ``"pairwise"``, or two
        levels), as a ``"difference"``, ``"ratio"`` or ``"lnratio"``."""
        return self._interpret("comparisons", data, variables=variables, by=by,
                               comparison=comparison, type=type, conf_level=conf_level, wts=wts,
                               side_by_side=side_by_side, average=by is not None)

    def avg_comparisons(self, variables, data=None, *, by=None,
                        comparison: str = "difference", type: str = "response",
                        conf_level: float = 0.95, wts=False, side_by_side: bool = False):
        """The average comparison over the evaluation rows (within ``by`` groups); a ratio of
        an average is the ratio of the averages (marginaleffects' "ratioavg")."""
        return self._interpret("comparisons", data, variables=variables, by=by,
                               comparison=comparison, type=type, conf_level=conf_level, wts=wts,
                               side_by_side=side_by_side, average=True)

    def slopes(self, variables, data=None, *, by=None, type: str = "response",
               conf_level: float = 0.95, wts=False, side_by_side: bool = False):
        """Each row's derivative of the prediction in the numeric ``variables``."""
        return self._interpret("slopes", data, variables=variables, by=by, type=type,
                               conf_level=conf_level, wts=wts, side_by_side=side_by_side,
                               average=by is not None)

    def avg_slopes(self, variables, data=None, *, by=None, type: str = "response",
                   conf_level: float = 0.95, wts=False, side_by_side: bool = False):
        """The average slope over the evaluation rows (within ``by`` groups)."""
        return self._interpret("slopes", data, variables=variables, by=by, type=type,
                               conf_level=conf_level, wts=wts, side_by_side=side_by_side,
                               average=True)

    def _interpret(self, what, data, *, variables=None, by=None, comparison="difference",
                   type="response", conf_level=0.95, wts=False, side_by_side=False,
                   average=False):
        self._check(type, conf_level, comparison)
        with jax.enable_x64(True):  # as every bayesglm entry point (bayesglm._x64)
            out = self._compute(what, data, variables, by, comparison, type, conf_level, wts,
                                average)
        if side_by_side:
            mle = getattr(self, "mle", None)
            if mle is None or not hasattr(mle, "_compute") or not hasattr(self, "idata"):
                raise ValueError("side_by_side=True is for a posterior fit with its MLE")
            with jax.enable_x64(True):
                m = mle._compute(what, data, variables, by, comparison, type, conf_level, wts,
                                 average)
            draws = out.attrs.get("draws")
            extra = {f"mle_{k}" if k != "estimate" else "mle": m[k].to_numpy()
                     for k in ("estimate", "std_error", "conf_low", "conf_high")}
            at = list(out.columns).index("estimate")
            for j, (k, v) in enumerate(extra.items()):
                out.insert(at + j, k, v)
            if draws is not None:
                out.attrs["draws"] = draws
        return out

    def _compute(self, what, data, variables, by, comparison, type, conf_level, wts, average):
        ev = self._evaluator()
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
                f_lo = ev.mean_fn(ev.rows_of(_with(frame, name, lo), like), type)
                f_hi = ev.mean_fn(ev.rows_of(_with(frame, name, hi), like), type)
                head = pd.DataFrame({"term": [name] * len(frame), "contrast": label})
                parts.append(_comparison_part(frame, head, f_lo, f_hi, comparison, by, w,
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
        fn = ev.slope_fn(R, D, type)
        head = pd.DataFrame({"term": [name] * len(frame)})
        if not average:
            return (pd.concat([head, frame.reset_index(drop=True)], axis=1), fn, 0.0, None)
        groups, A = _averager(frame, by, w)
        Aj = jnp.asarray(A)
        return (pd.concat([pd.DataFrame({"term": [name] * len(groups)}), groups], axis=1),
                lambda th: Aj @ fn(th), 0.0, None)


def _comparison_part(frame, head, f_lo, f_hi, comparison, by, w, average):
    null = 1.0 if comparison == "ratio" else 0.0
    if not average:
        if comparison == "difference":
            fn = lambda th: f_hi(th) - f_lo(th)  # noqa: E731
        elif comparison == "ratio":
            fn = lambda th: f_hi(th) / f_lo(th)  # noqa: E731
        else:
            fn = lambda th: jnp.log(f_hi(th) / f_lo(th))  # noqa: E731
        return (pd.concat([head, frame.reset_index(drop=True)], axis=1), fn, null, None)
    groups, A = _averager(frame, by, w)
    Aj = jnp.asarray(A)
    if comparison == "difference":
        fn = lambda th: Aj @ (f_hi(th) - f_lo(th))  # noqa: E731
    elif comparison == "ratio":
        fn = lambda th: (Aj @ f_hi(th)) / (Aj @ f_lo(th))  # noqa: E731
    else:
        fn = lambda th: jnp.log((Aj @ f_hi(th)) / (Aj @ f_lo(th)))  # noqa: E731
    info = pd.concat([head.iloc[:len(groups)].reset_index(drop=True), groups], axis=1)
    return (info, fn, null, None)


def _link_interval(ev, R):
    """A prediction's interval formed on the link scale and mapped back (ordered)."""
    eta_fn = ev.mean_fn(R, "link")
    theta = jnp.asarray(ev.theta)
    eta = np.asarray(eta_fn(theta))
    J = np.asarray(jax.jacfwd(eta_fn)(theta))
    se = np.sqrt(np.maximum(np.einsum("ma,ab,mb->m", J, ev.cov, J), 0.0))
    inv = ev.family.link.inverse

    def make(q):
        lo = np.asarray(inv(jnp.asarray(eta - q * se)))
        hi = np.asarray(inv(jnp.asarray(eta + q * se)))
        return np.minimum(lo, hi), np.maximum(lo, hi)

    return make
