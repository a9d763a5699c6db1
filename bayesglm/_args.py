"""Checks of scalar arguments (numbers, integers, flags), one rule for the whole package.

Each raises before any fitting or compilation, with a message that names the argument and
echoes the value: ``seed must be a non-negative integer, got -1``. Booleans are not numbers here
(``True`` is no seed), strings are never converted, and a float is an integer only if it is one
(``seed=1.5`` is an error, not 1).
"""

from __future__ import annotations

import math
import numbers

__all__ = ["integer", "real"]


def integer(value, name: str, *, low: int | None = None, what: str | None = None) -> int:
    """``value`` as an int (ints, numpy integers, integral floats), else a TypeError/ValueError."""
    desc = what or ("an integer" if low is None else
                    "a non-negative integer" if low == 0 else
                    "a positive integer" if low == 1 else f"an integer >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {desc}, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        out = int(value)
    else:
        raise ValueError(f"{name} must be {desc}, got {value!r}")
    if low is not None and out < low:
        raise ValueError(f"{name} must be {desc}, got {value!r}")
    return out


def real(value, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, what: str | None = None) -> float:
    """``value`` as a finite float within the bounds, else a TypeError/ValueError."""
    if what is None:
        if low is not None and high is not None:
            what = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            what = (f"a number > {low:g}" if low_open else f"a number >= {low:g}")
            what = "a positive number" if (low == 0 and low_open) else what
        else:
            what = "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    out = float(value)
    ok = math.isfinite(out)
    if ok and low is not None:
        ok = out > low if low_open else out >= low
    if ok and high is not None:
        ok = out < high if high_open else out <= high
    if not ok:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return out
