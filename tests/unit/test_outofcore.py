"""Out-of-core IRLS (bg.ChunkedGLM) against the in-memory fit (bg.GLM.fit_mle) on the same rows.

Both run R's glm.fit iteration (same start, halving and convergence rules), so the estimates
agree to rounding: the tolerances below (1e-10 relative) would trip on any difference in the
algorithm (one IRLS iteration more or less moves the estimates by ~tol = 1e-8 relative).
The blocks are small (chunk_rows well below n, the last block partial) so that padding, the
sums over blocks and the row numbers in messages are all exercised.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg

N, P, BLOCK = 2003, 4, 500  # the last of 5 blocks has 3 rows


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, P - 1))])
    beta = np.array([0.3, -0.2, 0.15, 0.1])
    return rng, X, beta


def _same(mem, ooc, rel=1e-10):
    np.testing.assert_allclose(ooc.params.to_numpy(), mem.params.to_numpy(), rtol=rel,
                               atol=rel)
    np.testing.assert_allclose(ooc.bse.to_numpy(), mem.bse.to_numpy(), rtol=rel)
    for name in ("deviance", "pearson_chi2", "llf", "aic", "bic", "scale", "null_deviance",
                 "df_resid"):
        assert getattr(ooc, name) == pytest.approx(getattr(mem, name), rel=rel, abs=1e-9), name
    assert ooc.n_iter == mem.n_iter
    assert ooc.converged and mem.converged
    assert ooc.nobs == mem.nobs


def _cases():
    rng, X, beta = _data()
    eta = X @ beta
    off = rng.normal(0, 0.2, N)
    w = rng.integers(0, 4, N).astype(float)
    trials = rng.integers(1, 6, N).astype(float)
    yield "poisson", rng.poisson(np.exp(eta + off)), dict(offset=off, weights=w)
    yield "poisson-exposure", rng.poisson(np.exp(eta) * 2.0), dict(exposure=np.full(N, 2.0))
    yield "binomial-01", (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float), {}
    yield "binomial-trials", rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta))), dict(
        trials=trials, weights=w)
    k = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta)))
    yield "binomial-2col", np.column_stack([k, trials - k]), {}
    yield "gaussian", eta + rng.normal(0, 0.5, N), dict(offset=off)
    yield "gamma", rng.gamma(2.0, np.exp(eta) / 2.0), dict(weights=w)
    yield "inverse_gaussian", rng.wald(np.exp(eta), 4.0), {}
    yield "negative_binomial", rng.negative_binomial(2.0, 2.0 / (2.0 + np.exp(eta))), {}


FAMILIES = {"poisson": "poisson", "poisson-exposure": "poisson", "binomial-01": "binomial",
            "binomial-trials": "binomial", "binomial-2col": "binomial", "gaussian": "gaussian",
            "gamma": bg.families.Gamma(link="log"),
            "inverse_gaussian": bg.families.InverseGaussian(link="log"),
            "negative_binomial": bg.families.NegativeBinomial(alpha=0.5)}


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_chunked_equals_in_memory(case):
    # R: glm(y ~ X - 1, family, offset, weights) on all rows; here bg.GLM(...).fit_mle() is
    # that reference (itself checked against R in tests/reference) and the chunked fit must
    # reproduce it: same iterations, same numbers
    name, y, kw = case
    _, X, _ = _data()
    fam = FAMILIES[name]
    mem = bg.GLM(y, X, family=fam, **kw).fit_mle()
    ooc = bg.ChunkedGLM(y, X, family=fam, chunk_rows=BLOCK, **kw).fit_mle(progress=False)
    _same(mem, ooc)
    assert list(ooc.params.index) == ["const", "x1", "x2", "x3"]  # as bg.GLM names them
    pd.testing.assert_frame_equal(ooc.conf_int(), mem.conf_int(), rtol=1e-9)
    new = X[:7]
    pred_kw = {"offset": kw["offset"][:7]} if "offset" in kw else {}
    if "exposure" in kw:
        pred_kw = {"exposure": kw["exposure"][:7]}
    ref = mem.predict(new, **pred_kw)
    off = pred_kw.get("offset", np.log(pred_kw["exposure"]) if "exposure" in pred_kw else None)
    got = ooc.predict(new, offset=off)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-9)


@pytest.fixture(scope="module")
def poisson_rows():
    rng, X, beta = _data(1)
    off = rng.normal(0, 0.2, N)
    return rng.poisson(np.exp(X @ beta + off)).astype(float), X, off


def test_npy_memmaps_and_paths(tmp_path, poisson_rows):
    y, X, off = poisson_rows
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "off.npy", off)
    mem = bg.GLM(y, X, family="poisson", offset=off).fit_mle()
    by_path = bg.ChunkedGLM(tmp_path / "y.npy", str(tmp_path / "X.npy"), family="poisson",
                            offset=tmp_path / "off.npy", chunk_rows=BLOCK,
                            names=["a", "b", "c", "d"]).fit_mle(progress=False)
    _same(mem, by_path)
    assert list(by_path.params.index) == ["a", "b", "c", "d"]
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    _same(mem, bg.ChunkedGLM(y, mm, family="poisson", offset=off).fit_mle(progress=False))


def test_parquet_files(tmp_path, poisson_rows):
    pq = pytest.importorskip("pyarrow.parquet")  # in the test extras: runs in CI
    import pyarrow as pa

    y, X, off = poisson_rows
    df = pd.DataFrame({"y": y, "one": X[:, 0], "a": X[:, 1], "b": X[:, 2], "c": X[:, 3],
                       "off": off})
    # two files, the first in row groups of 300 (batches end at row-group ends: blocks of
    # several sizes, all padded to chunk_rows)
    pq.write_table(pa.Table.from_pandas(df.iloc[:1200]), tmp_path / "a.parquet",
                   row_group_size=300)
    pq.write_table(pa.Table.from_pandas(df.iloc[1200:]), tmp_path / "b.parquet")
    model = bg.ChunkedGLM.from_parquet([tmp_path / "a.parquet", tmp_path / "b.parquet"],
                                       endog="y", exog=["one", "a", "b", "c"], offset="off",
                                       family="poisson", chunk_rows=BLOCK)
    mem = bg.GLM(y, X, family="poisson", offset=off, names=["one", "a", "b", "c"]).fit_mle()
    _same(mem, model.fit_mle(progress=False))
    with pytest.raises(ValueError, match="has no column 'nope'"):
        bg.ChunkedGLM.from_parquet(tmp_path / "a.parquet", endog="y", exog=["one", "nope"])


def test_bad_values_named_by_their_row_in_the_whole_data(poisson_rows):
    y, X, _ = poisson_rows
    X = X.copy()
    X[1234, 2] = np.nan
    model = bg.ChunkedGLM(y, X, family="poisson", chunk_rows=BLOCK)
    with pytest.raises(ValueError, match=r"column 'x2' has a non-finite value \(nan\) at row "
                                         r"1234 \(the 1235th row\)"):
        model.fit_mle(progress=False)
    y = y.copy()
    y[1601] = -1
    with pytest.raises(ValueError, match=r"row 1601 \(the 1602nd row\)"):
        bg.ChunkedGLM(y, poisson_rows[1], family="poisson", chunk_rows=BLOCK).fit_mle(
            progress=False)
    with pytest.raises(ValueError, match="exog has 2003 rows but endog has 10"):
        bg.ChunkedGLM(y[:10], X, family="poisson")
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        bg.ChunkedGLM(y, X, family="poisson", chunk_rows=0)
    with pytest.raises(ValueError, match="NegativeBinomial's alpha fixed"):
        bg.ChunkedGLM(y, X, family="negative_binomial")
    with pytest.raises(ValueError, match="not beta"):
        bg.ChunkedGLM(y, X, family="beta")


def test_rank_deficiency_names_the_column(poisson_rows):
    y, X, _ = poisson_rows
    X = np.column_stack([X, X[:, 1] + 2 * X[:, 2]])
    with pytest.raises(bg.RankDeficientError, match="column 'x4' is a linear combination"):
        bg.ChunkedGLM(y, X, family="poisson", chunk_rows=BLOCK).fit_mle(progress=False)


def test_zero_weight_blocks_and_warnings(poisson_rows):
    y, X, _ = poisson_rows
    w = np.ones(N)
    w[:BLOCK] = 0.0  # a whole block of zero weight adds nothing (and is still checked)
    mem = bg.GLM(y, X, family="poisson", weights=w).fit_mle()
    _same(mem, bg.ChunkedGLM(y, X, family="poisson", weights=w, chunk_rows=BLOCK).fit_mle(
        progress=False))
    # non-integer counts: one DomainWarning, not one per block and pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg.ChunkedGLM(y + 0.5, X, family="poisson", chunk_rows=BLOCK).fit_mle(progress=False)
    assert [type(c.message) for c in caught] == [bg.DomainWarning]


def test_separation_warns():
    x = np.linspace(-1, 1, 400)
    X = np.column_stack([np.ones_like(x), x])
    y = (x > 0).astype(float)
    with pytest.warns(bg.SeparationWarning, match="numerically 0 or 1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.ConvergenceWarning)
            bg.ChunkedGLM(y, X, family="binomial", chunk_rows=128).fit_mle(progress=False)


def test_blocks_take_turns_on_the_devices(poisson_rows, monkeypatch):
    import jax

    from bayesglm import outofcore

    y, X, off = poisson_rows
    model = bg.ChunkedGLM(y, X, family="poisson", offset=off, chunk_rows=BLOCK)
    one = model.fit_mle(progress=False, devices=1)
    seen = []
    real = outofcore.pass_stats
    monkeypatch.setattr(outofcore, "pass_stats", lambda fam, data, *a: seen.append(
        next(iter(data.X.devices()))) or real(fam, data, *a))
    spread = model.fit_mle(progress=False, devices=3)
    assert set(seen) == set(jax.devices()[:3])  # 5 blocks a pass, in turn on 3 devices
    np.testing.assert_allclose(spread.params, one.params, rtol=1e-12, atol=1e-15)
    assert spread.deviance == pytest.approx(one.deviance, rel=1e-13)
    assert spread.llf == pytest.approx(one.llf, rel=1e-13)
    assert spread.null_deviance == pytest.approx(one.null_deviance, rel=1e-13)
    with pytest.raises(ValueError, match="devices: must be between 1"):
        model.fit_mle(progress=False, devices=99)


def test_no_intercept_and_offset_null_deviance(poisson_rows):
    # R: glm(y ~ X - 1, offset = off)$null.deviance is the deviance at mu = exp(offset) when
    # the model has no intercept; with an intercept and an offset, an intercept-only fit
    y, X, off = poisson_rows
    for cols, kw in ((slice(1, None), dict(offset=off)), (slice(1, None), {}),
                     (slice(None), dict(offset=off))):
        mem = bg.GLM(y, X[:, cols], family="poisson", **kw).fit_mle()
        ooc = bg.ChunkedGLM(y, X[:, cols], family="poisson", chunk_rows=BLOCK, **kw).fit_mle(
            progress=False)
        assert ooc.null_deviance == pytest.approx(mem.null_deviance, rel=1e-10)
        _same(mem, ooc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_restart_from_the_intercept_where_mustart_fails(seed):
    # Poisson with the identity link and means near 0: the first step from R's mustart leaves
    # the domain, halving back to beta = 0 (mu = 0) does not help; bg.GLM restarts from the
    # intercept-only coefficients, and so must the out-of-core fit
    rng = np.random.default_rng(seed)
    x = rng.random(400)
    X = np.column_stack([np.ones(400), x])
    y = rng.poisson(0.05 + 2 * x)
    fam = bg.families.Poisson(link="identity")
    mem = bg.GLM(y, X, family=fam).fit_mle()
    ooc = bg.ChunkedGLM(y, X, family=fam, chunk_rows=128).fit_mle(progress=False)
    np.testing.assert_allclose(ooc.params, mem.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ooc.bse, mem.bse, rtol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_collinear_design_is_an_error_not_a_fit(seed):
    # an exactly collinear column need not fail the Cholesky of X'WX (rounding): the fit must
    # still refuse it, as bg.GLM does, rather than report huge standard errors
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(2000), rng.normal(size=(2000, 2))])
    X = np.column_stack([X, 0.3 * X[:, 1] + 0.7 * X[:, 2]])
    y = X[:, :3] @ [1.0, 0.5, -0.5] + rng.normal(size=2000)
    with pytest.raises(bg.RankDeficientError):
        bg.GLM(y, X, family="gaussian").fit_mle()
    with pytest.raises(bg.RankDeficientError, match="rank deficient"):
        bg.ChunkedGLM(y, X, family="gaussian", chunk_rows=512).fit_mle(progress=False)


def test_copy_on_write_memmap_edits_are_used(tmp_path, poisson_rows):
    y, X, _ = poisson_rows
    np.save(tmp_path / "X.npy", X)
    mm = np.load(tmp_path / "X.npy", mmap_mode="c")
    mm[:, 1] *= 2.0  # in this process only (mode "c"): the file keeps the old values
    got = bg.ChunkedGLM(y, mm, family="poisson", chunk_rows=BLOCK).fit_mle(progress=False)
    ref = bg.GLM(y, np.asarray(mm), family="poisson").fit_mle()
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-10, atol=1e-14)


def test_only_the_first_pass_checks_the_design(poisson_rows, monkeypatch):
    # the first pass validates every block; the later ones (the IRLS iterations, the
    # log-likelihood, the null deviance) read the same rows and skip the finiteness check
    from bayesglm import design as design_module

    y, X, _ = poisson_rows
    Xa = design_module.aligned(X, copy=True)  # aligned blocks: checked (not copied) in place
    calls = []
    real = design_module._all_finite
    monkeypatch.setattr(design_module, "_all_finite", lambda a: calls.append(len(a)) or real(a))
    fit = bg.ChunkedGLM(y, Xa, family="poisson", chunk_rows=BLOCK).fit_mle(progress=False)
    assert fit.n_iter >= 3
    assert sum(calls) == N and len(calls) == 5  # the 5 blocks, once
