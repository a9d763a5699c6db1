"""The sampler's rows split over devices (``fit(devices=...)``, bayesglm.problem.shard_rows),
on the 4 host devices bayesglm asks XLA for.

* The log density and its gradient with the rows over 2, 3 and 4 devices equal the
  one-device ones to rounding (1e-12 relative; the sums are only added in another order), for
  a logistic model with offset and weights, a binomial with trials, Poisson and Gamma with its
  shape, and with row counts that leave the last shard padded.
* A fit with the rows split samples the same posterior (means within Monte Carlo error; the
  same seed's first draws agree closely).
* The automatic rule keeps a chain per host device on a CPU; bad combinations are refused.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm import sampling, sharding
from bayesglm._x64 import float64
from bayesglm.families import get_family
from bayesglm.model import prior_arrays, prior_structure


def _frame(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    eta = 0.2 + x @ [0.5, -0.4]
    trials = rng.integers(1, 6, n).astype(float)
    return pd.DataFrame({
        "b": rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float),
        "k": rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta))) / trials,
        "t": trials, "c": rng.poisson(np.exp(eta)).astype(float),
        "g": rng.gamma(3.0, np.exp(eta) / 3.0), "x1": x[:, 0], "x2": x[:, 1],
        "w": rng.integers(1, 4, n).astype(float), "o": rng.normal(scale=0.1, size=n)})


MODELS = {
    "logistic": dict(formula="b ~ x1 + x2", family="binomial", offset="o", weights="w"),
    "trials": dict(formula="k ~ x1 + x2", family="binomial", trials="t"),
    "poisson": dict(formula="c ~ x1 + x2", family="poisson", weights="w"),
    "gamma": dict(formula="g ~ x1 + x2", family=get_family("gamma", "log")),
}


@float64
def _density(m, devices, points):
    structure = prior_structure(m.resolved_priors)
    arrays = prior_arrays(m.resolved_priors, structure)
    data = pb.for_sampler(pb.from_design(m.design), devices=devices)
    _, pot_gen = sampling.compiled_model(m.family, structure)
    f = jax.jit(jax.value_and_grad(lambda z, d: pot_gen(data=d, priors=arrays)(z)))
    return [(float(v), np.concatenate([np.ravel(g[k]) for k in sorted(g)]))
            for v, g in (f(z, data) for z in points)]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("k", [2, 3, 4])
def test_the_density_over_devices_is_the_one_device_density(name, k):
    spec = dict(MODELS[name])
    m = bg.glm(spec.pop("formula"), _frame(1001), **spec)  # 1001 rows: padded shards
    mle = m.fit_mle().params.to_numpy()
    rng = np.random.default_rng(k)
    points = []
    for _ in range(3):
        z = {"beta": mle + rng.normal(scale=0.05, size=3)}
        if m.family.dispersion_param:
            z[m.family.dispersion_param] = np.float64(np.exp(rng.normal(scale=0.1)) * 3.0)
        points.append(z)
    one = _density(m, None, points)
    split = _density(m, jax.local_devices()[:k], points)
    for (v0, g0), (v1, g1) in zip(one, split):
        assert v1 == pytest.approx(v0, rel=1e-12)
        np.testing.assert_allclose(g1, g0, rtol=1e-10, atol=1e-10 * np.abs(g0).max())


def test_the_rows_are_on_the_devices_and_padded_with_zero_weights():
    m = bg.glm("b ~ x1 + x2", _frame(1001), family="binomial")
    devs = jax.local_devices()[:3]
    data = pb.for_sampler(pb.from_design(m.design), devices=devs)
    assert data.XT is None and data.X.shape == (3 * 336, 3)
    assert {s.device for s in data.X.addressable_shards} == set(devs)
    w = np.asarray(data.weights)
    assert w[:1001].tolist() == [1.0] * 1001 and not w[1001:].any()


@pytest.fixture(scope="module")
def pair():
    m = bg.glm("b ~ x1 + x2", _frame(4000, seed=3), family="binomial", offset="o")
    kw = dict(progress=False, chains=2, seed=4, chain_method="sequential")
    return m.fit(**kw), m.fit(devices=2, **kw)


def test_a_split_fit_samples_the_same_posterior(pair):
    one, split = pair
    a, b = one.summary(), split.summary()
    # the same seed and start: the chains follow the same path until rounding moves an
    # accept/reject or a U-turn decision; whatever their paths, the means agree within 4
    # combined MCSE (a false failure ~6e-5 per coefficient for independent chains)
    z = (a["mean"] - b["mean"]).abs() / np.sqrt(a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2)
    assert (z < 4).all(), z
    first = np.asarray(one.idata.posterior["beta"])[:, :20]
    np.testing.assert_allclose(np.asarray(split.idata.posterior["beta"])[:, :20], first,
                               rtol=1e-6, atol=1e-8)
    assert split.idata.posterior.attrs["chain_method"] == "sequential"


def test_the_automatic_rule_keeps_a_chain_per_host_device():
    assert jax.local_devices()[0].platform == "cpu"
    assert sharding.sampler_devices(10**7, 4) is None
    assert sharding.sampler_devices(10**7, 8) is None
    assert sharding.sampler_devices(100, 4, 2) == tuple(jax.local_devices()[:2])
    assert sharding.sampler_devices(100, 4, 1) is None


def test_bad_combinations_are_refused():
    df = _frame(200)
    m = bg.glm("b ~ x1 + x2", df, family="binomial")
    with pytest.raises(ValueError, match="chain_method='parallel'"):
        m.fit(devices=2, chain_method="parallel")
    with pytest.raises(ValueError, match="devices: must be between 1 and the"):
        m.fit(devices=99)
    df["grp"] = np.arange(200) % 5
    with pytest.raises(ValueError, match="devices: fit\\(\\) splits the rows"):
        bg.glm("b ~ x1 + (1 | grp)", df, family="binomial").fit(devices=2)
