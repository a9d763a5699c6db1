"""Results as numbers and files: full-precision summaries, LOO / WAIC / y_rep within a memory
budget, save and load, the posterior predictive group of a fresh fit, statsmodels' names.

Fits: the shared ``gaussian_flat_fit`` and ``poisson_fit`` (conftest), and one module fit of
the same structure as ``gaussian_flat`` (Gaussian, flat priors, n = 20, p = 3) with a covariate
on a scale of 1e5, fitted as a *large* fit would be (``LOGLIK_MAX`` lowered so that neither the
log-likelihood, nor y_rep, nor X is stored in its InferenceData).
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import os
from statistics import NormalDist
from unittest import mock

import arviz as az
import jax
import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesglm as bg
from bayesglm.bayes_results import BayesResults
from bayesglm.convert import to_inference_data
from bayesglm.pointwise import loglik_draws
from bayesglm.problem import Problem

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

glm_module = importlib.import_module("bayesglm.fitting")
DRAWS, CHAINS = 1000, 4


def _pointwise():
    """bayesglm.pointwise, imported by the tests that use it (so the others run without it)."""
    return importlib.import_module("bayesglm.pointwise")


def _own(fit):
    """A copy of a shared fit whose InferenceData may be changed."""
    mine = copy.copy(fit)
    mine.idata = fit.idata.copy()
    return mine


def _without(fit, *groups):
    mine = _own(fit)
    for g in groups:
        if g in mine.idata.groups():
            del mine.idata[g]
    return mine


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(5)
    n = 20
    x = rng.normal(scale=1e5, size=n)  # a covariate in units of 1e5: its coefficient ~5e-5
    z = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x, z])
    y = 1.0 + 5e-5 * x - 0.3 * z + rng.normal(scale=0.8, size=n)
    return X, y


@pytest.fixture(scope="module")
def tiny_fit(tiny_data):
    """Fitted as a large fit: nothing per row is stored beyond y and the offsets."""
    X, y = tiny_data
    model = bg.GLM(y, X, family="gaussian", priors="flat", names=["const", "x", "z"])
    with mock.patch.object(glm_module, "LOGLIK_MAX", 50):
        return model.fit(draws=DRAWS, chains=CHAINS, seed=0, progress=False)


# -- 1: full precision -------------------------------------------------------------------------
def test_summary_keeps_full_precision(tiny_fit, tmp_path):
    s = tiny_fit.summary()
    beta = tiny_fit.idata.posterior["beta"].to_numpy().reshape(-1, 3)
    # the posterior mean and sd of a coefficient of ~5e-5 (rounded to 3 decimals they were 0.0)
    np.testing.assert_allclose(s["mean"].iloc[:3], beta.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s["sd"].iloc[:3], beta.std(0, ddof=1), rtol=1e-12)
    assert 2e-5 < s.loc["x", "mean"] < 1e-4 and 0 < s.loc["x", "sd"] < 1e-5
    assert s.loc["x", "hdi_3%"] < s.loc["x", "mean"] < s.loc["x", "hdi_97%"]
    assert s.loc["x", "hdi_3%"] > 0
    assert (s["mcse_mean"] > 0).all()
    # flat priors, Gaussian: the posterior mean of beta is the MLE; within 6 MCSE (false
    # failure ~2e-9 per coefficient)
    assert abs(s.loc["x", "mean"] - s.loc["x", "mle"]) < 6 * s.loc["x", "mcse_mean"]
    # ArviZ's numbers (bayesglm.diagnostics.summary computes them without ArviZ: the same
    # formulas, summed in another order)
    full = az.summary(tiny_fit.idata, var_names=["beta", "sigma"], round_to="none")
    for col in ("mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"):
        np.testing.assert_allclose(s[col].to_numpy(), full[col].to_numpy(), rtol=1e-12,
                                   err_msg=col)
    # the CSV (as `bayesglm fit` writes it) holds the same numbers
    s.to_csv(tmp_path / "summary.csv", index_label="param")
    back = pd.read_csv(tmp_path / "summary.csv", index_col="param")
    np.testing.assert_allclose(back.to_numpy(), s.to_numpy(), rtol=1e-15)


# -- 21 (part): posterior_predictive at fit time -----------------------------------------------
def test_fit_adds_posterior_predictive_group(gaussian_flat_fit, gaussian_data):
    idata = gaussian_flat_fit.idata
    assert "posterior_predictive" in idata.groups()
    pp = idata.posterior_predictive["y"]
    assert pp.shape == (CHAINS, DRAWS, len(gaussian_data[1]))
    assert pp.dims == ("chain", "draw", "obs")
    # drawn with fit's seed (0): fit.posterior_predictive(seed=0) remakes it exactly
    again = _own(gaussian_flat_fit).posterior_predictive(seed=0)
    np.testing.assert_array_equal(again["y"].to_numpy(), pp.to_numpy())
    other = _own(gaussian_flat_fit).posterior_predictive(seed=1)
    assert not np.array_equal(other["y"].to_numpy(), pp.to_numpy())
    ax = az.plot_ppc(idata, num_pp_samples=10)  # failed before: no posterior_predictive group
    plt.close(np.ravel(ax)[0].get_figure())


def test_large_fit_stores_nothing_per_row(tiny_fit):
    assert not {"log_likelihood", "posterior_predictive"} & set(tiny_fit.idata.groups())
    groups = tiny_fit.idata.groups()
    assert "constant_data" not in groups or "X" not in tiny_fit.idata.constant_data


# -- 11: memory budget, chunks -----------------------------------------------------------------
def test_memory_budget_default():
    pointwise = _pointwise()
    budget = pointwise.memory_budget()
    assert 0 < budget <= pointwise.MEMORY_CAP == 8 * 10**9
    with mock.patch.object(pointwise, "available_memory", return_value=3_000_000):
        assert pointwise.memory_budget() == 1_500_000
    with mock.patch.object(pointwise, "available_memory", return_value=1 << 50):
        assert pointwise.memory_budget() == pointwise.MEMORY_CAP
    with mock.patch.object(pointwise, "available_memory", return_value=None):
        assert pointwise.memory_budget() == pointwise.MEMORY_CAP // 4


def _assert_same_elpd(a, b, pointwise_names):
    for key in a.index:
        if key in pointwise_names:
            np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), rtol=1e-10,
                                       atol=1e-10)
            np.testing.assert_array_equal(a[key].coords["obs"], b[key].coords["obs"])
        elif isinstance(a[key], (float, np.floating)):
            assert a[key] == pytest.approx(b[key], rel=1e-10, abs=1e-10), key
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("which", ["gaussian_flat_fit", "poisson_fit"])
def test_loo_and_waic_in_row_chunks_match_arviz(which, request):
    pointwise = _pointwise()
    fit = request.getfixturevalue(which)  # Gaussian: a dispersion; Poisson: an exposure
    n = fit.idata.observed_data["y"].size
    lean = _without(fit, "log_likelihood")
    budget = 7 * DRAWS * CHAINS * 8 * pointwise.LOO_COPIES  # 7 rows a chunk: uneven chunks
    assert pointwise.rows_per_chunk(DRAWS * CHAINS, n, budget) == 7 < n
    got = lean.loo(pointwise=True, memory_budget=budget)
    _assert_same_elpd(got, az.loo(fit.idata, pointwise=True), {"loo_i", "pareto_k"})
    got = lean.waic(pointwise=True, scale="deviance", memory_budget=budget)
    _assert_same_elpd(got, az.waic(fit.idata, pointwise=True, scale="deviance"), {"waic_i"})
    assert "log_likelihood" not in lean.idata.groups()  # computed, not stored


def test_loo_that_cannot_fit_raises_memory_error(poisson_fit):
    lean = _without(poisson_fit, "log_likelihood")
    one_row = _pointwise().format_bytes(DRAWS * CHAINS * 8 * _pointwise().LOO_COPIES)
    with pytest.raises(MemoryError,
                       match=rf"loo\(\) needs {one_row} for a single row.*memory_budget"):
        lean.loo(memory_budget=1000)
    with pytest.raises(ValueError, match="memory_budget must be a positive"):
        lean.loo(memory_budget=0)


def test_compare_without_stored_loglik(poisson_fit):
    lean = _without(poisson_fit, "log_likelihood")
    table = bg.compare({"lean": lean, "stored": poisson_fit})
    stored = table.loc["stored", "elpd_loo"]
    assert table.loc["lean", "elpd_loo"] == pytest.approx(stored, rel=1e-12)
    assert "log_likelihood" not in lean.idata.groups()


def test_posterior_predictive_in_chunks_and_thinned(gaussian_flat_fit):
    pointwise = _pointwise()
    whole = _own(gaussian_flat_fit).posterior_predictive(seed=3)["y"].to_numpy()
    n = whole.shape[-1]
    result = CHAINS * DRAWS * n * 8
    # room for y_rep and 5 draws at a time: 800 chunks, the last one padded
    budget = result + 5 * n * 8 * pointwise.PPC_COPIES + 10
    fit = _own(gaussian_flat_fit)
    chunked = fit.posterior_predictive(seed=3, memory_budget=budget)["y"].to_numpy()
    np.testing.assert_array_equal(chunked, whole)
    thin = fit.posterior_predictive(seed=3, thin=3)["y"]
    assert thin.shape == (CHAINS, math.ceil(DRAWS / 3), n)
    np.testing.assert_array_equal(thin.to_numpy(), whole[:, ::3])
    np.testing.assert_array_equal(thin.coords["draw"], np.arange(0, DRAWS, 3))


@pytest.mark.parametrize("family, disp, trials", [
    (bg.families.Gaussian(), 0.7, None),
    (bg.families.Binomial(), None, None),
    (bg.families.Binomial(), None, np.full(4, 7.0)),
    (bg.families.Poisson(), None, None),
    (bg.families.Gamma(), 3.0, None),
    (bg.families.InverseGaussian(), 5.0, None),
    (bg.families.NegativeBinomial(), 0.4, None),
    (bg.families.NegativeBinomial(alpha=1.5), None, None),
])
def test_response_sampler_has_the_likelihoods_moments(family, disp, trials):
    """y_rep's NumPy sampler (``Family.draw``) against the family's mean and variance."""
    mu = np.array([0.2, 0.5, 0.7, 0.9]) if family.name == "binomial" else np.array([0.3, 1, 2, 4.0])
    rng = np.random.default_rng(11)
    phi = family.fixed_scale() if disp is None else family.scale_from_dispersion(disp)
    y = np.array([family.draw(rng, mu, phi, trials) for _ in range(40_000)])
    t = 1.0 if trials is None else trials
    mean = mu * t
    var = {"gaussian": np.full(4, 0.7**2), "binomial": t * mu * (1 - mu), "poisson": mu,
           "gamma": mu**2 / 3.0, "inverse_gaussian": mu**3 / 5.0,
           "negative_binomial": mu + (disp or 1.5) * mu**2}[family.name]
    # 40,000 draws: the sample mean within 5 standard errors (false failure < 6e-7 per entry),
    # the variance within 6% (its relative sd here is at most ~1.5%)
    np.testing.assert_array_less(np.abs(y.mean(0) - mean), 5 * np.sqrt(var / len(y)))
    np.testing.assert_allclose(y.var(0), var, rtol=0.06)
    if family.name in ("binomial", "poisson", "negative_binomial"):
        assert np.array_equal(y, np.round(y))
    bad = family.draw(rng, np.array([np.nan, np.inf, -1.0, mu[0]]), phi, trials)
    assert np.isfinite(bad[-1]) and np.isnan(bad[:2]).all()


def test_posterior_predictive_too_large_raises_before_allocating(gaussian_flat_fit):
    fit = _without(gaussian_flat_fit, "posterior_predictive")
    with pytest.raises(MemoryError, match=r"needs 640 kB for y_rep \(4000 draws x 20 rows.*thin="):
        fit.posterior_predictive(memory_budget=100_000)
    assert "posterior_predictive" not in fit.idata.groups()
    for bad in (0, 1.5, "2"):
        with pytest.raises((TypeError, ValueError), match="thin"):
            fit.posterior_predictive(thin=bad)
    with pytest.raises((TypeError, ValueError), match="seed"):
        fit.posterior_predictive(seed=-1)


# -- 12: save and load -------------------------------------------------------------------------
def _open_fds_to(path) -> list[str]:
    fd_dir = "/proc/self/fd"
    out = []
    for fd in os.listdir(fd_dir):
        try:
            if os.path.realpath(os.readlink(os.path.join(fd_dir, fd))) == os.path.realpath(path):
                out.append(fd)
        except OSError:
            pass
    return out


def test_load_holds_no_file_open(poisson_fit, gaussian_flat_fit, tmp_path):
    path = tmp_path / "fit.nc"
    poisson_fit.save(path)
    loaded = bg.load(path)
    if os.path.isdir("/proc/self/fd"):
        assert _open_fds_to(path) == []
    loaded.save(path)  # failed before: the file was still open for reading
    before = loaded.summary()
    gaussian_flat_fit.save(path)  # replace the file under the loaded fit
    pd.testing.assert_frame_equal(loaded.summary(), before)
    assert loaded.idata.posterior["beta"].shape == (CHAINS, DRAWS, 3)
    np.testing.assert_array_equal(loaded.idata.posterior["beta"],
                                  poisson_fit.idata.posterior["beta"])
    assert bg.load(path).family.name == "gaussian"


def _bad_files(tmp_path, saved):
    data = saved.read_bytes()
    files = {
        "empty": b"",
        "text": b"param,mle\nx,1.0\n",
        "truncated": data[: len(data) // 2],
        "json": b'{"not": "a fit"}',
    }
    out = {}
    for name, content in files.items():
        p = tmp_path / f"{name}.nc"
        p.write_bytes(content)
        out[name] = p
    out["netcdf"] = tmp_path / "plain.nc"  # a valid netCDF file that is no InferenceData
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(out["netcdf"], engine="h5netcdf")
    out["foreign idata"] = tmp_path / "foreign.nc"  # an InferenceData not written by bayesglm
    az.from_dict(posterior={"mu": np.zeros((2, 5))}).to_netcdf(str(out["foreign idata"]))
    out["bad spec"] = tmp_path / "badspec.nc"
    idata = az.from_dict(posterior={"beta": np.zeros((2, 5, 1))})
    idata.posterior.attrs["bayesglm_spec"] = "{not json"
    idata.to_netcdf(str(out["bad spec"]))
    out["spec without family"] = tmp_path / "nofamily.nc"
    idata.posterior.attrs["bayesglm_spec"] = '{"names": ["const"]}'
    idata.to_netcdf(str(out["spec without family"]))
    out["spec with a broken mle"] = tmp_path / "badmle.nc"  # read() passes it, load() does not
    fit = az.from_netcdf(str(saved))
    spec = json.loads(fit.posterior.attrs["bayesglm_spec"])
    spec["mle"] = {"params": spec["mle"]["params"]}
    fit.posterior.attrs["bayesglm_spec"] = json.dumps(spec)
    fit.to_netcdf(str(out["spec with a broken mle"]))
    return out


def test_load_rejects_files_that_are_not_fits(poisson_fit, tmp_path):
    saved = tmp_path / "fit.nc"
    poisson_fit.save(saved)
    for name, path in _bad_files(tmp_path, saved).items():
        with pytest.raises(ValueError, match="is not a readable bayesglm fit") as info:
            bg.load(path)
        assert str(path) in str(info.value), name
        assert type(info.value).__name__ == "FitFileError", name
    with pytest.raises(FileNotFoundError, match="no such file"):
        bg.load(tmp_path / "missing.nc")


def test_loaded_fit_predicts_and_replicates(poisson_fit, tmp_path):
    path = tmp_path / "fit.nc"
    poisson_fit.save(path)
    loaded = bg.load(path)
    # the fitted rows (with their exposure) come from the file
    pd.testing.assert_frame_equal(loaded.predict(), poisson_fit.predict(), rtol=1e-13)
    here = _own(poisson_fit).posterior_predictive(seed=4)["y"].to_numpy()
    there = loaded.posterior_predictive(seed=4)["y"].to_numpy()
    np.testing.assert_array_equal(there, here)
    ax = bg.plot_ppc(_without(loaded, "posterior_predictive"))
    plt.close(ax.get_figure())
    _assert_same_elpd(loaded.loo(pointwise=True), poisson_fit.loo(pointwise=True),
                      {"loo_i", "pareto_k"})


def test_large_fit_loo_after_load(tiny_fit, tmp_path):
    """A fit too large to store its log-likelihood saves its design matrix: loo() works after
    loading, and gives ArviZ's answer on the full log-likelihood."""
    path = tmp_path / "fit.nc"
    tiny_fit.save(path)
    loaded = bg.load(path)
    assert "X" in loaded.idata.constant_data and "log_likelihood" not in loaded.idata.groups()
    full = _own(tiny_fit)
    post = full.idata.posterior
    with jax.enable_x64(True):  # as bayesglm's entry points compute
        # the fitted rows as the saved file holds them (no offset, weights or trials here)
        rows = Problem(X=loaded.idata.constant_data["X"].to_numpy(), XT=None,
                       y=loaded.idata.observed_data["y"].to_numpy())
        ll = loglik_draws(full.family, rows, post["beta"].to_numpy(), post["sigma"].to_numpy())
    full.idata.add_groups(log_likelihood={"y": ll}, dims={"y": ["obs"]})
    expected = az.loo(full.idata, pointwise=True)
    _assert_same_elpd(tiny_fit.loo(pointwise=True), expected, {"loo_i", "pareto_k"})
    _assert_same_elpd(loaded.loo(pointwise=True), expected, {"loo_i", "pareto_k"})
    # a file without the design matrix (nor the log-likelihood): a clear error
    loaded.idata.constant_data = loaded.idata.constant_data.drop_vars("X")
    with pytest.raises(ValueError, match="design matrix"):
        loaded.loo()


def test_fixed_negative_binomial_alpha_survives_load(tmp_path):
    family = bg.families.NegativeBinomial(alpha=2.5)
    idata = to_inference_data(posterior={"beta": np.zeros((1, 4, 1))}, sample_stats=None,
                              names=["const"], obs_index=np.arange(3), y=np.array([0, 1, 4]),
                              constant_data={"X": np.ones((3, 1))})
    BayesResults(idata, family=family, names=["const"]).save(tmp_path / "nb.nc")
    back = bg.load(tmp_path / "nb.nc")
    assert back.family.alpha == 2.5 and back.family == family


# -- 25: statsmodels' names --------------------------------------------------------------------
@pytest.fixture(scope="module")
def poisson_mle(poisson_model):
    return poisson_model.fit_mle()


def test_tvalues_is_statsmodels_name_for_z(poisson_mle):
    pd.testing.assert_series_equal(poisson_mle.tvalues, poisson_mle.zvalues)
    assert "zvalues" in type(poisson_mle).tvalues.__doc__


def test_conf_int_columns_as_statsmodels(poisson_mle, poisson_data):
    sm = pytest.importorskip("statsmodels.api")
    ci = poisson_mle.conf_int()
    assert list(ci.columns) == [0, 1] and list(ci.index) == ["const", "x1", "x2"]
    q = NormalDist().inv_cdf(0.975)
    np.testing.assert_allclose(ci[0], poisson_mle.params - q * poisson_mle.bse, rtol=1e-14)
    np.testing.assert_allclose(ci[1], poisson_mle.params + q * poisson_mle.bse, rtol=1e-14)
    df = poisson_data
    ref = sm.GLM(df["y"], df[["const", "x1", "x2"]], family=sm.families.Poisson(),
                 exposure=df["exposure"]).fit()
    ref_ci = ref.conf_int(alpha=0.1)
    ci90 = poisson_mle.conf_int(alpha=0.1)
    assert list(ci90.columns) == list(ref_ci.columns)
    np.testing.assert_allclose(ci90.to_numpy(), ref_ci.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(poisson_mle.tvalues, ref.tvalues, rtol=1e-6)
    table = poisson_mle.summary().table  # the display keeps its [2.5% / 97.5%] headers
    np.testing.assert_allclose(table["[95%"], ci[0], rtol=1e-15)


def test_public_results_members_have_docstrings():
    griffe = pytest.importorskip("griffe")
    names = {
        "bayesglm.results.MLEResults": [
            "params", "bse", "tvalues", "zvalues", "pvalues", "deviance", "pearson_chi2",
            "scale", "llf", "aic", "bic", "converged", "n_iter", "nobs", "df_model", "df_resid",
            "k_params", "alpha", "alpha_se", "mu", "fittedvalues", "cov_type", "family", "model",
            "null_deviance", "conf_int", "cov_params", "summary", "predict"],
        "bayesglm.bayes_results.BayesResults": [
            "idata", "mle", "map", "family", "names", "start", "summary", "loo", "waic",
            "posterior_predictive", "predict", "save", "load", "diagnostics", "dispersion_name"],
    }
    for path, members in names.items():
        module, cls = path.rsplit(".", 1)
        obj = griffe.load(module, search_paths=["."])[cls]
        missing = [m for m in members if m not in obj.members or not obj.members[m].docstring]
        assert missing == [], path


def test_results_compute_in_float64_whatever_the_global_setting(poisson_fit):
    lean = _without(poisson_fit, "log_likelihood")
    expected = lean.loo(pointwise=True)
    pp = _own(poisson_fit).posterior_predictive(seed=2)["y"].to_numpy()
    pred = poisson_fit.predict()
    mle_pred = poisson_fit.mle.predict()
    with jax.enable_x64(False):
        _assert_same_elpd(lean.loo(pointwise=True), expected, {"loo_i", "pareto_k"})
        np.testing.assert_array_equal(_own(poisson_fit).posterior_predictive(seed=2)["y"], pp)
        pd.testing.assert_frame_equal(poisson_fit.predict(), pred, rtol=1e-13)
        pd.testing.assert_frame_equal(poisson_fit.mle.predict(), mle_pred, rtol=1e-13)
