"""The Bayesian fit of a GLM with group-level terms: its results, predictions, LOO, files and
priors (issue 11). The posterior itself is checked against rstanarm in
tests/reference/test_stan_glmer.py and by simulation-based calibration in tests/slow.

One small random-intercept logistic model (8 groups x 12 rows), fitted once. Deterministic
(fixed seeds); the Monte Carlo comparisons allow 5 standard errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesglm as bg


@pytest.fixture(scope="module")
def data(mixed_logistic_data):
    return mixed_logistic_data


@pytest.fixture(scope="module")
def fit(data):
    model = bg.glm("y ~ x + (1 | g)", data, family="binomial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(progress=False, draws=300, seed=3)


def test_summary_has_every_parameter_with_lme4_beside_it(fit):
    s = fit.summary()
    assert list(s.index) == ["Intercept", "x", "sd_g__Intercept"]
    vc = fit.mle.varcorr()["estimate"]
    assert s.loc["sd_g__Intercept", "mle"] == vc["sd_g__Intercept"]
    assert math.isnan(s.loc["sd_g__Intercept", "mle_se"])
    np.testing.assert_array_equal(s.loc[["Intercept", "x"], "mle"], fit.mle.params)


def test_inference_data_has_the_group_effects_on_level_and_term(fit):
    post = fit.idata.posterior
    assert post["r_g"].dims == ("chain", "draw", "g__level", "g__term")
    assert list(post["g__level"].values) == [f"s{k}" for k in range(8)]
    assert list(post["g__term"].values) == ["Intercept"]
    assert "theta" not in post and "z" not in post
    # r = sd * z: the effects' spread follows the sd draws
    r = post["r_g"].values[..., 0]
    ratio = r.std(axis=-1) / post["sd_g__Intercept"].values
    assert 0.2 < np.median(ratio) < 2.0
    assert fit.idata.constant_data["index_g"].shape == (96,)


def test_ranef_is_the_posterior_mean_of_the_effects(fit):
    re = fit.ranef()["g"]
    np.testing.assert_allclose(re["Intercept"], fit.idata.posterior["r_g"].values[..., 0]
                               .mean(axis=(0, 1)))
    assert list(re.index) == list(fit.mle.ranef()["g"].index)
    wide = fit.ranef(hdi_prob=0.9)["g"]
    assert list(wide.columns.get_level_values(1)) == ["mean", "sd", "hdi_5%", "hdi_95%"]
    # the posterior means order the groups as the conditional modes do (they shrink less: the
    # posterior's sd is above lme4's estimate)
    assert np.corrcoef(re["Intercept"], fit.mle.ranef()["g"]["Intercept"])[0, 1] > 0.98


def _draws(fit):
    post = fit.idata.posterior
    beta = post["beta"].values.reshape(-1, 2)
    r = post["r_g"].values.reshape(len(beta), -1)
    return beta, r, post["sd_g__Intercept"].values.reshape(-1)


def test_predict_includes_or_excludes_the_group_effects(fit, data):
    beta, r, _ = _draws(fit)
    rows = data.iloc[[0, 13, 95]]
    idx = [0, 1, 7]
    eta = beta[:, :1] + beta[:, 1:] * rows["x"].to_numpy()[None, :]
    inc = fit.predict(rows)
    np.testing.assert_allclose(inc["mean"], expit(eta + r[:, idx]).mean(0), rtol=1e-10)
    exc = fit.predict(rows, re="exclude")
    np.testing.assert_allclose(exc["mean"], expit(eta).mean(0), rtol=1e-10)
    fitted = fit.predict()  # the fitted rows, with their effects
    np.testing.assert_allclose(fitted["mean"].to_numpy()[[0, 13, 95]], inc["mean"], rtol=1e-10)


def test_a_new_level_gets_effects_drawn_from_the_population(fit):
    beta, _, sd = _draws(fit)
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["s0", "unseen"]})
    lin = fit.predict(new, kind="linear", seed=4)
    mean0, var0 = beta[:, 0].mean(), beta[:, 0].var()
    # eta = b0 + b_new with b_new ~ N(0, sd^2) per draw: mean b0's, variance var(b0) + E sd^2
    se = math.sqrt((var0 + np.mean(sd**2)) / len(sd))
    assert abs(lin["mean"].iloc[1] - mean0) < 5 * se
    assert lin["sd"].iloc[1] ** 2 == pytest.approx(var0 + np.mean(sd**2), rel=0.1)
    assert lin["sd"].iloc[1] > lin["sd"].iloc[0]
    same = fit.predict(new, kind="linear", seed=4)
    pd.testing.assert_frame_equal(lin, same)


def test_predict_checks_re(fit, data):
    with pytest.raises(ValueError, match="re must be one of 'include', 'exclude'"):
        fit.predict(data.iloc[:2], re="yes")
    with pytest.raises(ValueError, match="column 'g'"):
        fit.predict(data[["x"]].iloc[:2])


def test_predictions_comparisons_and_slopes_with_and_without_the_group_effects(fit, data):
    """bayesglm.interpret with re=: the posterior's quantities are those of every draw's
    fixed and group effects (computed here by hand), the MLE's those of the estimates and the
    conditional modes (held fixed in the delta method, as marginaleffects does for glmer);
    an unseen level gets the population's draws (the posterior; the same as predict's, seed
    0) or 0 (the MLE, as lme4's allow.new.levels)."""
    beta, r, _ = _draws(fit)
    rows = data.iloc[[0, 13, 95]]
    idx = [0, 1, 7]
    x = rows["x"].to_numpy()
    eta = beta[:, :1] + beta[:, 1:] * x[None, :]
    inc = fit.predictions(rows)
    np.testing.assert_allclose(inc.attrs["draws"], expit(eta + r[:, idx]), rtol=1e-12)
    np.testing.assert_allclose(inc["estimate"], fit.predict(rows)["mean"], rtol=1e-12)
    exc = fit.predictions(rows, re="exclude")
    np.testing.assert_allclose(exc["estimate"], expit(eta).mean(0), rtol=1e-12)
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["s0", "unseen"]})
    np.testing.assert_allclose(fit.predictions(new)["estimate"],
                               fit.predict(new, seed=0)["mean"], rtol=1e-12)
    # a comparison of two groups: the same draws of the other effects in both copies
    comp = fit.avg_comparisons({"g": ["s0", "s1"]}, comparison="ratio")
    eta_all = beta[:, :1] + beta[:, 1:] * data["x"].to_numpy()[None, :]
    want = expit(eta_all + r[:, [1]]).mean(1) / expit(eta_all + r[:, [0]]).mean(1)
    np.testing.assert_allclose(comp.attrs["draws"][:, 0], want, rtol=1e-12)
    assert list(comp["contrast"]) == ["s1 / s0"]
    # slopes: d mu / d x = beta_x mu (1 - mu) with each row's effect
    mu = expit(eta_all + r[:, [int(k[1:]) for k in data["g"]]])
    slope = fit.avg_slopes("x")
    assert slope["estimate"].iloc[0] == pytest.approx(
        (beta[:, 1:] * mu * (1 - mu)).mean(1).mean(), rel=1e-8)

    mle = fit.mle
    b, modes = mle.params.to_numpy(), mle.ranef()["g"]["Intercept"].to_numpy()
    V = mle.cov_params().to_numpy()
    p = mle.predictions(rows)
    e = b[0] + b[1] * x + modes[idx]
    np.testing.assert_allclose(p["estimate"], expit(e), rtol=1e-12)
    J = (expit(e) * (1 - expit(e)))[:, None] * np.column_stack([np.ones(3), x])
    np.testing.assert_allclose(p["std_error"], np.sqrt(np.einsum("ia,ab,ib->i", J, V, J)),
                               rtol=1e-10)
    np.testing.assert_allclose(mle.predictions(rows, re="exclude")["estimate"],
                               expit(b[0] + b[1] * x), rtol=1e-12)
    unseen = mle.predictions(new)
    assert unseen["estimate"].iloc[1] == pytest.approx(expit(b[0]), rel=1e-12)
    side = fit.avg_predictions(side_by_side=True, re="exclude")
    assert side["mle"].iloc[0] == pytest.approx(
        expit(b[0] + b[1] * data["x"].to_numpy()).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="re must be one of 'include', 'exclude'"):
        mle.avg_predictions(re="yes")
    # predict(): the same in MLEResults.predict's layout, indexed by the rows
    pr = mle.predict(rows)
    assert list(pr.columns) == ["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]
    assert list(pr.index) == list(rows.index)
    np.testing.assert_allclose(pr["mean"], expit(e), rtol=1e-12)
    np.testing.assert_allclose(pr["mean_se"], p["std_error"], rtol=1e-12)
    lo = expit(e - 1.959963984540054 * np.sqrt(np.einsum(
        "ia,ab,ib->i", np.column_stack([np.ones(3), x]), V, np.column_stack([np.ones(3), x]))))
    np.testing.assert_allclose(pr["mean_ci_lower"], lo, rtol=1e-9)  # on the link scale
    np.testing.assert_allclose(mle.predict(rows, re="exclude", linear=True)["mean"],
                               b[0] + b[1] * x, rtol=1e-12)
    assert len(mle.predict()) == len(data)


def test_slopes_with_a_group_slope_add_its_effect(data):
    """(x | g): a row's slope in x on the link scale is beta_x + b_x of its group (the group
    term's column changes with x too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular fit, possibly: not what is checked
        mle = bg.glm("y ~ x + (x | g)", data, family="binomial").fit_mle()
    rows = data.iloc[[0, 13, 95]]
    s = mle.slopes("x", rows, type="link")
    want = mle.params["x"] + mle.ranef()["g"]["x"].to_numpy()[[0, 1, 7]]
    np.testing.assert_allclose(s["estimate"], want, rtol=1e-8)
    np.testing.assert_allclose(s["std_error"], mle.bse["x"], rtol=1e-8)


def test_loo_in_row_chunks_is_the_stored_one(fit):
    stored = fit.loo()
    ll = fit.idata.log_likelihood
    del fit.idata["log_likelihood"]
    try:
        chunked = fit.loo(memory_budget=2_000_000)
    finally:
        fit.idata.add_groups(log_likelihood=ll)
    assert chunked.elpd_loo == pytest.approx(stored.elpd_loo, rel=1e-10)
    assert chunked.p_loo == pytest.approx(stored.p_loo, rel=1e-8)


def test_save_and_load_keep_it_all(fit, tmp_path, data):
    path = tmp_path / "mixed.nc"
    fit.save(path)
    back = bg.load(path)
    assert type(back).__name__ == "MixedBayesResults"
    pd.testing.assert_frame_equal(back.summary(), fit.summary())
    pd.testing.assert_frame_equal(back.ranef()["g"], fit.ranef()["g"])
    new = pd.DataFrame({"x": [0.5, -1.0], "g": ["s3", "unseen"]})
    pd.testing.assert_frame_equal(back.predict(new, seed=2), fit.predict(new, seed=2))
    for re in ("include", "exclude"):
        pd.testing.assert_frame_equal(back.predictions(new, re=re), fit.predictions(new, re=re))
    assert back.loo().elpd_loo == pytest.approx(fit.loo().elpd_loo, rel=1e-12)
    y_rep = back.posterior_predictive(seed=1)["y"]
    assert y_rep.shape == (4, 300, 96)


def test_priors_brms_style_and_their_checks(data):
    model = bg.glm("y ~ x + (1 | g)", data, family="binomial",
                   priors={"sd_g__Intercept": bg.priors.HalfNormal(1.0)})
    (term,) = model.group_priors
    assert term.kind == "lkj" and term.sd == (bg.priors.HalfNormal(1.0),)
    table = model.prior_summary().set_index("parameter")
    assert table.loc["sd_g__Intercept", "prior"] == "HalfNormal(1)"
    default = bg.glm("y ~ x + (1 | g)", data, family="binomial").prior_summary()
    assert "Decov(regularization=1" in default.set_index("parameter").loc["Sigma_g", "prior"]
    with pytest.raises(ValueError, match="real support"):
        bg.glm("y ~ x + (1 | g)", data, family="binomial",
               priors={"sd_g__Intercept": bg.priors.Normal(0, 1)})
    with pytest.raises(ValueError, match="unknown parameter name 'sd_h__Intercept'"):
        bg.glm("y ~ x + (1 | g)", data, family="binomial",
               priors={"sd_h__Intercept": bg.priors.HalfNormal(1.0)})
    with pytest.raises(ValueError, match="both a Decov"):
        bg.glm("y ~ x + (1 | g)", data, family="binomial",
               priors={"covariance": bg.priors.Decov(), "cor_g": bg.priors.LKJ(2)})
    with pytest.raises(TypeError, match="did you mean LKJ"):
        bg.glm("y ~ x + (1 | g)", data, family="binomial", priors={"cor": bg.priors.LKJ})
    with pytest.raises(ValueError, match="eta must be a positive"):
        bg.priors.LKJ(0)


def test_plot_ranef_and_forest(fit):
    import matplotlib.pyplot as plt

    ax = bg.plot_ranef(fit)
    means = [a for a in ax.lines if a.get_gid() == "posterior_mean"][0].get_xdata()
    assert list(means) == sorted(fit.ranef()["g"]["Intercept"])
    modes = [a for a in ax.lines if a.get_gid() == "mle_mode"][0].get_xdata()
    order = np.argsort(fit.ranef()["g"]["Intercept"].to_numpy())
    np.testing.assert_allclose(modes, fit.mle.ranef()["g"]["Intercept"].to_numpy()[order])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(
        fit.ranef()["g"].index[order])
    with pytest.raises(ValueError, match="is not a group-level term"):
        bg.plot_ranef(fit, group="h")
    with pytest.raises(ValueError, match="is not a column"):
        bg.plot_ranef(fit, term="x")
    ax = bg.plot_forest(fit)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept", "x", "sd_g__Intercept"]
    mle = [a for a in ax.lines if a.get_gid() == "mle_point"][0].get_xdata()
    assert mle[-1] == fit.mle.varcorr()["estimate"]["sd_g__Intercept"]
    plt.close("all")


def test_auto_chains_run_on_one_device_for_a_large_grouped_model(monkeypatch):
    # sampling.GROUPED_PARALLEL_ROWS_MAX: gathers and segment sums over many rows ran ~3x slower
    # as parallel host devices than chain after chain (and ~1.6x faster two at a time in
    # threads); plain GLMs keep parallel chains
    import jax

    from bayesglm.group_design import GroupRows
    from bayesglm.problem import Problem
    from bayesglm import sampling
    from bayesglm.sampling import GROUPED_PARALLEL_ROWS_MAX, auto_chain_method

    n = GROUPED_PARALLEL_ROWS_MAX + 1
    X, y = np.zeros((n, 1)), np.zeros(n)
    rows = GroupRows(np.ones((n, 1)), np.zeros(n, dtype=np.int32))
    chains = jax.local_device_count()
    many = "parallel" if chains > 1 else "sequential"
    assert auto_chain_method(Problem(X, None, y), chains) == many
    # one device's chains: in threads where there are cores for them (chain_threads)
    one = "threads" if sampling.chain_threads(chains) > 1 else "sequential"
    assert auto_chain_method(Problem(X, None, y, groups=(rows,)), chains) == one
    monkeypatch.setattr(sampling, "chain_threads", lambda chains: 1)  # a single core
    assert auto_chain_method(Problem(X, None, y, groups=(rows,)), chains) == "sequential"
    small = Problem(X[:100], None, y[:100], groups=(GroupRows(rows.Z[:100], rows.index[:100]),))
    assert auto_chain_method(small, chains) == many


def test_a_very_large_mixed_model_defaults_to_a_short_warmup_and_an_ess_stop(data, monkeypatch):
    """mixed_bayes.LARGE_EFFECTS: at 1e5 group effects the default 4 x (1000 + 1000) iterations
    take hours, so fit() then defaults to warmup=300 and a stop at 100 x chains bulk and tail
    ESS; a given warmup or ess turns that off. Checked on a small model with the threshold
    lowered to its number of effects (it had no such rule before: 1000 warmup, every draw)."""
    from bayesglm import mixed_bayes as mb

    args = {"chains": 4, "warmup": None, "ess": None, "draws": 1000}
    assert mb.size_defaults(mb.LARGE_EFFECTS - 1, args) is args
    big = mb.size_defaults(mb.LARGE_EFFECTS, args)
    assert big["warmup"] == mb.LARGE_WARMUP == 300 and big["ess"] == 400.0
    assert mb.size_defaults(10**6, {**args, "warmup": 1000})["ess"] is None
    assert mb.size_defaults(10**6, {**args, "ess": 50.0})["warmup"] is None

    model = bg.glm("y ~ x + (1 | g)", data, family="binomial")
    monkeypatch.setattr(mb, "LARGE_EFFECTS", data["g"].nunique())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(progress=False, draws=1000, chains=2, seed=3)
    assert fit.idata.posterior.attrs["warmup"] == 300
    kept = fit.idata.posterior.sizes["draw"]
    assert kept < 1000  # stopped once the ESS reached 200 for 2 chains
    s = fit.summary()
    assert s["ess_bulk"].min() >= 200 and s["ess_tail"].min() >= 200
