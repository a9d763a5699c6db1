"""bg.plot_predictions and bg.plot_slopes: the lines and points drawn are the fit's own
predictions / slopes on marginaleffects' condition grid (posterior band, MLE beside it); and
the quantities of a posterior fit loaded from a file.

The posterior is the model and sampler settings of tests/reference/test_interpret.py (the same
compiled sampler); deterministic checks of what is drawn against the tables it draws."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import bayesglm as bg  # noqa: E402
from bayesglm.interpret import CONDITION_POINTS, condition_grid  # noqa: E402

DATA = pd.read_csv(Path(__file__).parents[1] / "reference" / "r" / "interpret.csv")
FORMULA = "y_bin ~ x1 * treat + I(x2**2)"


@pytest.fixture(scope="module")
def posterior():
    model = bg.glm(FORMULA, DATA, family="binomial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(draws=500, chains=2, seed=3, progress=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lines(ax, gid):
    return [a for a in ax.get_lines() if a.get_gid() == gid]


def test_the_grid_is_marginaleffects_condition_grid():
    grid, cols = condition_grid(bg.glm(FORMULA, DATA, family="binomial"), ["x1", "treat"])
    levels = sorted(DATA["treat"].unique())
    assert cols == ["x1", "treat"] and len(grid) == CONDITION_POINTS * len(levels)
    np.testing.assert_allclose(grid["x1"].unique(),
                               np.linspace(DATA["x1"].min(), DATA["x1"].max(), CONDITION_POINTS))
    assert list(grid["treat"].iloc[:len(levels)]) == levels  # the series varies fastest
    assert np.allclose(grid["x2"], DATA["x2"].mean())  # others at the mean / the mode
    five, _ = condition_grid(bg.glm(FORMULA, DATA, family="binomial"), ["treat", "x1"])
    np.testing.assert_allclose(sorted(five["x1"].unique()),
                               np.quantile(DATA["x1"], [0, 0.25, 0.5, 0.75, 1]))
    three, _ = condition_grid(bg.glm(FORMULA, DATA, family="binomial"), {"x2": "threenum"})
    m, s = DATA["x2"].mean(), DATA["x2"].std(ddof=1)
    np.testing.assert_allclose(three["x2"], [m - s, m, m + s])


def test_a_numeric_condition_draws_the_posterior_band_and_the_mle_beside_it(posterior):
    ax = bg.plot_predictions(posterior, ["x1", "treat"])
    grid, _ = condition_grid(posterior, ["x1", "treat"])
    post, mle = posterior.predictions(grid), posterior.mle.predictions(grid)
    levels = sorted(DATA["treat"].unique())
    lines, mle_lines = _lines(ax, "posterior_line"), _lines(ax, "mle_line")
    assert len(lines) == len(mle_lines) == len(levels)
    for k, level in enumerate(levels):
        rows = (grid["treat"] == level).to_numpy()
        np.testing.assert_allclose(lines[k].get_ydata(), post["estimate"][rows], rtol=1e-12)
        np.testing.assert_allclose(mle_lines[k].get_ydata(), mle["estimate"][rows], rtol=1e-12)
        band = _lines(ax, "mle_band")[2 * k:2 * k + 2]
        np.testing.assert_allclose(band[0].get_ydata(), mle["conf_low"][rows], rtol=1e-12)
        np.testing.assert_allclose(band[1].get_ydata(), mle["conf_high"][rows], rtol=1e-12)
    bands = [c for c in ax.collections if c.get_gid() == "posterior_band"]
    assert len(bands) == len(levels)
    top = bands[0].get_paths()[0].vertices[:, 1]
    assert top.min() == pytest.approx(post["conf_low"][(grid["treat"] == levels[0])].min())
    assert ax.get_xlabel() == "x1" and "response scale" in ax.get_ylabel()


def test_a_categorical_condition_draws_points_with_intervals(posterior):
    ax = bg.plot_predictions(posterior, "treat", type="link")
    grid, _ = condition_grid(posterior, "treat")
    post = posterior.predictions(grid, type="link")
    points = [c for c in ax.containers if c.lines[0].get_gid() == "posterior_point"]
    assert len(points) == 1
    np.testing.assert_allclose(points[0].lines[0].get_ydata(), post["estimate"], rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == sorted(DATA["treat"].unique())


def test_slopes_of_an_mle_fit_draw_the_mle_alone(posterior):
    ax = bg.plot_slopes(posterior.mle, "x1", condition="treat")
    grid, _ = condition_grid(posterior, "treat")
    want = posterior.mle.slopes("x1", grid)
    mle = [c for c in ax.containers if c.lines[0].get_gid() == "mle_point"]
    assert len(mle) == 1 and not [c for c in ax.containers
                                  if c.lines[0].get_gid() == "posterior_point"]
    np.testing.assert_allclose(mle[0].lines[0].get_ydata(), want["estimate"], rtol=1e-12)


def test_bad_conditions_are_named(posterior):
    with pytest.raises(ValueError, match="'nope' is not a column"):
        bg.plot_predictions(posterior, "nope")
    with pytest.raises(ValueError, match="one or two column names"):
        bg.plot_predictions(posterior, ["x1", "x2", "treat"])
    with pytest.raises(ValueError, match="one of threenum, fivenum"):
        bg.plot_predictions(posterior, {"x1": "decile"})
    with pytest.raises(TypeError, match="one column's slope"):
        bg.plot_slopes(posterior, ["x1", "x2"], condition="treat")


def test_a_loaded_fit_computes_them_for_rows_it_is_given(posterior, tmp_path):
    """A fit file keeps the formula but not the raw rows: with data= every quantity is the
    fitted object's; without, a named error."""
    path = tmp_path / "fit.nc"
    posterior.save(path)
    loaded = bg.load(path)
    rows = DATA.iloc[:20]
    for name, args in (("predictions", ()), ("avg_comparisons", ("treat",)),
                       ("avg_slopes", ("x1",))):
        got = getattr(loaded, name)(*args, data=rows)
        want = getattr(posterior, name)(*args, data=rows)
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-12)
        np.testing.assert_allclose(got["conf_low"], want["conf_low"], rtol=1e-12)
    with pytest.raises(ValueError, match="a fit loaded from a file neither"):
        loaded.avg_predictions()
    with pytest.raises(ValueError, match="keeps only its estimates and standard errors"):
        loaded.avg_predictions(rows, side_by_side=True)
