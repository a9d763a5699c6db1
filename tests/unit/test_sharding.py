"""Rows split across devices (bayesglm.sharding, irls_sharded) = the one-device fit.

The suite's process has 4 CPU host devices (bayesglm asks XLA for them at import, as for
parallel chains), so the split runs here as it would over 4 GPUs. The sharded IRLS adds the
same numbers in another order: agreement to 1e-12 relative, far below what one IRLS iteration
more or less would change (~1e-8), so a wrong psum, a padding row that counts, or a shard left
out fails these tests.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import bayesglm as bg
from bayesglm import mle as mle_module
from bayesglm.sharding import RowShards, row_devices

N = 1001  # not a multiple of 8 * devices: the last shard is padded


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(7)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, 3))])
    eta = X @ np.array([0.2, -0.3, 0.1, 0.25])
    off = rng.normal(0, 0.2, N)
    w = rng.integers(1, 4, N).astype(float)
    trials = rng.integers(1, 5, N).astype(float)
    return {
        "poisson": (rng.poisson(np.exp(eta + off)), dict(offset=off)),
        "binomial": (rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta))),
                     dict(trials=trials, weights=w)),
        "gaussian": (eta + rng.normal(0, 0.4, N), {}),
        "gamma": (rng.gamma(3.0, np.exp(eta) / 3.0), dict(weights=w)),
    }, X


def test_the_suite_has_several_devices():
    assert len(jax.devices()) >= 4, "bayesglm asks for 4 CPU host devices at import"


@pytest.mark.parametrize("family", ["poisson", "binomial", "gaussian", "gamma"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_sharded_equals_one_device(rows, family, k, monkeypatch):
    data, X = rows
    y, kw = data[family]
    fam = bg.families.Gamma(link="log") if family == "gamma" else family
    one = bg.GLM(y, X, family=fam, **kw).fit_mle(devices=1)
    calls = []
    real = mle_module.irls_sharded
    monkeypatch.setattr(mle_module, "irls_sharded",
                        lambda *a, **k_: calls.append(a[-1].devices.size) or real(*a, **k_))
    split = bg.GLM(y, X, family=fam, **kw).fit_mle(devices=k)
    assert calls == [k]  # the split program ran, over k devices
    np.testing.assert_allclose(split.params, one.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(split.bse, one.bse, rtol=1e-12)
    np.testing.assert_allclose(split.mu, one.mu, rtol=1e-12)
    for name in ("deviance", "pearson_chi2", "llf", "null_deviance"):
        assert getattr(split, name) == pytest.approx(getattr(one, name), rel=1e-12), name
    assert split.n_iter == one.n_iter and split.converged
    # the residuals need eta, which neither fit keeps (recomputed from X when first asked for)
    for name in ("resid_working", "resid_deviance", "resid_pearson"):
        np.testing.assert_allclose(getattr(split, name), getattr(one, name), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_automatic_split_above_the_row_threshold(rows, monkeypatch):
    data, X = rows
    y, kw = data["poisson"]
    assert row_devices(N) is None  # 1001 rows: below SHARD_MIN_ROWS
    monkeypatch.setenv("BAYESGLM_SHARD_MIN_ROWS", "1000")
    assert row_devices(N) == tuple(jax.devices())
    calls = []
    real = mle_module.irls_sharded
    monkeypatch.setattr(mle_module, "irls_sharded", lambda *a, **k_: calls.append(1)
                        or real(*a, **k_))
    auto = bg.GLM(y, X, family="poisson", **kw).fit_mle()
    assert calls == [1]
    one = bg.GLM(y, X, family="poisson", **kw).fit_mle(devices=1)
    np.testing.assert_allclose(auto.params, one.params, rtol=1e-12)


def test_placement_pads_only_the_last_shard():
    devs = tuple(jax.devices()[:3])
    s = RowShards(N, devs)
    assert s.m % 8 == 0 and s.m * 3 >= N and s.m * 2 < N
    a = np.arange(N, dtype=float)
    put = np.asarray(s.put(a, fill=0.0))
    np.testing.assert_array_equal(put[:N], a)
    assert np.all(put[N:] == 0.0) and put.shape == (3 * s.m,)
    X = np.arange(2 * N, dtype=float).reshape(N, 2)
    np.testing.assert_array_equal(np.asarray(s.put(X))[N:], np.repeat(X[-1:], s.pad, axis=0))


def test_devices_argument_errors(rows):
    data, X = rows
    y, kw = data["poisson"]
    model = bg.GLM(y, X, family="poisson", **kw)
    with pytest.raises(ValueError, match="devices: must be between 1 and the"):
        model.fit_mle(devices=99)
    with pytest.raises(TypeError, match="devices: a list of jax devices"):
        model.fit_mle(devices=["gpu0"])
    with pytest.raises(ValueError, match="more than once"):
        model.fit_mle(devices=[jax.devices()[0]] * 2)


def test_negative_binomial_with_alpha_estimated_stays_on_one_device(rows):
    data, X = rows
    y, kw = data["poisson"]
    a = bg.GLM(y, X, family="negative_binomial", **kw).fit_mle(devices=4)
    b = bg.GLM(y, X, family="negative_binomial", **kw).fit_mle(devices=1)
    np.testing.assert_array_equal(a.params, b.params)


def test_devices_only_for_plain_glms():
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.poisson(2, 60), "x": rng.normal(size=60),
                       "g": np.repeat(list("abcdef"), 10)})
    with pytest.raises(ValueError, match="devices: fit_mle splits the rows"):
        bg.glm("y ~ x + (1 | g)", df, family="poisson").fit_mle(devices=2)
