"""Plots: each draws what it says, at the numbers it says (read back from the artists)."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import arviz as az  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

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
    vline = axes[0, 0].collections[-1]  # ArviZ draws reference lines last
    x = vline.get_segments()[0][:, 0]
    np.testing.assert_allclose(x, poisson_fit.mle.params["x1"])


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
    ci = fit.mle.conf_int().to_numpy()

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
    assert legend == ["posterior (mean, 50% and 94% HDI)", "MLE (95% CI)"]
    assert any(line.get_xdata()[0] == 0 for line in ax.lines if line.get_gid() is None)  # x = 0
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
    ax = bg.plot_ppc(fit, num_pp_samples=20)
    assert "posterior_predictive" in fit.idata.groups()
    assert "posterior_predictive" not in gaussian_fit.idata.groups()  # the shared fit untouched
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
    ax = bg.plot_ppc(_own(separation_fit))
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
    assert plots.__all__ == ["plot_trace", "plot_forest", "plot_ppc", "plot_mle_vs_posterior"]
