"""Checks of a formula and its columns before formulaic evaluates them (no formulaic here).

Two kinds of trap that formulaic would otherwise turn silently into another model, or into a raw
NumPy error:

* R idioms with another meaning (or none) in formulaic: a response ``a/b`` (formulaic reads it
  as ``a + a:b``, two columns taken as [successes, failures]), ``cbind(a, b)``, ``offset(...)``
  and ``factor(g)``. :func:`r_idiom` recognises them and says what to write instead.
* Columns whose type makes no sense as a plain term: a numeric column with a few strings (it
  would become a factor with one level per number), or dates and durations.
  :func:`check_columns` names the column, the first bad value and its row.

The advice is worded for Python calls (``trials='n'``); the command line rewords it from
:class:`Idiom`'s fields.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from .design import Rows

__all__ = ["FormulaError", "Idiom", "r_idiom", "check_columns"]


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated on the data.

    ``idiom`` is the :class:`Idiom` behind the error when it is an R idiom, else None.
    """

    def __init__(self, message: str, *, idiom: Idiom | None = None):
        super().__init__(message)
        self.idiom = idiom


class Idiom(NamedTuple):
    """An R formula idiom and what to write instead.

    Attributes
    ----------
    kind : str
        ``"ratio"`` (a response ``a/b``), ``"cbind"``, ``"offset"`` or ``"factor"``.
    formula : str or None
        The formula to write instead (None when it cannot be worked out).
    args : dict
        Per-row arguments to pass with it, ``{"trials": "n"}``, ``{"exposure": "n"}`` (column
        names).
    expression : str or None
        An offset that is not a column (``offset(x / 2)``): it has to become a column (or an
        array) passed as ``offset=``; for a ratio, the response ``a/b`` (``I(a/b)`` divides).
    """

    kind: str
    formula: str | None
    args: dict
    expression: str | None = None


# -- R idioms ------------------------------------------------------------------------------
def _parse_expr(text: str):
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None


def _name(node) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _outside_calls(node):
    """``node`` and its descendants, not entering function calls (``I(a/b)`` is a ratio)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.Call, ast.Set)):  # ``{a/b}`` is formulaic's I()
            yield from _outside_calls(child)


def _calls(text: str, name: str):
    """``(start, end)`` of each call ``name(...)`` in ``text`` (parentheses matched)."""
    for m in re.finditer(r"(?<![\w.])" + re.escape(name) + r"\s*\(", text):
        depth = 0
        for j in range(m.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                yield m.start(), j + 1
                break


def _remove_term(rhs: str, start: int, end: int) -> str:
    """``rhs`` without the term at ``rhs[start:end]`` (and the ``+`` joining it)."""
    before, after = rhs[:start].rstrip(), rhs[end:].lstrip()
    if before.endswith("+"):
        out = before[:-1].rstrip() + (" " + after if after else "")
    elif after.startswith("+"):
        out = before + (" " if before else "") + after[1:].lstrip()
    else:  # the only term
        out = before + "1" + after
    return " ".join(out.split())


def _ratio(formula: str, lhs: str, rhs: str) -> FormulaError | None:
    node = _parse_expr(lhs)
    if node is None or isinstance(node, ast.Call):
        return None
    div = next((n for n in _outside_calls(node)
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)), None)
    if div is None:
        return None
    a, b = _name(div.left), _name(div.right)
    text = (f"formula {formula!r}: the response {lhs.strip()!r} is not a ratio; formulas read "
            "a/b as a + a:b (b nested in a), so it would become two columns taken as "
            "[successes, failures]. ")
    if a and b and div is node:
        suggestion = f"{a} ~ {rhs.strip()}"
        idiom = Idiom("ratio", suggestion, {"trials": b}, expression=lhs.strip())
        text += (f"For {a} successes out of {b} trials (binomial) write {suggestion!r} with "
                 f"trials={b!r}; to divide, write I({lhs.strip()}).")
    else:
        idiom = Idiom("ratio", None, {}, expression=lhs.strip())
        text += ("For successes out of a number of trials (binomial) pass the trials column "
                 f"as trials=; to divide, write I({lhs.strip()}).")
    return FormulaError(text, idiom=idiom)


def _cbind(formula: str, lhs: str, rhs: str) -> FormulaError | None:
    node = _parse_expr(lhs)
    if not (isinstance(node, ast.Call) and _name(node.func) == "cbind"):
        return None
    parts = [ast.get_source_segment(lhs.strip(), a) or "?" for a in node.args]
    text = f"formula {formula!r}: cbind() is R's; "
    if len(parts) == 2:
        suggestion = f"{parts[0]} + {parts[1]} ~ {rhs.strip()}"
        text += (f"write the binomial response [successes, failures] as {suggestion!r}, or "
                 f"'{parts[0]} ~ {rhs.strip()}' with trials= (the number of trials of each row)")
        return FormulaError(text, idiom=Idiom("cbind", suggestion, {}))
    text += ("write a binomial response [successes, failures] as 'successes + failures ~ ...', "
             "or 'successes ~ ...' with trials= (the number of trials of each row)")
    return FormulaError(text, idiom=Idiom("cbind", None, {}))


def _offset(formula: str, lhs: str, rhs: str, columns) -> FormulaError | None:
    for start, end in _calls(rhs, "offset"):
        node = _parse_expr(rhs[start:end])
        if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
            continue
        term = rhs[start:end].strip()
        rest = f"{lhs.strip()} ~ {_remove_term(rhs, start, end)}"
        arg = node.args[0]
        inner = ast.get_source_segment(term, arg) or "?"
        col = _name(arg)
        log_of = None
        if isinstance(arg, ast.Call) and len(arg.args) == 1 and not arg.keywords:
            fn = ast.get_source_segment(term, arg.func)
            if fn in ("log", "np.log", "numpy.log"):
                log_of = _name(arg.args[0])
        text = f"formula {formula!r}: offset() is R's; "
        if log_of is not None and log_of in columns:
            idiom = Idiom("offset", rest, {"exposure": log_of})
            text += (f"write {rest!r} with exposure={log_of!r} (log({log_of}) is then added to "
                     "the linear predictor; log link), or pass offset= an array holding "
                     f"{inner}")
        elif col is not None and col in columns:
            idiom = Idiom("offset", rest, {"offset": col})
            text += f"write {rest!r} with offset={col!r}"
        else:
            idiom = Idiom("offset", rest, {}, expression=inner)
            text += f"write {rest!r} with offset= an array (or a column) holding {inner}"
        return FormulaError(text, idiom=idiom)
    return None


_FACTOR = re.compile(r"\b(?:as\.)?factor\(")


def _factor(formula: str, rhs: str) -> FormulaError | None:
    if not _FACTOR.search(rhs):  # on the text: formulaic cannot even parse as.factor()
        return None
    suggestion = _FACTOR.sub("C(", formula)
    return FormulaError(f"formula {formula!r}: factor() is R's; write {suggestion!r} (C() makes "
                        "a factor)", idiom=Idiom("factor", suggestion, {}))


def r_idiom(formula: str, columns) -> FormulaError | None:
    """The error for an R idiom in ``formula`` (a response ``a/b``, ``cbind``, ``offset``,
    ``factor``).

    Parameters
    ----------
    formula : str
        The formula as written (``"ncases/n ~ x"``).
    columns : collection of str
        The data's column names.

    Returns
    -------
    FormulaError or None
        The error to raise (its ``idiom`` says what to write instead), or None.
    """
    lhs, _, rhs = formula.partition("~")
    return (_ratio(formula, lhs, rhs) or _cbind(formula, lhs, rhs)
            or _offset(formula, lhs, rhs, set(map(str, columns))) or _factor(formula, rhs))


# -- column types --------------------------------------------------------------------------
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


def _non_numbers(s: pd.Series) -> tuple[list, int, int] | None:
    """``(non-numeric distinct values, number of numeric distinct values, of all)`` for an
    object/string column, or None for other columns."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return None
    values = pd.unique(s.dropna())
    if not len(values):
        return None
    values = pd.Series(values, dtype=object)
    is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
    as_number = pd.to_numeric(values.where(~is_bool, None).map(
        lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    numeric = as_number.notna().to_numpy() & ~is_bool
    return list(values[~numeric]), int(numeric.sum()), len(values)


def _mostly_numeric_error(col: str, s: pd.Series, rows: Rows, what: str) -> FormulaError | None:
    found = _non_numbers(s)
    if found is None:
        return None
    bad, k_numeric, k = found
    # mostly numbers: more of the distinct values are numbers than not, and some are not
    if not bad or 2 * k_numeric <= k:
        return None
    mask = s.isin(bad).to_numpy()
    i = int(np.argmax(mask))
    first = s.iloc[i]
    others = len(bad) - 1
    more = f" and {others} other non-numeric value{'s' if others > 1 else ''}" if others else ""
    hint = (" (a decimal comma: read the data with decimal=',', or write it with a point)"
            if isinstance(first, str) and _DECIMAL_COMMA.match(first) else "")
    return FormulaError(
        f"{what} {col!r} holds numbers except for {first!r}{hint} at {rows.name(i)}{more}; "
        f"as it is, it would become a factor with {k} levels. Correct or remove that value "
        f"(e.g. make it missing and pass missing=\"drop\"), or write C({col}) to make the "
        "column a factor on purpose")


def _time_error(col: str, s: pd.Series, what: str) -> FormulaError | None:
    dtype = s.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return FormulaError(
            f"{what} {col!r} holds dates ({dtype}), which a GLM cannot use as they are; "
            f"convert it to a number first, e.g. days since the first date, "
            f"(df[{col!r}] - df[{col!r}].min()).dt.days, or the year, df[{col!r}].dt.year "
            f"(or write C({col}) for one level per date)")
    if pd.api.types.is_timedelta64_dtype(dtype):
        return FormulaError(
            f"{what} {col!r} holds durations ({dtype}); convert it to a number first, e.g. "
            f"days, df[{col!r}].dt.days, or seconds, df[{col!r}].dt.total_seconds()")
    return None


def check_columns(data: pd.DataFrame, terms, response: str | None) -> None:
    """Raise a :class:`FormulaError` for a column that cannot be a plain term as it is.

    Parameters
    ----------
    data : DataFrame
        The user's data (before rows with missing values are dropped, so that rows are named
        by their place in it).
    terms : iterable of str
        Columns used as plain terms on the right-hand side (``x``, ``x:z``; not ``C(x)``).
    response : str or None
        The response when it is a plain column.
    """
    rows = Rows(len(data), data.index)
    named = [(c, "column") for c in dict.fromkeys(terms)]
    if response is not None:
        named.append((response, "response"))
    for col, what in named:
        s = data[col]
        if isinstance(s, pd.DataFrame):  # duplicated column names: formulaic's problem
            continue
        err = _time_error(col, s, what) or _mostly_numeric_error(col, s, rows, what)
        if err is not None:
            raise err
