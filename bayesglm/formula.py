"""The formula front end: the only module that imports formulaic.

``build`` turns ``formula + DataFrame`` into the arrays :func:`bayesglm.design.make_design`
validates (response, design matrix with named columns, offset, exposure, weights, trials), and a
:class:`FormulaSpec` that re-applies the formula to new data: the same transformations, the same
category levels and contrasts (formulaic's ``ModelSpec``), with a clear error for a level never
seen in the fit and for a missing column.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix
from formulaic.errors import DataMismatchWarning, FormulaicError
from formulaic.formula import SimpleFormula, StructuredFormula

from ._warnings import MissingDataWarning, warn
from .design import Rows, make_exog, naming
from .formula_checks import FormulaError, check_columns, r_idiom
from .group_design import GroupFactor, GroupRows, factorize, level_label
from .group_terms import FormulaSyntaxError, split_formula

__all__ = ["FormulaSpec", "FormulaData", "FormulaError", "build", "from_formula", "caller_context"]

#: the per-row arguments that may name a column of the data
ROLES = ("offset", "exposure", "weights", "trials")
#: numeric columns with at most this many distinct values keep them (to rebuild C(x) on load)
_MAX_VALUES = 100
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[\u29DA\u29DB]")


def _first_line(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _rows_have(k: int, n: int) -> str:
    """``"1 row of 189 has"``, ``"2 rows of 189 have"``."""
    return f"{_plural(k, 'row')} of {n} {'has' if k == 1 else 'have'}"


def caller_context(depth: int = 1) -> dict[str, Any]:
    """Names visible in the frame ``depth`` levels above the caller (its globals, then locals)."""
    frame = sys._getframe(depth + 1)
    return {**frame.f_globals, **frame.f_locals}


def _trim_context(context: Mapping | None, formula: str) -> dict[str, Any]:
    """Keep only the names that occur in the formula (a model must not pin a whole namespace)."""
    if not context or not isinstance(formula, str):
        return {}
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", formula))
    return {k: v for k, v in context.items() if k in words}


def _as_frame(data, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):  # one row, such as df.iloc[0]
        return pd.DataFrame([data.to_dict()], index=[data.name if data.name is not None else 0])
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame(data)
        except ValueError:  # all scalars: one row
            return pd.DataFrame([dict(data)])
    raise TypeError(f"{what}: a formula model needs a pandas DataFrame (or a dict of columns), "
                    f"got {type(data).__name__}")


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v


def _describe_column(s: pd.Series) -> dict:
    """What a predictor column looked like at fit time (its levels, for new data and reload)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return {"kind": "categorical", "levels": [_jsonable(c) for c in s.cat.categories]}
    if pd.api.types.is_bool_dtype(s.dtype):
        return {"kind": "bool"}
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = pd.unique(s.dropna())
        keep = len(values) <= _MAX_VALUES
        return {"kind": "numeric",
                "values": sorted(_jsonable(v) for v in values) if keep else None}
    values = pd.unique(s.dropna())
    try:
        levels = sorted(values)
    except TypeError:
        levels = list(values)
    return {"kind": "categorical", "levels": [_jsonable(v) for v in levels]}


@dataclass(frozen=True, eq=False)
class FormulaSpec:
    """A fitted model's formula: what is needed to build its design matrix for new data.

    Attributes
    ----------
    formula : str
        The formula as given.
    rhs : str
        The right-hand side as formulaic expanded it (``1 + x + C(site)``).
    names : tuple of str
        The coefficient names (the design matrix's columns).
    response : str
        The left-hand side (the response's name).
    response_levels : tuple or None
        ``(failure, success)`` for a binomial response given as a two-level string, categorical
        or boolean column (the second level in sorted/categorical order is the success, as R).
    columns : dict
        ``{"exposure": "holders", ...}``: the per-row arguments given as column names.
    variables : dict
        Each data column the right-hand side uses, with its kind and (categorical) levels.
    model_spec : formulaic.ModelSpec or None
        The right-hand side's spec, holding the learned levels and transform states (None for a
        spec read back from a file that could not be rebuilt; see ``restore_error``).
    """

    formula: str
    rhs: str
    names: tuple[str, ...]
    response: str
    response_levels: tuple | None
    columns: dict
    variables: dict
    model_spec: Any = field(repr=False, default=None)
    context: dict = field(repr=False, default_factory=dict)
    stateful: bool = False
    restore_error: str | None = None
    #: the group-level terms: ((GroupTerm, formulaic ModelSpec of its columns), ...)
    group_terms: tuple = field(repr=False, default=())
    #: each data column the group terms' columns use, as ``variables``
    group_variables: dict = field(repr=False, default_factory=dict)
    #: the formula's intercept column is dropped from the design (an ordinal family's
    #: cutpoints are its intercepts)
    drop_intercept: bool = False
    #: the family's extra design matrices: ((name, formula, column names, ModelSpec), ...)
    aux_terms: tuple = field(repr=False, default=())
    #: each data column the extra design matrices use, as ``variables``
    aux_variables: dict = field(repr=False, default_factory=dict)

    # -- notes ------------------------------------------------------------------------------
    def response_note(self) -> str | None:
        """The sentence that says which level of a two-level response is the success."""
        if self.response_levels is None:
            return None
        failure, success = self.response_levels
        return (f"Response {self.response!r}: success = {success!r}, failure = {failure!r} "
                f"(the second level, in sorted/categorical order, is the success, as R's glm).")

    # -- new data ---------------------------------------------------------------------------
    def uses(self, data, names) -> bool:
        """Whether ``data`` holds raw columns for the formula (not already-built design rows)."""
        if not isinstance(data, (pd.DataFrame, pd.Series, Mapping)):
            return False
        cols = set(data.index if isinstance(data, pd.Series) else data.keys())
        if all(v in cols for v in self.variables):
            return True
        return not all(nm in cols for nm in names)  # design rows by name, else the formula's error

    def design_matrix(self, data, what: str = "data") -> tuple[np.ndarray, pd.Index]:
        """The design matrix of new rows: ``(X (m, p), index)``.

        Raises
        ------
        ValueError
            A column the formula needs is missing, holds missing values, or has a category
            level not seen when the model was fitted.
        """
        if self.model_spec is None:
            raise ValueError(f"{what}: {self.restore_error}")
        df = _as_frame(data, what)
        absent = [v for v in self.variables if v not in df.columns and v not in self.context]
        if absent:
            raise ValueError(f"{what}: column {absent[0]!r} is missing; the formula "
                             f"{self.formula!r} needs the columns {list(self.variables)}")
        present = [v for v in self.variables if v in df.columns]
        nan = {v: int(df[v].isna().sum()) for v in present}
        nan = {v: k for v, k in nan.items() if k}
        if nan:
            rows = int(df[list(nan)].isna().any(axis=1).sum())
            cols = ", ".join(f"{v!r} ({k})" for v, k in nan.items())
            raise ValueError(f"{what}: {_rows_have(rows, len(df))} missing values "
                             f"(in {cols}); remove them first")
        for v in present:
            meta = self.variables[v]
            if meta["kind"] != "categorical":
                continue
            levels = meta["levels"]
            known = set(levels)
            new = [x for x in pd.unique(df[v]) if x not in known]
            if new:
                raise ValueError(
                    f"{what}: column {v!r} has level {_jsonable(new[0])!r}, not seen when the "
                    f"model was fitted (its levels: {', '.join(map(repr, levels))})")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                mm = self.model_spec.get_model_matrix(df, context=self.context, na_action="ignore")
            except FormulaicError as exc:
                raise ValueError(f"{what}: cannot apply the formula {self.formula!r} "
                                 f"({_first_line(exc)})") from None
        for w in caught:
            if issubclass(w.category, DataMismatchWarning):
                raise ValueError(f"{what}: {_first_line(w.message)} (a level not seen when the "
                                 f"model was fitted)".replace(" They are being  cast to nan, "
                                                              "which will likely skew the "
                                                              "results of your analyses.", ""))
        mm = _without_intercept(mm) if self.drop_intercept else mm
        if tuple(map(str, mm.columns)) != self.names:
            raise ValueError(f"{what}: the formula gave the columns {list(mm.columns)}, not the "
                             f"model's {list(self.names)}")
        X = make_exog(pd.DataFrame(np.asarray(mm, dtype=np.float64), columns=list(self.names),
                                   index=df.index), self.names, what=what)
        return X, df.index

    def aux_matrices(self, data, what: str = "data") -> dict:
        """The family's extra design matrices (its zero model's) for new rows: name -> array."""
        df = _as_frame(data, what)
        return {name: _aux_matrix(None, df, self.context, f"{what} ({name} model)", spec=ms)[0]
                .to_numpy() for name, _, _, ms in self.aux_terms}

    def group_rows(self, data, factors, what: str = "data") -> list[tuple[GroupRows, list]]:
        """Each group term's rows for new data: ``(GroupRows, new levels)`` per term.

        The index of a level seen in the fit is its position in ``factor.levels``; the unseen
        levels (the list, in order of appearance) are numbered after them, so that effects for
        them can be appended to the fitted ones.
        """
        if len(self.group_terms) != len(factors):
            raise ValueError(f"{what}: the formula's group terms cannot be rebuilt for new data "
                             "(a fit loaded from a file); pass re='exclude'")
        df = _as_frame(data, what)
        out = []
        for (t, model_spec), factor in zip(self.group_terms, factors):
            for g in t.group.split(":"):
                if g not in df.columns:
                    raise ValueError(f"{what}: column {g!r} (the group of {t.source}) is "
                                     "missing; add it, or pass re='exclude' for the fixed "
                                     "effects alone")
                if df[g].isna().any():
                    raise ValueError(f"{what}: column {g!r} (the group of {t.source}) has "
                                     f"{int(df[g].isna().sum())} missing values")
            try:
                mm = model_spec.get_model_matrix(df, context=self.context, na_action="ignore")
            except FormulaicError as exc:
                raise ValueError(f"{what}: cannot evaluate the group-level term {t.source} "
                                 f"({_first_line(exc)})") from None
            Z = np.ascontiguousarray(np.asarray(mm, dtype=np.float64))
            labels = [":".join(parts) for parts in zip(*[_group_labels(df[g])
                                                        for g in t.group.split(":")])]
            known = {lv: i for i, lv in enumerate(factor.levels)}
            new = list(dict.fromkeys(lv for lv in labels if lv not in known))
            pos = {lv: factor.n_levels + i for i, lv in enumerate(new)}
            index = np.array([known.get(lv, pos.get(lv, -1)) for lv in labels], dtype=np.int32)
            out.append((GroupRows(Z, index), new))
        return out

    def vector(self, value, data, role: str, what: str = "data"):
        """A per-row argument for new rows: a column name of ``data``, an array, or None.

        None takes the column the model was fitted with (``exposure="holders"``) when ``data``
        has it.
        """
        df = data if isinstance(data, pd.DataFrame) else None
        if value is None:
            col = self.columns.get(role)
            if col is None:
                return None
            if df is not None and col in df.columns:
                return df[col].to_numpy()
            if role in ("offset", "exposure"):
                raise ValueError(f"{role}: the model was fitted with {role}={col!r}, but the new "
                                 f"{what} have no column {col!r}: add it, or pass {role}=")
            return None
        if isinstance(value, str):
            if df is None or value not in df.columns:
                raise ValueError(f"{role}: column {value!r} is not in the {what}")
            return df[value].to_numpy()
        return value

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able record (BayesResults.save stores it)."""
        return {"formula": self.formula, "rhs": self.rhs, "names": list(self.names),
                "response": self.response,
                "response_levels": None if self.response_levels is None
                else [_jsonable(v) for v in self.response_levels],
                "columns": dict(self.columns), "variables": self.variables,
                "stateful": self.stateful, "group_variables": self.group_variables,
                "drop_intercept": self.drop_intercept,
                "aux_terms": [[name, rhs, list(cols)] for name, rhs, cols, _ in self.aux_terms],
                "aux_stateful": any(bool(getattr(ms, "transform_state", None))
                                    for *_, ms in self.aux_terms),
                "aux_variables": self.aux_variables}

    @classmethod
    def from_dict(cls, d: dict) -> FormulaSpec:
        """Rebuild a spec from :meth:`to_dict`'s record.

        The formulaic spec is rebuilt by applying the formula to a small frame holding each
        column's recorded levels, and checked against the recorded coefficient names; formulas
        with stateful transforms (``center``, ``scale``, ``poly``, splines) cannot be rebuilt
        this way, and their ``design_matrix`` then says so.
        """
        names = tuple(d["names"])
        levels = d.get("response_levels")
        spec = cls(formula=d["formula"], rhs=d["rhs"], names=names, response=d["response"],
                   response_levels=None if levels is None else tuple(levels),
                   columns=dict(d.get("columns") or {}), variables=dict(d["variables"]),
                   stateful=bool(d.get("stateful")),
                   drop_intercept=bool(d.get("drop_intercept")))
        hint = ("; predict from design rows instead (a DataFrame with the columns "
                f"{list(names)})")
        if spec.stateful or d.get("aux_stateful"):
            return _replace(spec, restore_error="the saved model's formula uses stateful "
                            "transforms (center, scale, poly, splines), which cannot be "
                            "re-applied after loading" + hint)
        try:
            frame = _frame_from_variables(spec.variables)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mm = model_matrix(spec.rhs, frame, na_action="ignore")
        except Exception as exc:  # noqa: BLE001 - any failure leaves the spec without formulaic
            return _replace(spec, restore_error=f"cannot rebuild the saved formula "
                            f"({_first_line(exc)})" + hint)
        model_spec = mm.model_spec  # of the formula's columns, the intercept still among them
        mm = _without_intercept(mm) if spec.drop_intercept else mm
        if tuple(map(str, mm.columns)) != names:
            return _replace(spec, restore_error="the saved formula does not rebuild the saved "
                            "coefficient names" + hint)
        aux_terms = _rebuild_aux_terms(d.get("aux_terms") or [], d.get("aux_variables") or {})
        if aux_terms is None:
            return _replace(spec, restore_error="the saved zero model's formula does not rebuild "
                            "its saved coefficient names" + hint)
        return _replace(spec, model_spec=model_spec,
                        group_terms=_rebuild_group_terms(spec.formula, d.get("group_variables")),
                        aux_terms=aux_terms, aux_variables=dict(d.get("aux_variables") or {}))


def _rebuild_aux_terms(saved: list, variables: dict) -> tuple | None:
    """The extra design matrices' specs of a saved formula (None where one does not rebuild
    its recorded column names)."""
    out = []
    frame = _frame_from_variables(variables) if variables else pd.DataFrame(index=range(2))
    for name, rhs, cols in saved:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mm = model_matrix(_rhs_body(rhs), frame, na_action="ignore")
        except Exception:  # noqa: BLE001 - any failure: the spec says it cannot predict
            return None
        if [str(c) for c in mm.columns] != list(cols):
            return None
        out.append((name, rhs, tuple(cols), mm.model_spec))
    return tuple(out)


def _rebuild_group_terms(formula: str, variables: dict | None) -> tuple:
    """The group terms' specs of a saved formula (empty where they cannot be rebuilt: then
    ``group_rows`` says so)."""
    try:
        _, gterms = split_formula(formula)
        if not gterms:
            return ()
        frame = _frame_from_variables(variables or {}) if variables else pd.DataFrame(
            index=range(2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple((t, model_matrix(t.predictors, frame, na_action="ignore").model_spec)
                         for t in gterms)
    except Exception:  # noqa: BLE001 - a spec that cannot be rebuilt: predict says so
        return ()


def _replace(spec: FormulaSpec, **changes) -> FormulaSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _frame_from_variables(variables: dict) -> pd.DataFrame:
    """A few rows that show every recorded level of every column (for rebuilding a spec)."""
    sizes = [len(m.get("levels") or m.get("values") or ()) for m in variables.values()]
    m = max([2, *sizes])
    cols = {}
    for name, meta in variables.items():
        kind = meta["kind"]
        if kind == "categorical":
            levels = meta["levels"]
            cols[name] = pd.Categorical([levels[i % len(levels)] for i in range(m)],
                                        categories=levels)
        elif kind == "bool":
            cols[name] = np.arange(m) % 2 == 1
        elif meta.get("values"):
            values = meta["values"]
            cols[name] = np.array([values[i % len(values)] for i in range(m)])
        else:
            cols[name] = np.linspace(1.0, 2.0, m)
    return pd.DataFrame(cols)


class FormulaData(NamedTuple):
    """What :func:`build` hands to the array interface."""

    endog: Any
    exog: pd.DataFrame
    extras: dict
    spec: FormulaSpec
    n_dropped: int
    #: 0-based places of the kept rows in the user's data (None: every row was kept)
    positions: np.ndarray | None = None
    #: the group-level terms: ((GroupFactor, GroupRows), ...) of the kept rows
    groups: tuple = ()
    #: the family's extra design matrices (a zero-inflation model's), name -> DataFrame
    aux: dict = {}
    #: the kept rows' raw columns the model uses (its right-hand sides' and the per-row
    #: arguments given as column names): ``GLM.data``
    rows: Any = None


# -- building ------------------------------------------------------------------------------
def _parse(formula, data: pd.DataFrame, context: dict):
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x1 + x2', got "
                        f"{type(formula).__name__}")
    if "~" not in formula:
        raise FormulaError(f"formula {formula!r} has no '~': write it as 'y ~ x1 + x2'")
    try:
        f = Formula(formula, _context={"__formulaic_variables_available__": list(data.columns)})
    except Exception as exc:  # noqa: BLE001 - the parser raises plain errors on some input
        idiom = r_idiom(formula, data.columns)  # R's as.factor() does not even parse
        if idiom is not None:
            raise idiom from None
        raise FormulaError(f"cannot parse the formula {formula!r}: {_first_line(exc)}") from None
    if not isinstance(f, StructuredFormula) or "lhs" not in f._structure or f.lhs is None:
        raise FormulaError(f"formula {formula!r} has no response: write it as 'y ~ x1 + x2'")
    if not isinstance(f.rhs, SimpleFormula) or not isinstance(f.lhs, SimpleFormula):
        raise FormulaError(f"formula {formula!r}: multi-part formulas ('|') are not supported")
    idiom = r_idiom(formula, data.columns)
    if idiom is not None:
        raise idiom
    for part in (f.lhs, f.rhs):
        _check_columns_exist(part, data, context, f"formula {formula!r}")
    return f


def _check_columns_exist(part, data: pd.DataFrame, context: dict, what: str) -> None:
    """A FormulaError naming the first column a formula part reads that the data lack."""
    for v in part.required_variables:
        roles = {getattr(r, "value", r) for r in getattr(v, "roles", ())}
        if "value" in roles and v not in data.columns and v not in context:
            raise FormulaError(f"{what}: column {str(v)!r} is not in the data (its columns: "
                               f"{', '.join(map(str, data.columns))})")


def _rhs_body(formula: str) -> str:
    """The right-hand side of a one-sided formula without its ``~`` (``"1"`` if empty)."""
    rhs = formula.strip()
    return (rhs[1:] if rhs.startswith("~") else rhs).strip() or "1"


def _parse_rhs(formula: str, what: str, data: pd.DataFrame, context: dict):
    """A one-sided formula (``"~ x1 + x2"``) of a family's extra design (its zero model)."""
    try:
        f = Formula(_rhs_body(formula),
                    _context={"__formulaic_variables_available__": list(data.columns)})
    except Exception as exc:  # noqa: BLE001 - the parser raises plain errors on some input
        raise FormulaError(f"cannot parse the {what} formula {formula!r}: "
                           f"{_first_line(exc)}") from None
    _check_columns_exist(f, data, context, f"the {what} formula {formula!r}")
    return f


def _aux_matrix(f, data: pd.DataFrame, context: dict, what: str, spec=None):
    """(DataFrame of the design, its ModelSpec) of a one-sided formula on ``data``'s rows."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mm = (spec.get_model_matrix(data, context=context, na_action="ignore")
                  if spec is not None else
                  model_matrix(f, data, context=context, na_action="ignore"))
    except Exception as exc:  # noqa: BLE001 - user expressions raise anything
        raise FormulaError(f"cannot evaluate the {what} formula: {_first_line(exc)}") from None
    for w in caught:
        if issubclass(w.category, DataMismatchWarning):
            raise ValueError(f"{what}: {_first_line(w.message)} (a level not seen when the "
                             "model was fitted)")
    cols = [str(c) for c in mm.columns]
    return pd.DataFrame(np.asarray(mm, dtype=np.float64), index=data.index, columns=cols), \
        mm.model_spec


def _plain_terms(part, data) -> list[str]:
    """Columns used as they are (``x``, ``x:z``), not through a function (``C(x)``)."""
    out = []
    for term in part:
        for fa in term.factors:
            method = getattr(fa.eval_method, "value", fa.eval_method)
            if method == "lookup" and str(fa.expr) in data.columns:
                out.append(str(fa.expr))
    return list(dict.fromkeys(out))


def _value_vars(part, data) -> list[str]:
    out = []
    for v in part.required_variables:
        roles = {getattr(r, "value", r) for r in getattr(v, "roles", ())}
        if ("value" in roles or not roles) and v in data.columns and str(v) not in out:
            out.append(str(v))
    return sorted(out, key=list(map(str, data.columns)).index)


def _extras(data: pd.DataFrame, values: dict) -> tuple[dict, dict]:
    """Per-row arguments as arrays (column names looked up), and the names used."""
    arrays, columns = {}, {}
    n = len(data)
    for role, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            if value not in data.columns:
                raise ValueError(f"{role}: column {value!r} is not in the data (its columns: "
                                 f"{', '.join(map(str, data.columns))})")
            columns[role] = value
            arrays[role] = data[value]
            continue
        if isinstance(value, pd.Series) and not value.index.equals(data.index):
            raise ValueError(f"{role}: its pandas index differs from the data's, so rows would "
                             "be paired by position, not label; align it or pass a NumPy array")
        is_pandas = isinstance(value, (pd.Series, pd.DataFrame))
        arr = value.to_numpy() if is_pandas else np.asarray(value)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"{role} has shape {arr.shape} but the data have {n} rows")
        arrays[role] = pd.Series(arr, index=data.index)
    return arrays, columns


def _missing(data: pd.DataFrame, cols: list[str], extras: dict, missing: str):
    """The rows to keep (a boolean mask) after the missing-value policy, and how many dropped."""
    masks = {f"column {c!r}": data[c].isna().to_numpy() for c in cols}
    for role, s in extras.items():
        try:
            masks[role] = pd.isna(s).to_numpy()
        except TypeError:
            pass
    bad = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(len(data), bool)
    k = int(bad.sum())
    if not k:
        return None, 0
    where = ", ".join(f"{w}: {int(m.sum())}" for w, m in masks.items() if m.any())
    n = len(data)
    if missing == "raise":
        first = Rows(n, data.index).name(int(np.argmax(bad)))
        raise ValueError(f"{_rows_have(k, n)} missing values (in {where}), the first at "
                         f'{first}; pass missing="drop" to drop them')
    if k == n:
        raise ValueError(f'missing="drop" leaves no data: all {n} rows have missing values '
                         f"(in {where})")
    warn(f"dropped {k} of {n} rows with missing values (in {where})", MissingDataWarning)
    return ~bad, k


def _binomial_response(s: pd.Series, name: str, trials) -> tuple[pd.Series, tuple | None]:
    """0/1 from a two-level string/categorical/boolean column; numbers pass through."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return s.astype(np.float64), (False, True)
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return s, None
    if isinstance(dtype, pd.CategoricalDtype):
        levels = list(dtype.categories)
    else:
        values = list(pd.unique(s.dropna()))
        if values and all(isinstance(v, (bool, np.bool_)) for v in values):
            return s.astype(np.float64), (False, True)
        try:
            levels = sorted(values)
        except TypeError:
            raise TypeError(f"response {name!r} mixes values of different types "
                            f"({', '.join(map(repr, values[:4]))})") from None
    if len(levels) != 2:
        shown = ", ".join(map(repr, levels[:6])) + (", ..." if len(levels) > 6 else "")
        raise ValueError(
            f"response {name!r} has {_plural(len(levels), 'level')} ({shown}); a binomial "
            "response given as labels needs exactly two (the second, in sorted/categorical "
            "order, is the success)")
    if trials is not None:
        raise ValueError(f"response {name!r} holds labels ({levels[0]!r}/{levels[1]!r}); "
                         "trials= needs numbers of successes")
    y = (s == levels[1]).astype(np.float64)
    return y, (_jsonable(levels[0]), _jsonable(levels[1]))


def _response(f, data: pd.DataFrame, family, context, trials):
    lhs = str(f.lhs).strip()
    name = lhs
    if lhs in data.columns:
        s = data[lhs]
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataMismatchWarning)
                mm = model_matrix(f.lhs, data, context=context, na_action="ignore")
        except FormulaicError as exc:
            raise FormulaError(
                f"cannot evaluate the response {lhs!r}: {_first_line(exc)}") from None
        if mm.shape[1] == 2 and family.has_trials:
            return pd.DataFrame(np.asarray(mm, dtype=np.float64), index=data.index,
                                columns=[str(c) for c in mm.columns]), None
        if mm.shape[1] != 1:
            raise FormulaError(
                f"the response {lhs!r} gives {mm.shape[1]} columns {list(mm.columns)}; it must "
                "give one (or two, [successes, failures], for the binomial family)")
        s = pd.Series(np.asarray(mm)[:, 0], index=data.index)
    if family.has_trials:
        s, levels = _binomial_response(s, name, trials)
    elif getattr(family, "ordinal", False):
        levels = None  # the family encodes its categories (Cumulative.encode_response)
    else:
        levels = None
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) \
                or isinstance(s.dtype, pd.CategoricalDtype):
            raise TypeError(f"response {name!r} is not numeric (dtype {s.dtype}); the "
                            f"{family.name} family needs numbers")
    values = s.array if getattr(family, "ordinal", False) else s.to_numpy()  # categories kept
    return pd.Series(values, index=data.index, name=name), levels


def build(formula: str, data, family, *, offset=None, exposure=None, weights=None, trials=None,
          missing: str = "raise", context: Mapping | None = None) -> FormulaData:
    """Evaluate ``formula`` on ``data``: response, named design matrix and per-row arguments.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + C(g)"``: an intercept unless ``- 1`` / ``0 +``; formulaic's grammar
        (``np.log(x)``, ``I(x**2)``, ``a:b``, ``a*b``, ``C(g, Treatment('b'))``, ``.``).
    data : DataFrame or dict of columns
    family : Family
    offset, exposure, weights, trials : str or array-like, optional
        A column name of ``data`` or a per-row array.
    missing : {"raise", "drop"}
        Rows with a missing value in any column the model uses: an error saying how many rows
        and which columns, or dropped (with a ``MissingDataWarning`` giving the count).
    context : mapping, optional
        Names the formula may use besides the data's columns (functions, arrays).
    """
    if missing not in ("raise", "drop"):
        raise ValueError(f'missing must be one of "raise", "drop"; got {missing!r}')
    data = _as_frame(data, "data")
    if len(data) == 0:
        raise ValueError("data: empty data set (0 rows)")
    context = dict(context or {})
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x1 + x2', got "
                        f"{type(formula).__name__}")
    try:
        fixed, gterms = split_formula(formula)  # lme4's (x | g) terms, which formulaic lacks
    except FormulaSyntaxError as exc:
        raise FormulaError(str(exc)) from None
    f = _parse(fixed, data, context)
    arrays, columns = _extras(data, {"offset": offset, "exposure": exposure, "weights": weights,
                                     "trials": trials})
    lhs_vars, rhs_vars = _value_vars(f.lhs, data), _value_vars(f.rhs, data)
    lhs = str(f.lhs).strip()
    check_columns(data, _plain_terms(f.rhs, data), lhs if lhs in data.columns else None)
    group_vars = _group_vars(gterms, data, formula, context)
    aux_forms = {name: (rhs, _parse_rhs(rhs, f"{name}", data, context))
                 for name, rhs in getattr(family, "aux_formulas", dict)().items()}
    aux_vars = [v for _, af in aux_forms.values() for v in _value_vars(af, data)]
    used = list(dict.fromkeys(lhs_vars + rhs_vars + group_vars + aux_vars
                              + list(columns.values())))
    keep, n_dropped = _missing(data, used, {r: s for r, s in arrays.items() if r not in columns},
                               missing)
    positions = None
    if keep is not None:
        positions = np.flatnonzero(keep)
        data = data.loc[keep]
        arrays = {r: s.loc[keep] for r, s in arrays.items()}
    endog, levels = _response(f, data, family, context, arrays.get("trials"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataMismatchWarning)
            mm = model_matrix(f.rhs, data, context=context, na_action="ignore")
    except Exception as exc:  # noqa: BLE001 - user expressions raise anything (NumPy's too)
        raise FormulaError(f"cannot evaluate the formula {formula!r}: {_first_line(exc)}") from None
    drop = bool(getattr(family, "ordinal", False))
    model_spec = mm.model_spec
    mm = _without_intercept(mm) if drop else mm
    names = tuple(str(c) for c in mm.columns)
    try:
        X = np.asarray(mm, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"formula {formula!r}: the design matrix is not numeric ({exc})") from None
    exog = pd.DataFrame(X, index=data.index, columns=list(names))
    built = [_group_term(t, data, context) for t in gterms]
    aux, aux_terms = {}, []
    for name, (rhs, af) in aux_forms.items():
        frame, ms = _aux_matrix(af, data, context, name)
        aux[name] = frame
        aux_terms.append((name, rhs, tuple(frame.columns), ms))
    spec = FormulaSpec(
        formula=formula, rhs=str(f.rhs), names=names, response=str(f.lhs).strip(),
        response_levels=levels, columns=columns,
        variables={v: _describe_column(data[v]) for v in rhs_vars},
        model_spec=model_spec, context=context,
        stateful=bool(getattr(model_spec, "transform_state", None)),
        group_terms=tuple((t, ms) for t, (_, ms) in zip(gterms, built)),
        group_variables={v: _describe_column(data[v]) for v in _term_vars(gterms, data)},
        drop_intercept=drop, aux_terms=tuple(aux_terms),
        aux_variables={v: _describe_column(data[v]) for v in dict.fromkeys(aux_vars)},
    )
    extras = {r: s.to_numpy() for r, s in arrays.items()}
    groups = tuple(g for g, _ in built)
    kept = list(dict.fromkeys(rhs_vars + group_vars + aux_vars + list(columns.values())))
    return FormulaData(endog=endog, exog=exog, extras=extras, spec=spec, n_dropped=n_dropped,
                       positions=positions, groups=groups, aux=aux,
                       rows=data[[c for c in kept if c in data.columns]].copy())


def _without_intercept(mm):
    """A model matrix without its ``Intercept`` column (a plain DataFrame: read the formulaic
    ``model_spec`` before)."""
    if "Intercept" not in mm.columns:
        return mm
    return mm.drop(columns="Intercept")


def _term_vars(gterms, data: pd.DataFrame) -> list[str]:
    """The data columns the group terms' columns (not their groups) use."""
    out = []
    for t in gterms:
        part = Formula(t.predictors,
                       _context={"__formulaic_variables_available__": list(data.columns)})
        out += [v for v in _value_vars(part, data) if v not in out]
    return out


def _group_vars(gterms, data: pd.DataFrame, formula: str, context) -> list[str]:
    """The data columns the group-level terms use (their predictors and grouping factors)."""
    out = []
    for t in gterms:
        for g in t.group.split(":"):
            if g not in data.columns:
                raise FormulaError(
                    f"formula {formula!r}: the grouping factor {g!r} of {t.source} is not a "
                    f"column of the data (its columns: {', '.join(map(str, data.columns))})")
            out.append(g)
        try:
            part = Formula(t.predictors,
                           _context={"__formulaic_variables_available__": list(data.columns)})
        except Exception as exc:  # noqa: BLE001 - the parser raises plain errors on some input
            raise FormulaError(f"formula {formula!r}: cannot parse the group-level term "
                               f"{t.source}: {_first_line(exc)}") from None
        for v in part.required_variables:
            roles = {getattr(r, "value", r) for r in getattr(v, "roles", ())}
            if "value" in roles and v not in data.columns and v not in context:
                raise FormulaError(f"formula {formula!r}: column {str(v)!r} of the group-level "
                                   f"term {t.source} is not in the data (its columns: "
                                   f"{', '.join(map(str, data.columns))})")
        out += _value_vars(part, data)
    return out


def _group_labels(col: pd.Series) -> list[str]:
    """A grouping column's values as level labels (:func:`bayesglm.group_design.factorize`'s)."""
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    values = col.to_numpy() if numeric else col.astype(str).to_numpy()
    return [level_label(v) for v in values]


def _group_term(t, data: pd.DataFrame, context):
    """One group-level term of the kept rows: its columns (formulaic) and level index, and the
    columns' formulaic spec (for new data)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataMismatchWarning)
            mm = model_matrix(t.predictors, data, context=context, na_action="ignore")
    except Exception as exc:  # noqa: BLE001 - user expressions raise anything
        raise FormulaError(f"cannot evaluate the group-level term {t.source}: "
                           f"{_first_line(exc)}") from None
    Z = np.ascontiguousarray(np.asarray(mm, dtype=np.float64))
    cols = []
    for g in t.group.split(":"):
        col = data[g]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        cols.append(col.to_numpy() if numeric else col.astype(str).to_numpy())
    index, levels = factorize(cols)
    factor = GroupFactor(t.group, tuple(str(c) for c in mm.columns), levels, t.correlated)
    return (factor, GroupRows(Z, index)), mm.model_spec


def from_formula(cls, formula, data, family=None, *, link=None, offset=None, exposure=None,
                 weights=None, trials=None, priors="auto", missing="raise", context=None):
    """Build a model of class ``cls`` (a GLM) from a formula; see ``GLM.from_formula``."""
    from .families import get_family

    fam = get_family(family, link)
    fd = build(formula, data, fam, offset=offset, exposure=exposure, weights=weights,
               trials=trials, missing=missing, context=_trim_context(context, formula))
    # the array interface's checks, worded for the formula: "response 'y'", not "endog"
    words = dict(response=f"response {fd.spec.response!r}", exog="the design matrix",
                 two_columns="a two-column response 'successes + failures ~ ...'",
                 positions=fd.positions, nan_hint="", dropped_before=fd.n_dropped)
    with naming(**words):
        aux = {"aux": fd.aux} if fd.aux else {}
        return cls(fd.endog, fd.exog, fam, priors=priors, names=fd.spec.names,
                   missing="raise", formula_spec=fd.spec, groups=fd.groups, data=fd.rows,
                   **aux, **fd.extras)

