"""Group-level (random-effect) terms of a formula, as lme4 writes them: parsed here.

formulaic has no mixed-model syntax, so the terms ``(expr | group)`` and ``(expr || group)`` are
taken out of the formula here, before formulaic sees it (:func:`split_formula`); the fixed part
and each term's predictors ``expr`` then go to formulaic (:mod:`bayesglm.formula`). Pure string
work: no formulaic, no NumPy.

The rules are lme4's (``?lme4::lmer``, "random-effects terms"; ``lme4::findbars`` and
``expandDoubleVerts``):

* ``(1 | g)``: an intercept per level of ``g``; ``(x | g)`` = ``(1 + x | g)``: intercept and slope,
  correlated; ``0 +`` or ``- 1`` inside the term drops its intercept;
* ``(x || g)``: the same columns, uncorrelated (a diagonal covariance; lme4 splits the term into
  ``(1 | g) + (0 + x | g)``, which for a factor ``x`` keeps the correlations among the factor's
  columns: here every column of the term is independent, as glmmTMB's ``diag()``);
* ``(x | g1/g2)`` = ``(x | g1) + (x | g1:g2)`` (nested), and so on for ``g1/g2/g3``;
* crossed factors are separate terms: ``(1 | g1) + (1 | g2)``; ``g1:g2`` is the interaction
  of the grouping columns (a level per observed combination).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["GroupTerm", "split_formula", "FormulaSyntaxError"]


class FormulaSyntaxError(ValueError):
    """A group-level term that cannot be parsed; the message echoes it."""


class GroupTerm(NamedTuple):
    """One group-level term after expansion (nesting and ``||`` resolved)."""

    predictors: str  # the term's columns as a formula right-hand side, e.g. "1 + x", "0 + x"
    group: str  # the grouping factor: a column name or an interaction "g1:g2"
    correlated: bool  # False for ``||``: a diagonal covariance
    intercept: bool  # whether the term has an intercept column
    source: str  # the term as written, for messages


def _top_level_pieces(rhs: str) -> list[tuple[str, str]]:
    """(sign, piece) of the additive pieces of ``rhs`` at parenthesis depth 0."""
    pieces, depth, start, sign = [], 0, 0, "+"
    for i, ch in enumerate(rhs):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise FormulaSyntaxError(f"unbalanced parentheses in {rhs!r}")
        elif ch in "+-" and depth == 0:
            pieces.append((sign, rhs[start:i]))
            sign, start = ch, i + 1
    if depth != 0:
        raise FormulaSyntaxError(f"unbalanced parentheses in {rhs!r}")
    pieces.append((sign, rhs[start:]))
    return [(s, p.strip()) for s, p in pieces if p.strip()]


def _bar(inner: str) -> tuple[int, int] | None:
    """(position, width) of the top-level ``|`` or ``||`` of a parenthesised term, or None."""
    depth = 0
    for i, ch in enumerate(inner):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "|" and depth == 0:
            return (i, 2) if inner[i + 1:i + 2] == "|" else (i, 1)
    return None


def _group_term(piece: str) -> tuple[str, str, bool] | None:
    """(expr, group, correlated) when ``piece`` is ``( expr | group )``, else None."""
    if not (piece.startswith("(") and piece.endswith(")")):
        return None
    depth = 0
    for i, ch in enumerate(piece):  # the opening parenthesis must close at the very end
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and i < len(piece) - 1:
            return None
    inner = piece[1:-1]
    bar = _bar(inner)
    if bar is None:
        return None
    pos, width = bar
    expr, group = inner[:pos].strip(), inner[pos + width:].strip()
    if not expr or not group:
        raise FormulaSyntaxError(f"group-level term {piece!r}: needs predictors before the bar "
                                 "and a grouping factor after it, e.g. (1 + x | g)")
    if "|" in group:
        raise FormulaSyntaxError(f"group-level term {piece!r}: one bar per term")
    return expr, group, width == 1


def _columns(expr: str, source: str) -> tuple[str, bool]:
    """The term's predictors as a right-hand side with its intercept made explicit."""
    kept, intercept = [], True
    for sign, p in _top_level_pieces(expr):
        if p == "0" or (p == "1" and sign == "-"):
            intercept = False
        elif p == "1":
            continue
        elif sign == "-":
            raise FormulaSyntaxError(f"group-level term {source!r}: only '- 1' may be "
                                     f"subtracted inside a term, not {p!r}")
        else:
            kept.append(p)
    if not kept and not intercept:
        raise FormulaSyntaxError(f"group-level term {source!r} has no columns (no intercept "
                                 "and no predictors)")
    rhs = " + ".join(kept)
    if intercept:
        return ("1 + " + rhs) if kept else "1", True
    return "0 + " + rhs, False


def _groups(group: str, source: str) -> list[str]:
    """``g1/g2/g3`` -> [g1, g1:g2, g1:g2:g3]; anything else as written (spaces removed)."""
    parts = [p.strip() for p in group.split("/")]
    if any(not p for p in parts):
        raise FormulaSyntaxError(f"group-level term {source!r}: empty grouping factor")
    names = [":".join(s.strip() for s in p.split(":")) for p in parts]
    return [":".join(names[:k + 1]) for k in range(len(names))]


def split_formula(formula: str) -> tuple[str, tuple[GroupTerm, ...]]:
    """``"y ~ x + (1 + x | g)"`` -> (``"y ~ x"``, (GroupTerm("1 + x", "g", True, True, ...),)).

    The fixed part keeps the order and the signs of the other pieces (``- 1`` included); a
    formula with group terms only keeps an intercept (``"y ~ 1"``). A formula without group
    terms comes back unchanged with no terms.

    Raises
    ------
    FormulaSyntaxError
        (a ValueError) Unbalanced parentheses, an empty side of a bar, a term with no columns,
        or a group term subtracted from the formula.
    """
    if "|" not in formula:
        return formula, ()
    if formula.count("~") != 1:
        raise FormulaSyntaxError(f"formula {formula!r}: needs one '~' (response ~ predictors)")
    lhs, rhs = formula.split("~")
    fixed, terms = [], []
    for sign, piece in _top_level_pieces(rhs):
        parsed = _group_term(piece)
        if parsed is None:
            if _bar(piece) is not None and not piece.startswith("("):
                raise FormulaSyntaxError(
                    f"formula {formula!r}: a group-level term must be in parentheses, as "
                    f"lme4's (1 + x | g); got {piece!r}")
            fixed.append((sign, piece))
            continue
        if sign == "-":
            raise FormulaSyntaxError(f"formula {formula!r}: a group-level term cannot be "
                                     f"subtracted ({piece!r})")
        expr, group, correlated = parsed
        predictors, intercept = _columns(expr, piece)
        for g in _groups(group, piece):
            terms.append(GroupTerm(predictors, g, correlated, intercept, piece))
    text = ""
    for i, (sign, piece) in enumerate(fixed):
        text += (piece if sign == "+" else f"- {piece}") if i == 0 else f" {sign} {piece}"
    if not fixed or all(s == "-" for s, _ in fixed):
        text = "1" + (f" {text}" if text else "")
    return f"{lhs.strip()} ~ {text}", tuple(terms)
