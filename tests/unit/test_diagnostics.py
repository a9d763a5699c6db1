"""The vectorised diagnostics (bayesglm.diagnostics) against ArviZ's own, scalar by scalar."""

import arviz as az
import numpy as np
import pytest

from bayesglm import diagnostics as dg


def _draws(seed, chains=4, draws=203, k=7):
    """Columns of different behaviour: iid, strongly autocorrelated (AR(1), 0.95), chains with
    different means, anti-correlated (AR(1), -0.6), ties (rounded), a constant, heavy tails."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((chains, draws, k))
    for j, phi in ((1, 0.95), (3, -0.6)):
        for t in range(1, draws):
            x[:, t, j] = phi * x[:, t - 1, j] + np.sqrt(1 - phi**2) * x[:, t, j]
    x[:, :, 2] += np.arange(chains)[:, None] * 0.5
    x[:, :, 4] = np.round(x[:, :, 4])
    x[:, :, 5] = 3.0
    x[:, :, 6] = rng.standard_t(2, (chains, draws))
    return x


@pytest.mark.parametrize("seed,chains,draws", [(0, 4, 203), (1, 2, 50), (2, 1, 100),
                                               (3, 4, 1000)])
def test_the_vectorised_diagnostics_are_arviz_s(seed, chains, draws):
    x = _draws(seed, chains, draws)
    for j in range(x.shape[2]):
        col = x[:, :, j]
        for ours, theirs in ((dg.ess_bulk, az.ess), (dg.ess_tail, lambda a: az.ess(a, method="tail")),
                             (dg.rhat, az.rhat)):
            if theirs is az.rhat and chains < 2:
                assert np.isnan(ours(x)[j])
                continue
            np.testing.assert_allclose(ours(x)[j], float(theirs(col)), rtol=1e-10, atol=0,
                                       err_msg=f"{ours.__name__}, column {j}")


def test_the_table_is_az_summary_s():
    x = _draws(4)
    idata = az.from_dict(posterior={"a": x[:, :, :3], "b": x[:, :, 3]},
                         coords={"k": ["u", "v", "w"]}, dims={"a": ["k"]})
    ours = dg.diagnostics(idata.posterior)
    theirs = az.summary(idata, kind="diagnostics", round_to="none")[["ess_bulk", "ess_tail",
                                                                     "r_hat"]]
    assert list(ours.index) == list(theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-10)


def test_blocks_give_the_same_numbers(monkeypatch):
    x = _draws(5)
    whole = [f(x) for f in (dg.ess_bulk, dg.ess_tail, dg.rhat)]
    monkeypatch.setattr(dg, "BLOCK_BYTES", 1)  # one column per block
    for a, f in zip(whole, (dg.ess_bulk, dg.ess_tail, dg.rhat)):
        np.testing.assert_allclose(f(x), a, rtol=1e-12)


def test_a_large_variable_gets_the_classic_split_rhat(monkeypatch):
    """Above RANKED_MAX scalars: BDA3's split R-hat, by hand here, and no ESS; a chain stuck
    apart is still flagged."""
    x = _draws(6)
    x[0, :, 0] += 3.0  # one chain away from the others
    monkeypatch.setattr(dg, "RANKED_MAX", 3)
    idata = az.from_dict(posterior={"r": x})
    table = dg.diagnostics(idata.posterior)
    assert table["ess_bulk"].isna().all() and table["ess_tail"].isna().all()
    half = x.shape[1] // 2
    sp = np.concatenate([x[:, :half], x[:, -half:]])
    n = half
    B = n * sp.mean(axis=1).var(axis=0, ddof=1)
    W = sp.var(axis=1, ddof=1).mean(axis=0)
    with np.errstate(invalid="ignore"):  # the constant column: 0 / 0
        expected = np.sqrt(((n - 1) / n * W + B / n) / W)
    ok = np.isfinite(expected)
    np.testing.assert_allclose(table["r_hat"].to_numpy()[ok], expected[ok], rtol=1e-12)
    assert table["r_hat"].iloc[0] > 1.1


def test_a_column_with_a_nan_draw_has_nan_diagnostics():
    """As ArviZ: NaN R-hat and ESS (the tail ESS would otherwise read an all-False indicator
    as a constant column, ESS = all draws)."""
    x = _draws(7)[:, :, :2].copy()
    x[1, 10, 0] = np.nan
    for f in (dg.rhat, dg.ess_bulk, dg.ess_tail):
        out = f(x)
        assert np.isnan(out[0]) and np.isfinite(out[1]), f.__name__


def test_average_ranks_are_scipy_s():
    from scipy import stats

    x = _draws(8).reshape(-1, 7)
    x[:, 0] = np.round(x[:, 0] * 2)  # many ties
    x[5, 3] = np.nan  # a column with a NaN: all NaN, as SciPy's
    ours = dg._average_ranks(x)
    theirs = stats.rankdata(x, method="average", axis=0)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    ok = ~np.isnan(theirs)
    np.testing.assert_array_equal(ours[ok], theirs[ok])


@pytest.mark.parametrize("hdi_prob", [0.94, 0.5, 0.89])
def test_the_summary_is_az_summary_s(hdi_prob):
    """dg.summary (no ArviZ: what BayesResults.summary shows) against az.summary, row by row:
    labels and every column to 1e-12 relative (the same formulas, summed in another order)."""
    x = _draws(9, draws=250)
    idata = az.from_dict(posterior={"a": x[:, :, :3], "b": x[:, :, 3], "c": x[:, :, 4:]},
                         coords={"k": ["u", "v", "w"]}, dims={"a": ["k"]})
    ours = dg.summary(idata.posterior, hdi_prob)
    theirs = az.summary(idata, hdi_prob=hdi_prob, round_to="none")
    assert list(ours.index) == list(theirs.index)
    for col in ours.columns:
        np.testing.assert_allclose(ours[col].to_numpy(), theirs[col].to_numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=col)
    variables = dg.variables(idata.posterior, ["b", "a"])
    assert [v.name for v in variables] == ["b", "a"]
    assert variables[1].labels == ["a[u]", "a[v]", "a[w]"]
    pd_ours = dg.summary(variables, hdi_prob)
    assert list(pd_ours.index) == ["b", "a[u]", "a[v]", "a[w]"]
