"""Every warning points at the user's line, whatever the depth inside bayesglm (issue 9, item
23): Python's default filter shows a warning once per location, so warnings raised from the
package's own lines (before: glm.py line 84 for every DomainWarning) were merged across calls."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import bayesglm as bg


def _record(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, bg.BayesGLMWarning)]


def test_domain_warning_points_at_the_users_line():
    X = np.column_stack([np.ones(5), np.arange(5.0)])
    y = np.array([0.5, 1.0, 2.0, 1.5, 3.0])  # non-integer counts
    line = None

    def call():
        nonlocal line
        import inspect

        line = inspect.currentframe().f_lineno + 1
        bg.GLM(y, X, family="poisson")

    caught = _record(call)
    assert [w.category for w in caught] == [bg.DomainWarning]
    assert caught[0].filename == __file__ and caught[0].lineno == line


def test_formula_warnings_point_at_the_users_line():
    df = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0, 3.0, 5.0], "x": np.arange(6.0)})
    caught = _record(lambda: bg.glm("y ~ x", df, missing="drop"))
    assert [w.category for w in caught] == [bg.MissingDataWarning]
    assert caught[0].filename == __file__


def test_fit_mle_warnings_point_at_the_users_line_and_are_not_merged():
    X = np.column_stack([np.ones(6), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])  # complete separation
    model = bg.GLM(y, X, family="binomial")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per location
        model.fit_mle()
        model.fit_mle()  # another line: shown again
    seps = [w for w in caught if w.category is bg.SeparationWarning]
    assert len(seps) == 2 and all(w.filename == __file__ for w in seps)
    assert seps[0].lineno != seps[1].lineno
