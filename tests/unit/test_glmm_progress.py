"""glmer's fit shows a progress bar of its deviance evaluations on large problems (a fit at
n = 1e6 takes about a minute), and stays silent on small ones. Deterministic."""

from __future__ import annotations

import numpy as np

import bayesglm as bg
from bayesglm.glmm import PROGRESS_WORK, fit_glmm
from bayesglm.group_design import GroupFactor, GroupRows


def _problem(n=120, L=12):
    rng = np.random.default_rng(3)
    g = np.arange(n) % L
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [0.2, 0.5] + rng.normal(0, 1, L)[g])))) * 1.0
    term = (GroupFactor("g", ("Intercept",), tuple(map(str, range(L))), True),
            GroupRows(np.ones((n, 1)), g.astype(np.int32)))
    return X, y, [term]


def test_progress_bar_names_each_stage_and_small_fits_are_silent(capsys):
    X, y, terms = _problem()
    assert len(y) * 3 < PROGRESS_WORK
    quiet = fit_glmm(X, y, terms, bg.families.Binomial())
    assert "glmer" not in capsys.readouterr().err
    shown = fit_glmm(X, y, terms, bg.families.Binomial(), progress=True)
    err = capsys.readouterr().err
    assert "glmer, Hessian" in err and "deviance" in err
    np.testing.assert_array_equal(shown.params, quiet.params)  # the bar changes nothing
