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


def test_fit_with_progress_off_silences_glmer_too(capsys, monkeypatch):
    """fit(progress=False) on a model large enough for glmer's bar: no bar at all (it showed
    glmer's before)."""
    import warnings

    import pandas as pd

    from bayesglm import glmm

    monkeypatch.setattr(glmm, "PROGRESS_WORK", 1)  # every fit is "large"
    X, y, _ = _problem()
    df = pd.DataFrame({"y": y, "x": X[:, 1], "g": np.arange(len(y)) % 12})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        bg.glm("y ~ x + (1 | g)", df, family="binomial").fit(draws=20, warmup=20, chains=1,
                                                              progress=False)
    assert "glmer" not in capsys.readouterr().err
