"""Group-level terms parsed as lme4 does (bayesglm.group_terms; issue 11's formula syntax).

Each expectation is lme4's reading of the same formula (``lme4::findbars``,
``lme4:::expandDoubleVerts``, ``?lmer``): nesting ``g1/g2`` is ``g1`` and ``g1:g2``; ``(x | g)``
has an intercept unless ``0 +`` or ``- 1`` drops it; ``||`` is uncorrelated. Deterministic.
"""

from __future__ import annotations

import pytest

from bayesglm.group_terms import FormulaSyntaxError, GroupTerm, split_formula


def _terms(formula):
    return [(t.predictors, t.group, t.correlated, t.intercept) for t in split_formula(formula)[1]]


@pytest.mark.parametrize("formula, fixed, terms", [
    # lme4: glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)
    ("cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "cbind(incidence, size - incidence) ~ period", [("1", "herd", True, True)]),
    # sleepstudy: (Days | Subject) == (1 + Days | Subject), correlated
    ("Reaction ~ Days + (Days | Subject)", "Reaction ~ Days",
     [("1 + Days", "Subject", True, True)]),
    ("Reaction ~ Days + (1 + Days | Subject)", "Reaction ~ Days",
     [("1 + Days", "Subject", True, True)]),
    # (Days || Subject): the same columns, uncorrelated
    ("Reaction ~ Days + (Days || Subject)", "Reaction ~ Days",
     [("1 + Days", "Subject", False, True)]),
    # Pastes: (1 | batch/cask) == (1 | batch) + (1 | batch:cask)
    ("strength ~ 1 + (1 | batch/cask)", "strength ~ 1",
     [("1", "batch", True, True), ("1", "batch:cask", True, True)]),
    # crossed, VerbAgg-style
    ("r2 ~ Anger + Gender + (1 | id) + (1 | item)", "r2 ~ Anger + Gender",
     [("1", "id", True, True), ("1", "item", True, True)]),
    # no intercept inside the term, both spellings
    ("y ~ x + (0 + x | g)", "y ~ x", [("0 + x", "g", True, False)]),
    ("y ~ x + (x - 1 | g)", "y ~ x", [("0 + x", "g", True, False)]),
    # three levels of nesting, an interaction of groups, expressions as predictors
    ("y ~ x + (log(z) | a/b/c)", "y ~ x",
     [("1 + log(z)", "a", True, True), ("1 + log(z)", "a:b", True, True),
      ("1 + log(z)", "a:b:c", True, True)]),
    ("y ~ (1 | g1 : g2)", "y ~ 1", [("1", "g1:g2", True, True)]),
    # the fixed part keeps its pieces, signs and order; group terms anywhere
    ("y ~ (1 | g) + x - 1", "y ~ x - 1", [("1", "g", True, True)]),
    ("y ~ x + I(a | b) + C(f)", "y ~ x + I(a | b) + C(f)", []),  # a bar inside a call: fixed
])
def test_split_formula_as_lme4(formula, fixed, terms):
    got_fixed, got = split_formula(formula)
    assert got_fixed == fixed
    assert _terms(formula) == terms
    assert all(isinstance(t, GroupTerm) and t.source.startswith("(") for t in got)


def test_formula_without_bars_is_unchanged():
    assert split_formula("y ~ x * z + np.log(w)") == ("y ~ x * z + np.log(w)", ())


@pytest.mark.parametrize("formula, pattern", [
    ("y ~ x + ( | g)", r"needs predictors before the bar"),
    ("y ~ x + (1 | )", r"needs predictors before the bar and a grouping factor"),
    ("y ~ x + (0 | g)", r"has no columns"),
    ("y ~ x + (1 | g", r"unbalanced parentheses"),
    ("y ~ x - (1 | g)", r"cannot be subtracted"),
    ("y ~ x + 1 | g", r"must be in parentheses"),
    ("y ~ x + (x - z | g)", r"only '- 1' may be subtracted"),
    ("y ~ x + (1 | a | b)", r"one bar per term"),
    ("y ~ x + (1 | a//b)", r"empty grouping factor"),
])
def test_bad_group_terms_are_named(formula, pattern):
    with pytest.raises(FormulaSyntaxError, match=pattern):
        split_formula(formula)


def test_unknown_column_in_a_group_term_is_named():
    import pandas as pd

    import bayesglm as bg

    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [0.0, 1.0, 0.0, 1.0], "g": list("aabb")})
    with pytest.raises(ValueError, match=r"column 'z' of the group-level term \(z \| g\)"):
        bg.glm("y ~ x + (z | g)", df)
