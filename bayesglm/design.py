"""Validation of a GLM's data: response, design matrix, offset, exposure, weights and trials.

Plain NumPy/pandas, run before any JAX tracing, so that bad input is reported in the user's terms:
every error names the argument (``endog``, ``exog``, ``offset``, ``exposure``, ``weights``,
``trials``), the column where there is one, and the first offending row and value. A row is named
by its pandas index label and its 1-based place in the data (``row label 6 (the 7th row)``), or,
for NumPy input, by its 0-based position and place (``row 6 (the 7th row)``). The formula front end
renames the response and design matrix in messages (``response 'y'``) with :func:`naming`.
Inputs are copied; the outputs are float64 and C-contiguous.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._warnings import DomainWarning, MissingDataWarning, warn

__all__ = ["Design", "make_design", "make_exog", "check_vector", "naming"]

_MISSING = ("raise", "drop")
_INT_TOL = 1e-8  # how far proportion * trials may lie from a whole number
_DUMMY_HINT = (
    "; GLM data must be numeric: use the formula interface or encode it with dummy variables "
    "(e.g. pandas.get_dummies)"
)
_DROP_HINT = '; pass missing="drop" to drop rows with missing values'
#: rows per block of the checks of a large design (their boolean temporaries stay small)
_CHECK_ROWS = 1 << 16


@dataclass(frozen=True, eq=False)
class Design:
    """Validated data of a GLM, ready for fitting (all arrays float64, C-contiguous).

    Attributes
    ----------
    y : numpy.ndarray
        (n,) response; for the binomial family the *proportion* of successes, in [0, 1].
    X : numpy.ndarray
        (n, p) design matrix.
    names : tuple of str
        The p coefficient names.
    endog_name : str
        Name of the response.
    offset, exposure, weights, trials : numpy.ndarray or None
        (n,) offset, exposure (> 0), frequency weights (>= 0) and binomial index (positive
        integers; set for a binomial response given with ``trials=`` or as two columns).
    n_dropped : int
        Rows dropped by ``missing="drop"``.
    row_index : pandas.Index or None
        Labels of the kept rows when the data came from pandas.
    """

    y: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    endog_name: str
    offset: np.ndarray | None = None
    exposure: np.ndarray | None = None
    weights: np.ndarray | None = None
    trials: np.ndarray | None = None
    n_dropped: int = 0
    row_index: pd.Index | None = None
    #: the family's extra design matrices (a zero-inflation model's), name -> (n, q) array,
    #: and their column names; None where the family has none
    aux: dict | None = None
    aux_names: dict | None = None

    def __post_init__(self):
        # the design owns its arrays (copies of the input) and they do not change
        for name in ("y", "X", "offset", "exposure", "weights", "trials"):
            a = getattr(self, name)
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
        for a in (self.aux or {}).values():
            a.flags.writeable = False

    @property
    def nobs(self) -> int:
        """Number of rows."""
        return int(self.y.shape[0])

    @property
    def n_coef(self) -> int:
        """Number of coefficients (columns of ``X``)."""
        return int(self.X.shape[1])

    @property
    def total_offset(self) -> np.ndarray | None:
        """``offset + log(exposure)`` (either alone where only one is given; None if neither)."""
        if self.exposure is None:
            return self.offset
        log_exposure = np.log(self.exposure)
        return log_exposure if self.offset is None else self.offset + log_exposure

    @property
    def sum_weights(self) -> float:
        """Sum of the frequency weights, or the number of rows when there are none."""
        return float(self.nobs if self.weights is None else self.weights.sum())

    @functools.cached_property
    def const_index(self) -> int | None:
        """Index of the first constant non-zero column of ``X`` (an intercept), else None
        (found once: a pass over X)."""
        return _const_col(self.X)


def _const_col(X) -> int | None:
    """The first column equal to its non-zero first value in every row, or None; checked by
    row blocks, over the columns still in the running (no n x p temporary)."""
    if X.shape[0] == 0:
        return None
    cand = np.flatnonzero(X[0] != 0)
    for i in range(0, X.shape[0], _CHECK_ROWS):
        if not cand.size:
            return None
        cand = cand[np.all(X[i : i + _CHECK_ROWS, cand] == X[0, cand], axis=0)]
    return int(cand[0]) if cand.size else None


# -- messages ------------------------------------------------------------------------------
class Naming(NamedTuple):
    """How :func:`make_design` names its inputs in messages (see :func:`naming`)."""

    response: str = "endog"
    exog: str = "exog"
    two_columns: str = "a 2-column endog [successes, failures]"
    positions: np.ndarray | None = None
    nan_hint: str | None = None
    dropped_before: int = 0


_NAMING: contextvars.ContextVar[Naming] = contextvars.ContextVar("bayesglm_naming",
                                                                 default=Naming())


def response_word() -> str:
    """What messages call the response in the current context ("endog", "response 'y'")."""
    return _NAMING.get().response


@contextlib.contextmanager
def naming(**names):
    """Within the block, :func:`make_design` words its messages for another interface.

    Parameters
    ----------
    response, exog : str
        What the response and the design matrix are called (default ``"endog"``, ``"exog"``;
        the formula interface says ``"response 'y'"`` and ``"the design matrix"``).
    two_columns : str
        How a two-column binomial response is written (for hints).
    positions : array of int, optional
        The 0-based places of the given rows in the user's data (the formula interface drops
        rows with missing values before the arrays get here), so that "the 7th row" counts the
        user's rows.
    nan_hint : str, optional
        Replaces the ``missing="drop"`` hint of a missing value.
    dropped_before : int
        Rows with missing values the interface dropped before (counted in ``n_dropped``).
    """
    token = _NAMING.set(_NAMING.get()._replace(**names))
    try:
        yield
    finally:
        _NAMING.reset(token)


def _fmt(value) -> str:
    return f"{float(value):.10g}"


def _fmt_row(label) -> str:
    if isinstance(label, (numbers.Integral, np.integer)) and not isinstance(label, bool):
        return str(int(label))
    if isinstance(label, tuple):  # a MultiIndex label
        return "(" + ", ".join(_fmt_row(part) for part in label) + ")"
    return repr(str(label)) if isinstance(label, str) else str(label)


def ordinal(k: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ..., ``11th``, ``21st``."""
    k = int(k)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


class Rows:
    """How messages name the rows of the data: ``row label 6 (the 7th row)``.

    ``index`` is the pandas index of the data (None for NumPy input, whose rows are named by
    their 0-based position: ``row 6 (the 7th row)``); ``positions`` the rows' 0-based places in
    the user's data (they differ from 0..n-1 once rows were dropped).
    """

    __slots__ = ("index", "positions")

    def __init__(self, n: int, index=None, positions=None):
        self.index = index
        self.positions = np.arange(n) if positions is None else np.asarray(positions)

    def name(self, i: int) -> str:
        """The words for row ``i`` (0-based among the rows held)."""
        pos = int(self.positions[i])
        place = f"the {ordinal(pos + 1)} row"
        if self.index is None:
            return f"row {pos} ({place})"
        return f"row label {_fmt_row(self.index[i])} ({place})"

    def subset(self, keep) -> Rows:
        """The rows where the boolean mask ``keep`` holds."""
        positions = self.positions[keep]
        return Rows(len(positions), None if self.index is None else self.index[keep], positions)


def _msg(what, col, rows: Rows, i: int, text) -> str:
    """``"exog: column 'x2' has TEXT at row 17 (the 18th row)"`` or ``"endog: row 17 (...) has
    TEXT"``."""
    if col is None:
        return f"{what}: {rows.name(i)} has {text}"
    return f"{what}: column {col!r} has {text} at {rows.name(i)}"


def _first(mask) -> int | None:
    """Position of the first True of ``mask``, or None."""
    return int(np.argmax(mask)) if mask.any() else None


def _describe(domain) -> str:
    lo = "(" if domain.lower_open or domain.lower == -math.inf else "["
    hi = ")" if domain.upper_open or domain.upper == math.inf else "]"
    return f"{lo}{domain.lower:g}, {domain.upper:g}{hi}"


# -- conversion ----------------------------------------------------------------------------
def _table(value, what):
    """``(columns, pandas index or None, nrows)``, columns a list of ``(name or None, values)``."""
    if isinstance(value, pd.DataFrame):
        cols = [(str(c), value.iloc[:, j]) for j, c in enumerate(value.columns)]
        return cols, value.index, len(value)
    if isinstance(value, pd.Series):
        return [(None if value.name is None else str(value.name), value)], value.index, len(value)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what}: cannot be read as an array ({exc})") from None
    if arr.ndim == 1:
        return [(None, arr)], None, arr.shape[0]
    if arr.ndim == 2:
        return [(None, arr[:, j]) for j in range(arr.shape[1])], None, arr.shape[0]
    shape = "a scalar" if arr.ndim == 0 else f"a {arr.ndim}-D array of shape {arr.shape}"
    raise ValueError(f"{what}: must be a 1-D or 2-D array-like, got {shape}")


def _vector(value, what):
    """``(values, index, nrows)`` of a 1-D argument (a one-column 2-D input is accepted)."""
    cols, index, n = _table(value, what)
    if len(cols) != 1:
        raise ValueError(f"{what}: must be 1-D, got {len(cols)} columns")
    return cols[0][1], index, n


def _numeric(values, what, col, rows: Rows) -> np.ndarray:
    """A fresh float64 copy of one column; missing values (None, NaN, pd.NA) become NaN."""
    where = f"{what}: column {col!r}" if col is not None else f"{what}:"
    dtype = values.dtype
    if isinstance(values, pd.Series) and not isinstance(dtype, np.dtype):  # extension dtypes
        ok = pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
        if isinstance(dtype, pd.CategoricalDtype) or not ok:
            raise TypeError(f"{where} has non-numeric dtype {dtype}{_DUMMY_HINT}")
        return values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    arr = values.to_numpy() if isinstance(values, pd.Series) else values
    kind = arr.dtype.kind
    if kind in "biuf":
        return np.array(arr, dtype=np.float64)
    if kind == "c":
        raise TypeError(f"{where} has complex dtype {arr.dtype}; GLM data must be real numbers")
    if kind != "O":
        raise TypeError(f"{where} has non-numeric dtype {arr.dtype}{_DUMMY_HINT}")
    out = np.empty(arr.shape[0])
    for i, v in enumerate(arr):
        if v is None or v is pd.NA:
            out[i] = np.nan
        elif isinstance(v, (numbers.Real, np.bool_)):
            out[i] = float(v)
        else:
            kind = "complex" if isinstance(v, numbers.Complex) else "non-numeric"
            raise TypeError(
                f"{where} has dtype object with a {kind} value ({v!r}) at "
                f"{rows.name(i)}{_DUMMY_HINT}"
            )
    return out


def _all_finite(X: np.ndarray) -> bool:
    return all(np.isfinite(X[i : i + _CHECK_ROWS]).all() for i in range(0, X.shape[0],
                                                                         _CHECK_ROWS))


def _fast_matrix(exog, copy: bool = True, checked: bool = False) -> np.ndarray | None:
    """The whole exog as one float64 C-contiguous matrix when it is plainly numeric and finite.

    Large designs skip the column-by-column path: one copy of an array (the design owns its
    arrays: editing the user's exog afterwards does not change the model; a DataFrame's values
    are copied out of it first), or none where ``copy`` is false and
    exog is already float64, C-ordered and aligned (:func:`aligned`; a read-only view is kept),
    and one vectorised finiteness check by row blocks (none where ``checked``: the same values
    passed it before). Anything else (NaN, inf, objects, extension dtypes) returns None and
    takes the exact, slower path.
    """
    if isinstance(exog, pd.DataFrame):
        if not all(isinstance(t, np.dtype) and t.kind in "biuf" for t in exog.dtypes):
            return None
        X = exog.to_numpy(dtype=np.float64)
    elif isinstance(exog, np.ndarray) and exog.ndim == 2 and exog.dtype.kind in "biuf":
        X = exog
    else:
        return None
    if not X.shape[1]:
        return None
    if not copy and is_aligned(X):  # used in place (X may be the user's data): check it
        # the design marks its arrays read-only: a view, not the user's array itself
        return X.view() if checked or _all_finite(X) else None
    out = aligned(np.empty(0), shape=X.shape)
    for i in range(0, X.shape[0], _CHECK_ROWS):  # copy and check each block while in cache
        block = out[i : i + _CHECK_ROWS]
        np.copyto(block, X[i : i + _CHECK_ROWS], casting="unsafe")
        if not checked and not np.isfinite(block).all():
            return None
    return out


def is_aligned(a: np.ndarray, align: int = 64) -> bool:
    """Whether ``a`` is float64, C-contiguous and starts on an ``align``-byte boundary (what
    :func:`aligned` returns as is)."""
    return a.dtype == np.float64 and a.flags.c_contiguous and a.ctypes.data % align == 0


def aligned(a, align: int = 64, *, copy: bool = False, shape=None) -> np.ndarray:
    """``a`` as a C-contiguous float64 array whose data start on a 64-byte boundary.

    JAX on CPU then uses the array in place (``jax.device_put`` without a copy): at n = 1e6,
    p = 20 the copy it makes of an unaligned array costs more than a whole IRLS iteration.
    Returns ``a`` itself when it already qualifies (it is never modified), unless ``copy``;
    with ``shape``, a new uninitialised array of that shape (``a`` is ignored).
    """
    if shape is not None:  # a new, uninitialised array of that shape
        count = int(np.prod(shape))
        buf = np.empty(count * 8 + align, dtype=np.uint8)
        offset = (-buf.ctypes.data) % align
        return buf[offset : offset + count * 8].view(np.float64).reshape(shape)
    a = np.asarray(a)
    if not copy and is_aligned(a, align):
        return a
    out = aligned(a, align, shape=a.shape)
    np.copyto(out, a, casting="unsafe")
    return out


def _check_finite(arr, what, col, rows: Rows, *, allow_nan=False, nan_hint=""):
    bad = ~np.isfinite(arr)
    if allow_nan:
        bad &= ~np.isnan(arr)
    if (i := _first(bad)) is not None:
        hint = nan_hint if np.isnan(arr[i]) else ""
        raise ValueError(_msg(what, col, rows, i, f"a non-finite value ({_fmt(arr[i])})") + hint)


def _check_values(arr, what, rows: Rows, *, col=None, positive=False, nonnegative=False,
                  integer=False, subject=None):
    """Raise at the first row breaking positivity / non-negativity / integrality."""
    checks = []
    if positive:
        checks.append((~(arr > 0), "a non-positive value"))
    if nonnegative:
        checks.append((arr < 0, "a negative value"))
    if integer:
        checks.append((arr != np.round(arr), "a non-integer value"))
    bad = np.logical_or.reduce([mask for mask, _ in checks])
    if (i := _first(bad)) is not None:
        text = next(t for mask, t in checks if mask[i])
        adjective = "positive " if positive else "non-negative " if nonnegative else ""
        rule = f"{subject or what} must be {adjective}{'integers' if integer else 'numbers'}"
        raise ValueError(_msg(what, col, rows, i, f"{text} ({_fmt(arr[i])})") + f"; {rule}")


def check_vector(value, n, what, *, positive=False, nonnegative=False, integer=False,
                 against="exog"):
    """Validate a per-row vector such as an offset, exposure, weights or trials.

    Parameters
    ----------
    value : array-like or None
        1-D array, list or Series (or one column); None is returned unchanged.
    n : int
        Required length.
    what : str
        Argument name used in messages (``"offset"``, ``"exposure"``, ...).
    positive, nonnegative, integer : bool
        Require values > 0, >= 0, whole numbers.
    against : str
        Name of the argument that fixes ``n`` (for the length-mismatch message).

    Returns
    -------
    numpy.ndarray or None
        (n,) float64 copy.

    Raises
    ------
    ValueError, TypeError
        Wrong shape or length; a non-finite (NaN included), non-numeric or rule-breaking value.
    """
    if value is None:
        return None
    raw, index, m = _vector(value, what)
    if m != n:
        raise ValueError(f"{what} has {m} rows but {against} has {n}")
    rows = Rows(n, index)
    arr = _numeric(raw, what, None, rows)
    _check_finite(arr, what, None, rows)
    _check_values(arr, what, rows, positive=positive, nonnegative=nonnegative, integer=integer)
    return arr


def make_exog(exog, names, *, what="exog") -> np.ndarray:
    """Validate a new design matrix (e.g. for prediction) against the fitted coefficient names.

    Parameters
    ----------
    exog : array-like
        (m, p) array, list, or DataFrame. A DataFrame's columns are selected by name (so their
        order and any extra columns do not matter); a Series with p > 1 is one row (such as
        ``df.iloc[0]``); a 1-D array is one column when p == 1, else one row of length p.
    names : sequence of str
        The p coefficient names of the fitted model.
    what : str
        Argument name used in messages.

    Returns
    -------
    numpy.ndarray
        (m, p) float64 C-contiguous copy.

    Raises
    ------
    ValueError, TypeError
        A named column is missing, a wrong number of columns, a non-finite or non-numeric value.
    """
    names = tuple(names)
    p = len(names)
    if isinstance(exog, pd.Series) and p > 1:
        exog = exog.to_frame().T
    if isinstance(exog, pd.DataFrame):
        lookup = {str(c): j for j, c in reversed(list(enumerate(exog.columns)))}  # first wins
        if absent := [nm for nm in names if nm not in lookup]:
            raise ValueError(f"{what}: column {absent[0]!r} is missing; "
                             f"the model's columns are {list(names)}")
        cols, index, m = [(nm, exog.iloc[:, lookup[nm]]) for nm in names], exog.index, len(exog)
    else:
        cols, index, m = _table(exog, what)
        if np.ndim(exog) == 1 and p > 1 and m == p and index is None:
            cols, m = [(None, cols[0][1][j : j + 1]) for j in range(p)], 1  # one row
        if len(cols) != p:
            raise ValueError(f"{what}: has {len(cols)} columns but the model has {p} {names}")
        cols = [(nm, v) for nm, (_, v) in zip(names, cols)]
    rows = Rows(m, index)
    arrays = [_numeric(v, what, nm, rows) for nm, v in cols]
    for nm, arr in zip(names, arrays):
        _check_finite(arr, what, nm, rows, nan_hint="; remove rows with missing values first")
    return np.ascontiguousarray(np.column_stack(arrays)) if p else np.empty((m, 0))


# -- make_design ---------------------------------------------------------------------------
def _resolve_family(family):
    if family is None or isinstance(family, (str, type)):
        from .families import get_family  # lazily: families imports JAX

        return get_family(family)
    return family


def _coef_names(names, xcols):
    """``(names, generated)``: user names, else column names, else ``x0, x1, ...``."""
    p = len(xcols)
    if names is None:
        given = [c for c, _ in xcols]
        if any(c is None for c in given):
            return tuple(f"x{j}" for j in range(p)), True
        names, what, hint = tuple(given), "exog: column names", "; pass names="
    else:
        names = (names,) if isinstance(names, str) else tuple(names)
        what, hint = "names", ""
        if len(names) != p:
            raise ValueError(f"names: has {len(names)} entries but exog has {p} columns")
        bad = [nm for nm in names if not isinstance(nm, str)]
        if bad:
            raise ValueError(f"names: must be strings, got {bad[0]!r}")
    dup = sorted({nm for nm in names if names.count(nm) > 1})
    if dup:
        raise ValueError(f"{what} are not unique ({dup[0]!r} appears more than once){hint}")
    return names, False


def _common_index(parts):
    """The first pandas index among ``(what, index)`` pairs; all others must equal it."""
    ref = ref_what = None
    for what, idx in parts:
        if idx is None:
            continue
        if ref is None:
            ref, ref_what = idx, what
        elif not idx.equals(ref):
            raise ValueError(
                f"{what}: its pandas index differs from that of {ref_what}, so rows would be "
                "paired by position, not label; align them first or pass NumPy arrays"
            )
    return ref


def _check_domain(y, family, rows: Rows, note="", what="endog"):
    if (i := _first(~family.domain.contains(y))) is not None:
        text = f"value {_fmt(y[i])} outside the {family.name} family's domain "
        raise ValueError(_msg(what, None, rows, i, text + _describe(family.domain)) + note)


def _binomial(ycols, trials, rows: Rows, family, nm: Naming):
    """``(proportion, trials or None)`` from the three binomial forms of the response."""
    what = nm.response
    if len(ycols) == 2:  # [successes, failures]
        for col, arr in ycols:
            _check_values(arr, what, rows, col=col, nonnegative=True, integer=True,
                          subject="successes and failures")
        (_, s), (_, f) = ycols
        t = s + f
        if (i := _first(t == 0)) is not None:
            raise ValueError(_msg(what, None, rows, i, "0 trials (successes + failures = 0)"))
        return s / t, t
    y = ycols[0][1]
    if trials is None:
        _check_domain(y, family, rows, f"; for counts of successes pass trials= or "
                      f"{nm.two_columns}", what)
        if (i := _first((y != 0) & (y != 1))) is not None:
            raise ValueError(
                _msg(what, None, rows, i, f"value {_fmt(y[i])}, neither 0 nor 1")
                + "; for proportions of successes pass trials= (the number of trials of each "
                f"row), or pass {nm.two_columns}"
            )
        return y, None
    _check_values(trials, "trials", rows, positive=True, integer=True)
    if np.all(y == np.round(y)):  # counts of successes
        _check_values(y, what, rows, nonnegative=True, subject="successes")
        if (i := _first(y > trials)) is not None:
            text = f"successes > trials ({_fmt(y[i])} > {_fmt(trials[i])})"
            raise ValueError(_msg(what, None, rows, i, text))
        return y / trials, trials
    _check_domain(y, family, rows, "; with trials=, non-integer values of the response are "
                  "proportions", what)
    k = y * trials
    if (i := _first(np.abs(k - np.round(k)) > _INT_TOL)) is not None:
        text = (f"proportion {_fmt(y[i])} with trials {_fmt(trials[i])}, whose product "
                f"{_fmt(k[i])} is not a whole number of successes")
        raise ValueError(_msg(what, None, rows, i, text))
    return np.round(k) / trials, trials


def make_design(endog, exog, family, *, offset=None, exposure=None, weights=None, trials=None,
                names=None, missing="raise", aux=None, copy: bool = True,
                exog_checked: bool = False) -> Design:
    """Validate a GLM's data and assemble a :class:`Design`.

    Parameters
    ----------
    endog : array-like
        1-D response (array, list, Series, one-column DataFrame). Binomial: 0/1 or booleans,
        successes or proportions with ``trials=``, or two columns [successes, failures].
    exog : array-like
        2-D array, list of rows or DataFrame (1-D: one column; booleans become 0/1). No
        intercept is added.
    family : bayesglm.families.Family or str
        Its ``domain`` and ``link`` are checked against the data.
    offset, exposure, weights, trials : array-like, optional
        Per-row offset, exposure (> 0, log link only), frequency weights (>= 0) and binomial
        trials (positive integers).
    names : sequence of str, optional
        Coefficient names. Default: DataFrame columns, Series name, else ``x0, x1, ...`` with a
        constant non-zero column named ``const``.
    missing : {"raise", "drop"}
        Rows with missing values (NaN, None, pd.NA) in any argument raise, or are dropped with
        a ``MissingDataWarning``. Infinite values are always an error.
    copy : bool
        False: a float64, C-ordered, 64-byte aligned numeric ``exog`` array is used in place
        (see :class:`bayesglm.GLM`).
    exog_checked : bool
        The values of a numeric ``exog`` array passed these checks before (a later pass of
        out-of-core IRLS over the same rows): their finiteness is not checked again.

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        Bad shapes or lengths, empty data, missing or non-finite values, values outside the
        family's domain, arguments that do not apply to the family or link.
    TypeError
        Non-numeric (string, categorical, datetime) or complex data.

    Warns
    -----
    MissingDataWarning
        Rows were dropped (``missing="drop"``).
    DomainWarning
        Non-integer response for a count family (Poisson, negative binomial).
    """
    if missing not in _MISSING:
        raise ValueError(f'missing must be one of "raise", "drop"; got {missing!r}')
    family = _resolve_family(family)
    binomial = family.has_trials
    if trials is not None and not binomial:
        raise ValueError(f"trials: trials applies only to the binomial family, not {family.name}")
    if exposure is not None and family.link.name != "log":
        raise ValueError(
            f"exposure: requires the log link (log(exposure) is added to the linear predictor), "
            f"but the {family.name} family has the {family.link.name} link; use offset= instead"
        )

    ycols, yindex, n = _table(endog, "endog")
    if len(ycols) == 2:
        if not binomial:
            raise ValueError(f"endog: has 2 columns; a 2-column endog [successes, failures] "
                             f"applies only to the binomial family, not {family.name}")
        if trials is not None:
            raise ValueError("trials: cannot be given with a 2-column endog [successes, "
                             "failures], whose row sums are the trials")
        endog_name = ycols[0][0] or "y"
        ycols = [(c or d, v) for (c, v), d in zip(ycols, ("successes", "failures"))]
    elif len(ycols) == 1:
        endog_name = ycols[0][0] or "y"
        ycols = [(None, ycols[0][1])]
    else:
        raise ValueError(f"endog: must be 1-D (or 2 columns [successes, failures] for the "
                         f"binomial family), got {len(ycols)} columns")
    if n == 0:
        raise ValueError("endog: empty data set (0 rows)")
    xcols, xindex, nx = _table(exog, "exog")
    if nx != n:
        raise ValueError(f"exog has {nx} rows but endog has {n}")
    if not xcols:
        raise ValueError("exog: has 0 columns; a GLM needs at least one (e.g. a constant)")
    xnames, generated = _coef_names(names, xcols)
    p = len(xnames)

    extras, parts = {}, [("endog", yindex), ("exog", xindex)]
    for what, value in (("offset", offset), ("exposure", exposure), ("weights", weights),
                        ("trials", trials)):
        if value is not None:
            raw, index, m = _vector(value, what)
            if m != n:
                raise ValueError(f"{what} has {m} rows but endog has {n}")
            extras[what] = raw
            parts.append((what, index))
    index = _common_index(parts)
    nm = _NAMING.get()
    positions = nm.positions if nm.positions is not None and len(nm.positions) == n else None
    rows = Rows(n, index, positions)
    ywhat, xwhat = nm.response, nm.exog
    nan_hint = _DROP_HINT if nm.nan_hint is None else nm.nan_hint

    sources = [(ywhat, c, _numeric(v, ywhat, c, rows)) for c, v in ycols]
    X = _fast_matrix(exog, copy, exog_checked)
    if X is None:  # column by column: exact messages, mixed dtypes, missing values
        sources += [
            (xwhat, c, _numeric(v, xwhat, c, rows)) for c, (_, v) in zip(xnames, xcols)
        ]
    sources += [(what, None, _numeric(raw, what, None, rows)) for what, raw in extras.items()]
    for what, col, arr in sources:
        _check_finite(arr, what, col, rows, allow_nan=missing == "drop", nan_hint=nan_hint)

    n_dropped = 0
    if missing == "drop":
        nan = [np.isnan(arr) for _, _, arr in sources]
        dropped = np.logical_or.reduce(nan)
        n_dropped = int(dropped.sum())
        if n_dropped:
            counts = ", ".join(
                f"{what}{'' if col is None else f' column {col!r}'}: {int(mask.sum())}"
                for (what, col, _), mask in zip(sources, nan) if mask.any()
            )
            if n_dropped == n:
                raise ValueError(f'missing="drop" leaves no data: all {n} rows have missing '
                                 f"values (in {counts})")
            warn(f"dropped {n_dropped} of {n} rows with missing values (in {counts})",
                 MissingDataWarning)
            keep = ~dropped
            sources = [(what, col, arr[keep]) for what, col, arr in sources]
            X = None if X is None else aligned(X[keep])
            rows = rows.subset(keep)
            index = None if index is None else index[keep]

    ny = len(ycols)
    nx = 0 if X is not None else p
    yarrs = [(col, arr) for _, col, arr in sources[:ny]]
    xarrs = [arr for _, _, arr in sources[ny : ny + nx]]
    ext = {what: arr for what, _, arr in sources[ny + nx :]}

    trials_arr = ext.get("trials")
    if binomial:
        y, trials_arr = _binomial(yarrs, trials_arr, rows, family, nm)
    else:
        y = yarrs[0][1]
        _check_domain(y, family, rows, what=ywhat)
        i = _first(y != np.round(y)) if family.domain.integer else None
        if i is not None:
            warn(
                _msg(ywhat, None, rows, i, f"a non-integer value ({_fmt(y[i])})")
                + f"; the {family.name} family models counts (the fit goes on, but the "
                "likelihood is then only a quasi-likelihood)", DomainWarning)
    if "exposure" in ext:
        _check_values(ext["exposure"], "exposure", rows, positive=True)
    w = ext.get("weights")
    if w is not None:
        _check_values(w, "weights", rows, nonnegative=True)
        if not (w > 0).any():
            raise ValueError("weights: all weights are zero")

    if X is None:
        X = aligned(np.column_stack(xarrs))
    const = _const_col(X) if generated else None
    if const is not None:
        xnames = tuple("const" if j == const else nm for j, nm in enumerate(xnames))
    aux_arrays, aux_names = _aux(aux, family, n, n_dropped)
    return Design(
        # aligned, as X: JAX on a CPU then reads them in place (no copy on the device)
        y=aligned(y), X=X, names=xnames, endog_name=str(endog_name),
        offset=_aligned_or_none(ext.get("offset")), exposure=ext.get("exposure"),
        weights=_aligned_or_none(w), trials=_aligned_or_none(trials_arr),
        n_dropped=n_dropped + _NAMING.get().dropped_before, row_index=index,
        aux=aux_arrays, aux_names=aux_names,
    )


def _aligned_or_none(a):
    return None if a is None else aligned(a)


def _aux(aux, family, n: int, n_dropped: int):
    """The family's extra design matrices, checked: one per name the family asks for
    (``family.aux_formulas()``), n finite rows each (made by the formula front end, which has
    dropped the rows with missing values already)."""
    wanted = dict(getattr(family, "aux_formulas", dict)())
    aux = dict(aux or {})
    if set(aux) != set(wanted):
        if wanted and not aux:
            name, rhs = next(iter(wanted.items()))
            raise ValueError(f"family: the {name} model {rhs!r} is a formula, which needs the "
                             "formula interface: bg.glm('y ~ ...', data, family=...)")
        raise ValueError(f"aux: the family needs the designs {sorted(wanted)}, got "
                         f"{sorted(aux)}")
    if not aux:
        return None, None
    if n_dropped:
        raise ValueError('missing="drop" with a modelled zero part: drop the rows with missing '
                         "values with the formula interface (bg.glm), which drops them from "
                         "both designs")
    arrays, names = {}, {}
    for name, frame in aux.items():
        cols = [str(c) for c in getattr(frame, "columns", range(np.shape(frame)[1]))]
        a = np.ascontiguousarray(np.asarray(frame, dtype=np.float64))
        if a.ndim != 2 or a.shape[0] != n:
            raise ValueError(f"aux: the {name} design has shape {a.shape}, not ({n}, q)")
        bad = np.argwhere(~np.isfinite(a))
        if bad.size:
            i, j = bad[0]
            raise ValueError(f"the {name} model's column {cols[j]!r}: row {i} is {a[i, j]!r}")
        arrays[name], names[name] = a, tuple(cols)
    return arrays, names


class NewRows(NamedTuple):
    """New rows to predict, as both results objects read them."""

    X: np.ndarray  # (m, p)
    offset: np.ndarray | None  # (m,) total offset (offset + log exposure), None when none
    trials: np.ndarray | None  # (m,) binomial trials (None: not given)
    index: object  # the rows' labels (a pandas Index) or None


def new_rows(data, *, names, family, formula_spec=None, offset=None, exposure=None,
             trials=None, has_offset: bool, has_exposure: bool, what: str = "data") -> NewRows:
    """Validate new rows for ``predict`` (of the MLE and of the posterior alike).

    ``data``: design rows (array or DataFrame matched to ``names``) or, for a formula model,
    a DataFrame of raw columns, to which the formula is re-applied (an unseen category level is
    an error); ``offset``/``exposure``/``trials`` may then name its columns and default to the
    columns the model was fitted with. A model fitted with an offset or an exposure needs one
    for new rows; exposure needs the log link.
    """
    fs = formula_spec
    if fs is not None and fs.uses(data, names):  # raw columns: re-apply the formula
        X, index = fs.design_matrix(data, what=what)
        offset = fs.vector(offset, data, "offset")
        exposure = fs.vector(exposure, data, "exposure")
        trials = fs.vector(trials, data, "trials")
    else:
        X = make_exog(data, tuple(names), what=what)
        index = data.index if isinstance(data, (pd.DataFrame, pd.Series)) else None
    m = X.shape[0]
    if has_offset and offset is None:
        raise ValueError("the model was fitted with an offset: pass offset= for the new rows")
    if has_exposure and exposure is None:
        raise ValueError("the model was fitted with an exposure: pass exposure= for the new rows")
    off = None
    if offset is not None:
        off = check_vector(offset, m, "offset")
    if exposure is not None:
        if family.link.name != "log":
            raise ValueError("exposure applies only to models with the log link")
        log_e = np.log(check_vector(exposure, m, "exposure", positive=True))
        off = log_e if off is None else off + log_e
    if trials is not None:
        trials = check_vector(trials, m, "trials", positive=True)
    return NewRows(X, off, trials, index)
