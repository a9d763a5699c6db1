"""Plots: each draws what it says, at the numbers it says (read back from the artists)."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import bayesglm as bg  # noqa: E402
from bayesglm import plots  # noqa: E402
from bayesglm.bayes_results import BayesResults  # noqa: E402
from bayesglm.convert import to_inference_data  # noqa: E402

# ArviZ 0.23 calls a matplotlib helper that matplotlib 3.11 deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::matplotlib.MatplotlibDeprecationWarning")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _design(n, p, rng):
    return np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])


# The fitted models come from tests/conftest.py, shared with the other test files (one compile
# per model for the whole suite): ``poisson_fit`` (Poisson with exposure, coefficients const, x1,
# x2), ``gaussian_flat_fit`` (Gaussian, const, x1, x2 and sigma) and ``separation_fit``
# (separated logistic data: no MLE, NUTS started at the posterior mode).
@pytest.fixture
def gaussian_fit(gaussian_flat_fit):
    return gaussian_flat_fit


def _own(fit):
    """A copy of a shared fit whose InferenceData may be changed (plot_ppc adds a group)."""
    mine = copy.copy(fit)
    mine.idata = fit.idata.copy()
    return mine


@pytest.fixture(scope="session")
def wide_fit():
    """30 coefficients. The plots only read draws, so the draws come from the MLE's normal
    approximation instead of NUTS (a 30-dimensional compile would dominate this file's runtime)."""
    rng = np.random.default_rng(13)
    n, p = 200, 30
    X = _design(n, p, rng)
    y = X @ rng.normal(scale=0.5, size=p) + rng.normal(size=n)
    model = bg.GLM(y, X, family="gaussian")
    mle = model.fit_mle()
    cov = mle.cov_params().to_numpy()
    beta = rng.multivariate_normal(mle.params.to_numpy(), cov, size=(1, 100))
    sigma = np.sqrt(mle.scale) * np.exp(rng.normal(scale=0.05, size=(1, 100)))
    idata = to_inference_data(posterior={"beta": beta, "sigma": sigma}, sample_stats=None,
                              names=model.names, obs_index=np.arange(n), y=y, constant_data={})
    return BayesResults(idata, family=model.family, names=model.names, mle=mle)


def _gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, (gid, found)
    return found[0]


def _has_gid(ax, gid):
    return any(a.get_gid() == gid for a in ax.get_children())


# -- trace --------------------------------------------------------------------------------------
def test_trace_one_row_per_parameter(poisson_fit, gaussian_fit):
    axes = bg.plot_trace(poisson_fit)  # Poisson: no dispersion
    assert axes.shape == (3, 2)
    assert [a.get_title() for a in axes[:, 0]] == ["const", "x1", "x2"]
    axes = bg.plot_trace(gaussian_fit)
    assert axes.shape == (4, 2)
    assert [a.get_title() for a in axes[:, 1]] == ["const", "x1", "x2", "sigma"]
    assert axes[-1, 1].get_xlabel() == "draw"
    assert axes[0, 0].figure._suptitle.get_text().startswith("Posterior trace")


def test_trace_marks_the_mle(poisson_fit):
    axes = bg.plot_trace(poisson_fit, var_names=["x1"])
    assert axes.shape == (1, 2)
    (vline,) = [a for a in axes[0, 0].lines if a.get_gid() == "mle_line"]
    np.testing.assert_allclose(vline.get_xdata(), poisson_fit.mle.params["x1"])
    assert "MLE" in axes[0, 0].figure._suptitle.get_text()
    axes = bg.plot_trace(poisson_fit, compact=True)  # one row, a line per coefficient
    lines = [a for a in axes[0, 1].lines if a.get_gid() == "mle_line"]
    np.testing.assert_allclose(sorted(a.get_ydata()[0] for a in lines),
                               sorted(poisson_fit.mle.params))


def test_trace_var_names_axes_and_compact(gaussian_fit):
    fig, given = plt.subplots(2, 2)
    axes = bg.plot_trace(gaussian_fit, var_names=["x2", "sigma"], axes=given)
    assert axes.shape == (2, 2) and axes[0, 0] is given[0, 0]
    assert [a.get_title() for a in axes[:, 0]] == ["x2", "sigma"]
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        bg.plot_trace(gaussian_fit, var_names=["x2", "sigma"], axes=np.empty((3, 2), object))
    assert bg.plot_trace(gaussian_fit, compact=True).shape == (2, 2)
    assert bg.plot_trace(gaussian_fit, var_names="beta").shape == (3, 2)


def test_trace_grows_with_parameters(wide_fit, gaussian_fit):
    axes = bg.plot_trace(wide_fit)
    assert axes.shape == (31, 2)
    small = bg.plot_trace(gaussian_fit)
    assert axes[0, 0].figure.get_figheight() > 5 * small[0, 0].figure.get_figheight()


# -- var_names ------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", [bg.plot_trace, bg.plot_forest, bg.plot_mle_vs_posterior])
def test_unknown_var_name_lists_the_valid_ones(gaussian_fit, func):
    with pytest.raises(ValueError, match=r"'nope'.*'const', 'x1', 'x2', 'sigma'"):
        func(gaussian_fit, var_names=["x1", "nope"])
    with pytest.raises(ValueError, match="empty"):
        func(gaussian_fit, var_names=[])


def test_dispersion_only_where_the_family_has_one(poisson_fit):
    with pytest.raises(ValueError, match="sigma"):
        bg.plot_forest(poisson_fit, var_names="sigma")


# -- forest ---------------------------------------------------------------------------------------
def test_forest_mle_beside_posterior(poisson_fit):
    fit = poisson_fit
    ax = bg.plot_forest(fit)
    assert [t.get_text() for t in ax.get_yticklabels()] == fit.names
    mle = fit.mle.params.to_numpy()
    ci = fit.mle.conf_int(alpha=0.06).to_numpy()  # the HDI's probability, 94%

    point = _gid(ax, "mle_point")
    np.testing.assert_allclose(point.get_xdata(), mle)
    segs = np.array(_gid(ax, "mle_ci").get_segments())  # (rows, 2 ends, xy)
    np.testing.assert_allclose(segs[:, 0, 0], ci[:, 0])
    np.testing.assert_allclose(segs[:, 1, 0], ci[:, 1])

    beta = fit.idata.posterior["beta"].to_numpy().reshape(-1, 3)
    mean = _gid(ax, "posterior_mean")
    np.testing.assert_allclose(mean.get_xdata(), beta.mean(0))
    hdi = np.array(_gid(ax, "posterior_hdi").get_segments())
    np.testing.assert_allclose(hdi[:, :, 0], az.hdi(beta[None], hdi_prob=0.94), rtol=1e-12)
    # same row, offset vertically: the MLE just below each posterior
    dy = np.asarray(point.get_ydata()) - np.asarray(mean.get_ydata())
    assert np.all(dy > 0) and np.all(dy < 0.5)
    np.testing.assert_allclose(segs[:, 0, 1], point.get_ydata())

    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["posterior (mean, 50% and 94% HDI)", "MLE (94% CI)"]
    assert _gid(ax, "reference").get_xdata()[0] == 0
    assert ax.get_title() and ax.get_xlabel()


def test_forest_var_names_and_hdi_prob(gaussian_fit):
    fit = gaussian_fit
    ax = bg.plot_forest(fit, var_names=["x2", "sigma"], hdi_prob=0.8)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x2", "sigma"]
    sigma = fit.idata.posterior["sigma"].to_numpy().ravel()
    hdi = np.array(_gid(ax, "posterior_hdi").get_segments())
    np.testing.assert_allclose(hdi[1, :, 0], az.hdi(sigma, hdi_prob=0.8))
    x = _gid(ax, "mle_point").get_xdata()
    np.testing.assert_allclose(x, [fit.mle.params["x2"], np.sqrt(fit.mle.scale)])
    assert "80% HDI" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="hdi_prob"):
        bg.plot_forest(fit, hdi_prob=1.5)


def test_forest_on_given_axes(gaussian_fit):
    fig, (a, b) = plt.subplots(1, 2)
    assert bg.plot_forest(gaussian_fit, ax=b) is b
    assert not a.has_data()


def test_forest_without_mle_shows_posterior_only(separation_fit):
    # under separation fit.mle holds IRLS's runaway, unconverged estimate: not drawn
    assert separation_fit.start == "map"
    ax = bg.plot_forest(separation_fit)
    assert not _has_gid(ax, "mle_point") and not _has_gid(ax, "mle_ci")
    assert _has_gid(ax, "posterior_mean")
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "no MLE" in legend
    assert "no MLE" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["const", "x1", "x2"]


def test_forest_when_mle_is_none(gaussian_fit):
    fit = copy.copy(gaussian_fit)
    fit.mle = None
    ax = bg.plot_forest(fit)
    assert not _has_gid(ax, "mle_point")
    assert "posterior only" in ax.get_title()


def test_forest_thirty_coefficients(wide_fit, gaussian_fit):
    ax = bg.plot_forest(wide_fit)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(wide_fit.names) and len(labels) == 30
    assert len(_gid(ax, "mle_point").get_xdata()) == 30
    small = bg.plot_forest(gaussian_fit)
    assert ax.figure.get_figheight() > 2.5 * small.figure.get_figheight()


# -- MLE against posterior ------------------------------------------------------------------------
def test_mle_vs_posterior_points(poisson_fit):
    fit = poisson_fit
    ax = bg.plot_mle_vs_posterior(fit)
    pts = _gid(ax, "points")
    np.testing.assert_allclose(pts.get_xdata(), fit.mle.params.to_numpy())
    beta = fit.idata.posterior["beta"].to_numpy().reshape(-1, 3)
    np.testing.assert_allclose(pts.get_ydata(), beta.mean(0))
    assert sorted(t.get_text() for t in ax.texts) == sorted(fit.names)
    ident = _gid(ax, "identity")
    np.testing.assert_allclose(ident.get_xdata(), ident.get_ydata())
    assert ax.get_xlabel() == "MLE" and ax.get_ylabel() == "posterior mean" and ax.get_title()


def test_mle_vs_posterior_subset_and_no_labels_when_many(gaussian_fit, wide_fit):
    ax = bg.plot_mle_vs_posterior(gaussian_fit, var_names=["x1"])
    np.testing.assert_allclose(_gid(ax, "points").get_xdata(), [gaussian_fit.mle.params["x1"]])
    ax = bg.plot_mle_vs_posterior(wide_fit)
    assert len(_gid(ax, "points").get_xdata()) == 30 and not ax.texts


def test_mle_vs_posterior_needs_an_mle(separation_fit, gaussian_fit):
    with pytest.raises(ValueError, match="needs the MLE"):
        bg.plot_mle_vs_posterior(separation_fit)
    fit = copy.copy(gaussian_fit)
    fit.mle = None
    with pytest.raises(ValueError, match="MLE does not exist"):
        bg.plot_mle_vs_posterior(fit)


# -- posterior predictive -------------------------------------------------------------------------
def test_ppc_continuous_densities(gaussian_fit):
    fit = _own(gaussian_fit)
    if "posterior_predictive" in fit.idata.groups():  # small fits draw it at fit time
        del fit.idata["posterior_predictive"]
    ax = bg.plot_ppc(fit, num_pp_samples=20)
    assert "posterior_predictive" in fit.idata.groups()  # drawn when missing
    assert len(ax.lines) >= 20 + 2  # replicated densities, observed, predictive mean
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("Observed" in t for t in texts)
    assert ax.get_title().startswith("Posterior predictive check (Gaussian)")


def test_ppc_counts_bars(poisson_fit):
    fit = _own(poisson_fit)
    ax = bg.plot_ppc(fit)
    y = fit.idata.observed_data["y"].to_numpy().astype(int)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights[: y.max() + 1 - y.min()], np.bincount(y)[y.min():])
    assert sum(heights) == len(y)
    pred = _gid(ax, "predicted")  # median predicted frequency of each count
    assert len(pred.get_xdata()) == len(heights)
    assert abs(np.sum(pred.get_ydata()) - len(y)) < 0.1 * len(y)
    assert ax.get_xlabel() == "count" and ax.get_ylabel() == "number of observations"


def test_ppc_binary_and_hist(separation_fit, gaussian_fit):
    ax = bg.plot_ppc(_own(separation_fit), kind="bars")
    assert [p.get_height() for p in ax.patches] == [30, 30]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0 (failure)", "1 (success)"]
    ax = bg.plot_ppc(_own(gaussian_fit), kind="hist")
    assert sum(p.get_height() for p in ax.patches) == gaussian_fit.idata.observed_data["y"].size
    with pytest.raises(ValueError, match="kind must be one of"):
        bg.plot_ppc(gaussian_fit, kind="violin")


def _fake_fit(family, y, y_rep, constant_data=None):
    """A fit holding only what plot_ppc reads: observed y, replicated y, constant data."""
    n = len(y)
    idata = to_inference_data(
        posterior={"beta": np.zeros((1, y_rep.shape[1], 1))}, sample_stats=None, names=["const"],
        obs_index=np.arange(n), y=y, constant_data=constant_data or {},
        posterior_predictive=y_rep,
    )
    return BayesResults(idata, family=family, names=["const"])


def test_ppc_rootogram_hangs_observed_from_expected():
    """Kleiber & Zeileis's hanging rootogram: each bar, of height sqrt(observed frequency), hangs
    from sqrt(mean replicated frequency); a model that reproduces the data exactly leaves every
    bottom at 0, one with too few zeros leaves the zero bar's bottom below the band."""
    rng = np.random.default_rng(5)
    y = np.where(rng.random(200) < 0.4, 0, rng.poisson(3.0, size=200))
    family = bg.families.ZeroInflatedPoisson()
    exact = _fake_fit(family, y, np.broadcast_to(y, (1, 20, 200)).copy())
    ax = bg.plot_ppc(exact)  # the default for zero-inflated and hurdle families
    assert ax.get_title().endswith("hanging rootogram")
    obs = np.bincount(y)
    bars = ax.patches
    np.testing.assert_allclose([b.get_height() for b in bars], np.sqrt(obs))
    np.testing.assert_allclose([b.get_y() for b in bars], 0.0, atol=1e-12)
    np.testing.assert_allclose(_gid(ax, "expected").get_ydata(), np.sqrt(obs))

    y_rep = rng.poisson(y.mean(), size=(2, 100, 200))  # a Poisson: far too few zeros
    ax = bg.plot_ppc(_fake_fit(bg.families.Poisson(), y, y_rep), kind="rootogram")
    zero_bar = ax.patches[0]
    expected0 = np.mean((y_rep == 0).sum(axis=-1))
    np.testing.assert_allclose(zero_bar.get_y() + zero_bar.get_height(), np.sqrt(expected0))
    band = _gid(ax, "band").get_paths()[0].vertices
    rep0 = (y_rep == 0).sum(axis=-1).ravel()
    low_at_zero = np.quantile(np.sqrt(expected0) - np.sqrt(rep0), 0.03)
    assert np.any(np.isclose(band[:, 0], -0.5) & np.isclose(band[:, 1], low_at_zero))
    assert zero_bar.get_y() < low_at_zero < 0
    assert ax.get_ylabel() == "sqrt(number of observations)"
    with pytest.raises(ValueError, match="rootogram' is for count responses"):
        bg.plot_ppc(_fake_fit(bg.families.Gaussian(), rng.normal(size=20),
                              rng.normal(size=(1, 5, 20))), kind="rootogram")


def test_ppc_ordinal_bars_are_labelled_by_level():
    """A Cumulative fit's bars: one per category (an empty one too), named by the levels."""
    family = bg.families.Cumulative(levels=("low", "mid", "high"))
    y = np.array([0, 0, 1, 1, 1, 0])  # no row in "high"
    fit = _fake_fit(family, y, np.broadcast_to(y, (1, 10, 6)).copy())
    ax = bg.plot_ppc(fit)
    assert [p.get_height() for p in ax.patches] == [3, 3, 0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["low", "mid", "high"]
    assert ax.get_xlabel() == "category"


def test_ppc_binomial_proportions_and_wide_counts():
    rng = np.random.default_rng(3)
    trials = rng.integers(5, 20, size=60)
    y = rng.binomial(trials, 0.3)
    y_rep = rng.binomial(trials, 0.3, size=(2, 50, 60))
    fit = _fake_fit(bg.families.Binomial(), y, y_rep, {"trials": trials})
    ax = bg.plot_ppc(fit)
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 10 and sum(heights) == 60
    assert "proportion" in ax.get_xlabel()

    y = rng.poisson(300, size=80)  # counts up to ~350: grouped into at most 40 integer bins
    fit = _fake_fit(bg.families.Poisson(), y, rng.poisson(300, size=(1, 40, 80)))
    ax = bg.plot_ppc(fit)
    heights = np.array([p.get_height() for p in ax.patches])
    assert len(heights) <= 41 and heights.sum() == 80
    assert ax.patches[0].get_x() > 200  # the bins span the data, not 0 up
    assert "bins of" in ax.get_xlabel()


# -- boundaries -----------------------------------------------------------------------------------
def test_no_show_and_backend_untouched(gaussian_fit, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() called"))
    backend = matplotlib.get_backend()
    bg.plot_forest(gaussian_fit)
    bg.plot_mle_vs_posterior(gaussian_fit)
    assert matplotlib.get_backend() == backend
    assert plots.__all__ == ["plot_trace", "plot_forest", "plot_ppc", "plot_mle_vs_posterior",
                             "plot_ranef", "plot_binned_residuals", "plot_predictions",
                             "plot_slopes"]


# -- fits with R's estimates (labels, transforms) -------------------------------------------------
class _StubMLE:
    """The classical fit as a loaded fit keeps it: estimates and standard errors."""

    converged = True

    def __init__(self, params: dict, bse: dict):
        import pandas as pd

        self.params = pd.Series(params)
        self.bse = pd.Series(bse)

    def conf_int(self, alpha=0.05):  # Wald intervals, as a loaded fit's saved MLE gives them
        import pandas as pd
        from statistics import NormalDist

        q = NormalDist().inv_cdf(1 - alpha / 2)
        return pd.DataFrame({0: self.params - q * self.bse, 1: self.params + q * self.bse})


# R 4.x: coef(m) and sqrt(diag(vcov(m))) of
#   glm(breaks ~ wool + tension, poisson, warpbreaks)
#   MASS::glm.nb(Days ~ Eth + Sex + Age + Lrn, quine)
# with the coefficient names bayesglm's formulas give.
R_FITS = {
    "warpbreaks": (bg.families.Poisson(), {
        "Intercept": (3.6919631, 0.04541069), "wool[T.B]": (-0.2059884, 0.05157117),
        "tension[T.M]": (-0.3213204, 0.06026580), "tension[T.H]": (-0.5184885, 0.06395944)}),
    "quine": (bg.families.NegativeBinomial(), {
        "Intercept": (2.89458002, 0.2284246), "Eth[T.N]": (-0.56937170, 0.1533334),
        "Sex[T.M]": (0.08232026, 0.1599150), "Age[T.F1]": (-0.44842815, 0.2397466),
        "Age[T.F2]": (0.08808014, 0.2361930), "Age[T.F3]": (0.35690095, 0.2483244),
        "Lrn[T.SL]": (0.29210914, 0.1864747)}),
}


def _r_like_fit(name, seed=0):
    """A fit whose MLE is R's and whose posterior is its normal approximation, slightly shrunk
    (as a weak prior would): what the plots read, without NUTS."""
    family, table = R_FITS[name]
    names = list(table)
    est = np.array([v[0] for v in table.values()])
    se = np.array([v[1] for v in table.values()])
    rng = np.random.default_rng(seed)
    beta = 0.97 * est + se * rng.normal(size=(2, 500, len(names)))
    idata = to_inference_data(posterior={"beta": beta}, sample_stats=None, names=names,
                              obs_index=np.arange(3), y=np.zeros(3), constant_data={})
    mle = _StubMLE(dict(zip(names, est)), dict(zip(names, se)))
    return BayesResults(idata, family=family, names=names, mle=mle)


def _text_boxes(ax):
    ax.figure.canvas.draw()  # Agg: the labels are placed when the figure is drawn
    renderer = ax.figure.canvas.get_renderer()
    # the text's own box (an Annotation's extent also holds its leader line)
    return [(t.get_text(), Text.get_window_extent(t, renderer)) for t in ax.texts]


@pytest.mark.parametrize("name", list(R_FITS))
def test_mle_vs_posterior_labels_do_not_overlap(name):
    fit = _r_like_fit(name)
    ax = bg.plot_mle_vs_posterior(fit)
    boxes = _text_boxes(ax)
    assert sorted(t for t, _ in boxes) == sorted(fit.names)
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            assert not ba.overlaps(bb), f"labels {a!r} and {b!r} overlap"
    # each label stays inside the axes, and off every point's marker
    inside = ax.get_window_extent()
    pts = ax.transData.transform(np.column_stack(
        [_gid(ax, "points").get_xdata(), _gid(ax, "points").get_ydata()]))
    for text, box in boxes:
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, text
        assert not any(box.contains(x, y) for x, y in pts), f"{text!r} covers a point"
    # and the layout survives a redraw at another size (placement is done at draw time)
    ax.figure.set_size_inches(4, 4)
    boxes = _text_boxes(ax)
    for i, (a, ba) in enumerate(boxes):
        assert not any(ba.overlaps(bb) for _, bb in boxes[i + 1:]), a


def test_trace_mle_line_over_the_chains(poisson_fit):
    axes = bg.plot_trace(poisson_fit, var_names=["x1", "x2"])
    for row, name in zip(axes, ["x1", "x2"]):
        for ax, get in ((row[0], "get_xdata"), (row[1], "get_ydata")):
            mle_lines = [a for a in ax.get_children() if a.get_gid() == "mle_line"]
            assert len(mle_lines) == 1
            line = mle_lines[0]
            np.testing.assert_allclose(getattr(line, get)(), poisson_fit.mle.params[name])
            chains = [a for a in ax.lines + list(ax.collections) if a.get_gid() != "mle_line"]
            assert chains
            assert line.get_zorder() > max(a.get_zorder() for a in chains)
            colours = {matplotlib.colors.to_hex(a.get_color()) for a in ax.lines
                       if a.get_gid() != "mle_line"}
            assert matplotlib.colors.to_hex(line.get_color()) not in colours
            assert line.get_alpha() in (None, 1.0) and line.get_linestyle() == "--"


def test_forest_one_probability_by_default(poisson_fit):
    fit = poisson_fit
    ax = bg.plot_forest(fit)
    segs = np.array(_gid(ax, "mle_ci").get_segments())
    ci = fit.mle.conf_int(alpha=0.06).to_numpy()  # 94%, as the HDI
    np.testing.assert_allclose(segs[:, 0, 0], ci[:, 0])
    np.testing.assert_allclose(segs[:, 1, 0], ci[:, 1])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["posterior (mean, 50% and 94% HDI)", "MLE (94% CI)"]
    ax = bg.plot_forest(fit, hdi_prob=0.9)
    assert "MLE (90% CI)" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = bg.plot_forest(fit, mle_alpha=0.05)  # still settable apart
    assert "MLE (95% CI)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_forest_transform_exp(poisson_fit):
    fit = poisson_fit
    ax = bg.plot_forest(fit, transform=np.exp)
    beta = np.exp(fit.idata.posterior["beta"].to_numpy().reshape(-1, 3))
    np.testing.assert_allclose(_gid(ax, "posterior_mean").get_xdata(), beta.mean(0))
    hdi = np.array(_gid(ax, "posterior_hdi").get_segments())
    np.testing.assert_allclose(hdi[:, :, 0], az.hdi(beta[None], hdi_prob=0.94), rtol=1e-12)
    np.testing.assert_allclose(_gid(ax, "mle_point").get_xdata(), np.exp(fit.mle.params))
    segs = np.array(_gid(ax, "mle_ci").get_segments())
    np.testing.assert_allclose(segs[:, :, 0], np.exp(fit.mle.conf_int(alpha=0.06).to_numpy()))
    ref = _gid(ax, "reference")
    assert ref.get_xdata()[0] == 1.0  # exp(0): no effect
    assert ax.get_xlabel() == "exp(coefficient): rate ratio"
    ax = bg.plot_forest(_r_like_fit("quine"), transform=np.exp)
    assert ax.get_xlabel() == "exp(coefficient): rate ratio"
    ax = bg.plot_forest(fit, transform=lambda b: 100 * (np.exp(b) - 1))
    assert ax.get_xlabel() == "transformed coefficient"
    with pytest.raises(ValueError, match="transform"):
        bg.plot_forest(fit, transform="exp")


def test_forest_transform_odds_ratio_and_dispersion(separation_fit, gaussian_fit):
    ax = bg.plot_forest(separation_fit, transform=np.exp)
    assert ax.get_xlabel() == "exp(coefficient): odds ratio"
    with pytest.raises(ValueError, match="transform.*sigma"):
        bg.plot_forest(gaussian_fit, var_names=["x1", "sigma"], transform=np.exp)


# -- binned residuals -----------------------------------------------------------------------------
# R 4.x, arm 1.13-1:
#   i <- 1:150; x <- round(((i * 37) %% 101) / 101, 1)      # many ties
#   y <- as.numeric((i * 13) %% 7 < 3) - x
#   binned.resids(x, y, nclass = floor(sqrt(150)))$binned   # 12 classes asked, 10 left
#   i <- 1:60; x <- ((i * 17) %% 61) / 61; y <- as.numeric((i * 5) %% 3 == 0) - x
#   binned.resids(x, y, nclass = 10)$binned
# columns xbar, ybar, n, 2se
ARM_TIES = np.array([
    [0, 0.375, 8, 0.3659625273557], [0.1, 0.3, 15, 0.261861468283191],
    [0.2, 0.2, 15, 0.261861468283191], [0.3, 0.2, 14, 0.277350098112615],
    [0.4, -0.0666666666666667, 15, 0.251976315339485],
    [0.5, -0.0333333333333333, 15, 0.266666666666667],
    [0.6, -0.2, 15, 0.261861468283191], [0.7, -0.3, 15, 0.261861468283191],
    [0.8, -0.333333333333333, 15, 0.266666666666667],
    [0.934782608695652, -0.5, 23, 0.210401460792356]])
ARM_DISTINCT = np.array([
    [0.0573770491803279, 0.442622950819672, 6, 0.469360418786333],
    [0.155737704918033, 0.177595628415301, 6, 0.401146495130775],
    [0.254098360655738, -0.087431693989071, 6, 0.350238696370756],
    [0.352459016393443, 0.147540983606557, 6, 0.440533420442265],
    [0.450819672131148, -0.450819672131148, 6, 0.0250413972401958],
    [0.549180327868853, -0.0491803278688525, 6, 0.469360418786333],
    [0.647540983606557, -0.314207650273224, 6, 0.401146495130775],
    [0.745901639344262, -0.412568306010929, 6, 0.442595964906294],
    [0.844262295081967, -0.177595628415301, 6, 0.401146495130775],
    [0.942622950819672, -0.942622950819672, 6, 0.0250413972401958]])


def test_binned_residuals_match_arm():
    i = np.arange(1, 151)
    x = np.round(((i * 37) % 101) / 101, 1)
    r = ((i * 13) % 7 < 3).astype(float) - x
    b = plots.binned_residuals(x, r, 12)
    got = np.column_stack([b["xbar"], b["ybar"], b["n"], b["se2"]])
    np.testing.assert_allclose(got, ARM_TIES, rtol=1e-12, atol=1e-14)
    i = np.arange(1, 61)
    x = ((i * 17) % 61) / 61
    r = ((i * 5) % 3 == 0).astype(float) - x
    b = plots.binned_residuals(x, r, 10)
    got = np.column_stack([b["xbar"], b["ybar"], b["n"], b["se2"]])
    np.testing.assert_allclose(got, ARM_DISTINCT, rtol=1e-12, atol=1e-14)
    # frequency weights act as replicated rows
    w = np.ones(60)
    w[::3] = 2
    bw = plots.binned_residuals(x, r, 10, weights=w)
    np.testing.assert_allclose(bw["n"].sum(), 80)
    # the breaks are placed on the rows (as without weights); within each bin, the mean and its
    # standard error are those of the replicated rows
    b0 = plots.binned_residuals(x, r, 10)
    np.testing.assert_array_equal(bw["xlo"], b0["xlo"])
    np.testing.assert_array_equal(bw["xhi"], b0["xhi"])
    for lo, hi, n, xbar, ybar, se2 in zip(*(bw[k] for k in ("xlo", "xhi", "n", "xbar", "ybar",
                                                             "se2"))):
        m = (x >= lo) & (x <= hi)
        xr, rr = x[m].repeat(w[m].astype(int)), r[m].repeat(w[m].astype(int))
        assert n == len(rr)
        np.testing.assert_allclose([xbar, ybar, se2],
                                   [xr.mean(), rr.mean(), 2 * rr.std(ddof=1) / np.sqrt(len(rr))],
                                   rtol=1e-12, atol=1e-15)


def _bernoulli_fit(n=400, seed=5):
    """A 0/1 response with a posterior (draws around the truth, no NUTS) and X in the data."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    truth = np.array([-0.3, 1.2])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ truth))).astype(float)
    beta = truth + 0.1 * rng.normal(size=(2, 200, 2))
    idata = to_inference_data(posterior={"beta": beta}, sample_stats=None, names=["const", "x"],
                              obs_index=np.arange(n), y=y, constant_data={"X": X})
    return BayesResults(idata, family=bg.families.Binomial(), names=["const", "x"]), X, y, beta


def test_plot_binned_residuals_of_a_posterior():
    fit, X, y, beta = _bernoulli_fit()
    ax = bg.plot_binned_residuals(fit)
    mu = (1 / (1 + np.exp(-np.einsum("cdp,np->cdn", beta, X)))).mean(axis=(0, 1))
    b = plots.binned_residuals(mu, y - mu, int(np.sqrt(len(y))))  # arm's default: sqrt(n) bins
    pts = _gid(ax, "binned_points")
    np.testing.assert_allclose(pts.get_xdata(), b["xbar"], rtol=1e-10)
    np.testing.assert_allclose(pts.get_ydata(), b["ybar"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(_gid(ax, "se_upper").get_ydata(), b["se2"], rtol=1e-10)
    np.testing.assert_allclose(_gid(ax, "se_lower").get_ydata(), -b["se2"], rtol=1e-10)
    assert len(pts.get_xdata()) == 20
    assert "probability" in ax.get_xlabel() and ax.get_ylabel() == "average residual"
    ax = bg.plot_binned_residuals(fit, nclass=5)
    assert len(_gid(ax, "binned_points").get_xdata()) == 5
    with pytest.raises(ValueError, match="nclass"):
        bg.plot_binned_residuals(fit, nclass=0)
    assert "plot_binned_residuals" in bg.__all__


def test_plot_binned_residuals_of_a_fitted_model(separation_fit):
    # a fit from a model reads its rows from the design, a loaded one from constant_data: the
    # same points either way
    fit = separation_fit
    X = np.asarray(fit._design.X)
    beta = fit.idata.posterior["beta"].to_numpy()
    mu = (1 / (1 + np.exp(-np.einsum("cdp,np->cdn", beta, X)))).mean(axis=(0, 1))
    y = fit.idata.observed_data["y"].to_numpy().astype(float)
    b = plots.binned_residuals(mu, y - mu, plots._arm_nclass(len(y)))
    ax = bg.plot_binned_residuals(fit)
    np.testing.assert_allclose(_gid(ax, "binned_points").get_ydata(), b["ybar"], atol=1e-12)


def test_plot_binned_residuals_of_an_mle(logistic_model):
    mle = logistic_model.fit_mle()
    ax = bg.plot_binned_residuals(mle)
    b = plots.binned_residuals(mle.mu.to_numpy(), mle.resid_response.to_numpy(), 70)
    np.testing.assert_allclose(_gid(ax, "binned_points").get_ydata(), b["ybar"])
    with pytest.raises(TypeError, match="BayesResults or an MLEResults"):
        bg.plot_binned_residuals(np.zeros(3))


def test_ppc_of_a_bernoulli_response_is_binned_residuals(separation_fit):
    fit, _, _, _ = _bernoulli_fit()
    ax = bg.plot_ppc(fit)
    assert _has_gid(ax, "binned_points") and not ax.patches  # no two bars
    assert "binned residuals" in ax.get_title()
    ax = bg.plot_ppc(_own(separation_fit), kind="bars")  # the bars on request
    assert [p.get_height() for p in ax.patches] == [30, 30]


# -- prior predictive -----------------------------------------------------------------------------
def test_ppc_of_the_prior(poisson_model, separation_data):
    prior = poisson_model.sample_prior(draws=50, seed=1)
    ax = bg.plot_ppc(prior)
    y = prior.observed_data["y"].to_numpy()
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == len(y)  # the observed counts, binned
    assert ax.get_title().startswith("Prior predictive check")
    assert "prior predictive" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    X, y = separation_data
    prior = bg.GLM(y, X, family="binomial").sample_prior(draws=50, seed=2)
    ax = bg.plot_ppc(prior)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0 (failure)", "1 (success)"]
    with pytest.raises(ValueError, match="binned.*posterior"):
        bg.plot_ppc(prior, kind="binned")
    with pytest.raises(TypeError, match="InferenceData"):
        bg.plot_ppc(np.zeros(3))


def test_ppc_of_a_continuous_prior(gaussian_data):
    X, y = gaussian_data
    prior = bg.GLM(y, X, family="gaussian").sample_prior(draws=40, seed=3)
    ax = bg.plot_ppc(prior, num_pp_samples=10)
    assert len(ax.lines) >= 10 + 1
    assert ax.get_title().startswith("Prior predictive check")
