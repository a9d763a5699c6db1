"""The sampler's layout of the data (bayesglm.problem.for_sampler) gives the model's density.

``for_sampler`` drops a group term's column of ones (``Z b`` a gather alone) and, from
``sampling.FLOAT32_ROWS_MIN`` rows for the families that allow it, computes the per-row log
density in float32, summed in float64. Here the potential and its gradient in that layout are
compared with the plain float64 layout at random points: identical (to rounding) without float32,
within float32's rounding with it. Deterministic.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm._x64 import float64
from bayesglm.group_cov import layouts
from bayesglm.group_design import GroupRows
from bayesglm.mixed_bayes import term_priors
from bayesglm.sampling import compiled_model


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(11)
    n, L = 3000, 60
    g = rng.integers(0, L, n)
    x = rng.normal(size=n)
    eta = -0.3 + 0.8 * x + rng.normal(size=L)[g] + 0.4 * rng.normal(size=L)[g] * x
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"y": y, "x": x, "g": g, "h": rng.integers(0, 7, n)})
    return bg.glm("y ~ x + (1 | h) + (x | g)", df, family="binomial")


@float64
def _potential_and_grad(m, layout, points):
    groups = list(m.groups)
    lays = layouts(groups)
    structure, arrays = term_priors(m, lays)
    data = layout(pb.with_groups(pb.from_design(m.design), groups))
    _, pot_gen = compiled_model(m.family, structure)
    f = jax.jit(jax.value_and_grad(lambda p, d: pot_gen(data=d, priors=arrays)(p)))
    out = []
    for p in points:
        v, gr = f(p, data)
        out.append((float(v), jax.flatten_util.ravel_pytree(gr)[0]))
    return out


def _points(m, k=3):
    rng = np.random.default_rng(5)
    (f1, _), (f2, _) = m.groups
    n_theta, n_z = 1 + 3, f1.n_levels + 2 * f2.n_levels
    return [{"beta": rng.normal(0, 0.5, 2), "theta": rng.normal(-0.5, 0.3, n_theta),
             "z": rng.normal(0, 1, n_z)} for _ in range(k)]


def test_the_column_of_ones_is_dropped_for_the_sampler(model):
    data = float64(pb.for_sampler)(pb.with_groups(pb.from_design(model.design, device=False),
                                                  list(model.groups), device=False))
    assert data.groups[0].Z is None  # (1 | h)
    assert data.groups[1].Z is not None and data.groups[1].Z.shape[1] == 2  # (x | g)
    assert data.XT.dtype == np.float64


def test_the_sampler_layout_is_kept_when_built_again(model):
    """A plan made again on its own data keeps the same arrays (Plan.same_run reuses the
    program compiled ahead only for the same data objects)."""
    data = pb.with_groups(pb.from_design(model.design), list(model.groups))
    for f32 in (False, True):
        once = float64(pb.for_sampler)(data, float32=f32)
        assert float64(pb.for_sampler)(once, float32=f32) is once


def test_a_single_column_that_is_not_ones_is_kept():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(20, 1))
    rows = GroupRows(Z, np.zeros(20, np.int32))
    assert pb._ones_dropped(rows) is rows
    ones = GroupRows(np.ones((20, 1)), np.zeros(20, np.int32))
    assert pb._ones_dropped(ones).Z is None


def test_the_sampler_layout_has_the_model_s_density(model):
    pts = _points(model)
    plain = _potential_and_grad(model, lambda d: d, pts)
    ours = _potential_and_grad(model, pb.for_sampler, pts)
    for (v0, g0), (v1, g1) in zip(plain, ours):
        assert abs(v1 - v0) <= 1e-9 * abs(v0)
        np.testing.assert_allclose(g1, g0, rtol=1e-9, atol=1e-9)


def test_the_float32_likelihood_is_within_float32_rounding(model):
    """float32 per row, float64 sums: the log density within ~1e-7 relative of float64 (the
    rows' terms are O(1)), the gradient within 1e-4 of its scale; the differences between
    points (what NUTS reads) agree to 1e-3 absolute."""
    pts = _points(model)
    plain = _potential_and_grad(model, lambda d: d, pts)
    low = _potential_and_grad(model, lambda d: pb.for_sampler(d, float32=True), pts)
    for (v0, g0), (v1, g1) in zip(plain, low):
        assert v0 != v1  # float32 was used
        assert abs(v1 - v0) <= 1e-6 * abs(v0)
        np.testing.assert_allclose(g1, g0, rtol=0, atol=1e-4 * np.abs(g0).max())
    d0 = plain[1][0] - plain[0][0]
    d1 = low[1][0] - low[0][0]
    assert abs(d1 - d0) < 1e-3


def test_only_the_logit_and_small_count_log_kernels_go_to_float32():
    assert bg.families.Binomial().sampler_float32()
    assert not bg.families.Binomial("probit").sampler_float32()
    assert not bg.families.Binomial().sampler_float32(np.full(5, 20.0))  # O(trials) terms
    for fam in (bg.families.Gaussian(), bg.families.Gamma()):
        assert not fam.sampler_float32(y=np.ones(10))
    # Poisson, log link: while eps32 / 2 sqrt(sum (y (|log y| + 1) + 1)^2) <= 1e-3
    rng = np.random.default_rng(1)
    small = rng.poisson(3.0, 10**6).astype(float)
    assert bg.families.Poisson().sampler_float32(y=small)
    assert not bg.families.Poisson().sampler_float32(y=np.full(10**5, 500.0))
    assert not bg.families.Poisson("identity").sampler_float32(y=small)
    assert not bg.families.Poisson().sampler_float32()  # no y: no bound
    from bayesglm.families.base import float32_error

    assert float32_error(np.full(100, 2.0)) == pytest.approx(np.finfo(np.float32).eps * 10.0)


@pytest.fixture(scope="module")
def counts_model():
    rng = np.random.default_rng(12)
    n = 3000
    x = rng.normal(size=(n, 3))
    y = rng.poisson(np.exp(0.8 + x @ [0.3, -0.2, 0.1]))
    return bg.glm("y ~ x1 + x2 + x3", pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1],
                                                    "x3": x[:, 2]}), family="poisson")


@float64
def _plain_potential(m, layout, points):
    from bayesglm.model import prior_arrays, prior_structure

    structure = prior_structure(m.resolved_priors)
    arrays = prior_arrays(m.resolved_priors, structure)
    data = layout(pb.from_design(m.design))
    _, pot_gen = compiled_model(m.family, structure)
    f = jax.jit(jax.value_and_grad(lambda b, d: pot_gen(data=d, priors=arrays)({"beta": b})))
    return [(float(v), np.asarray(g)) for v, g in (f(b, data) for b in points)]


def test_the_float32_poisson_likelihood_is_within_float32_rounding(counts_model):
    """As the logistic's above: the counts' log density in float32, summed in float64, within
    1e-6 relative of float64's, the gradient within 1e-4 of its scale, differences between
    points to 1e-3."""
    mle = counts_model.fit_mle().params.to_numpy()
    rng = np.random.default_rng(6)
    pts = [mle + rng.normal(scale=0.02, size=4) for _ in range(3)]
    plain = _plain_potential(counts_model, lambda d: d, pts)
    low = _plain_potential(counts_model, lambda d: pb.for_sampler(d, float32=True), pts)
    for (v0, g0), (v1, g1) in zip(plain, low):
        assert v0 != v1  # float32 was used
        assert abs(v1 - v0) <= 1e-6 * abs(v0)
        np.testing.assert_allclose(g1, g0, rtol=0, atol=1e-4 * max(np.abs(g0).max(), 1.0))
    assert abs((low[1][0] - low[0][0]) - (plain[1][0] - plain[0][0])) < 1e-3


def test_the_float32_poisson_posterior_is_float64_s_within_mcse(counts_model, monkeypatch):
    """The counts' posterior with the float32 likelihood (forced from 0 rows) against
    float64's: every coefficient's mean within 4 combined MCSE (per coefficient a false failure
    ~6e-5 for independent runs), its sd within 10%. Fixed seeds."""
    from bayesglm import sampling

    f64 = counts_model.fit(seed=1, progress=False)
    monkeypatch.setattr(sampling, "FLOAT32_ROWS_MIN", 0)
    made = []  # the float32 layout was made (else the comparison would test nothing)
    monkeypatch.setattr(pb, "_float32", lambda d, f=pb._float32: made.append(1) or f(d))
    f32 = counts_model.fit(seed=2, progress=False)
    assert made
    s64, s32 = f64.summary(), f32.summary()
    tol = 4 * np.sqrt(s64["mcse_mean"] ** 2 + s32["mcse_mean"] ** 2)
    assert (np.abs(s64["mean"] - s32["mean"]) < tol).all(), (s64, s32)
    np.testing.assert_allclose(s32["sd"], s64["sd"], rtol=0.1)


def test_the_float32_posterior_is_float64_s_within_mcse(monkeypatch):
    """A logistic posterior sampled with the float32 likelihood (forced from 0 rows) against
    float64's: every coefficient's mean within 4 combined MCSE (per coefficient a false
    failure ~6e-5 for independent runs), its sd within 10%. Fixed seeds."""
    import arviz as az

    from bayesglm import sampling

    rng = np.random.default_rng(8)
    n = 2000
    x = rng.normal(size=(n, 2))
    eta = 0.3 + x @ [1.0, -0.5]
    df = pd.DataFrame({"y": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
                       "x1": x[:, 0], "x2": x[:, 1]})
    m = bg.glm("y ~ x1 + x2", df, family="binomial")
    f64 = m.fit(seed=1, progress=False)
    monkeypatch.setattr(sampling, "FLOAT32_ROWS_MIN", 0)
    f32 = m.fit(seed=2, progress=False)
    assert f32.sampler_run is not None
    s64, s32 = (az.summary(f.idata, var_names=["beta"], round_to="none") for f in (f64, f32))
    tol = 4 * np.sqrt(s64["mcse_mean"] ** 2 + s32["mcse_mean"] ** 2)
    assert (np.abs(s64["mean"] - s32["mean"]) < tol).all(), (s64, s32)
    np.testing.assert_allclose(s32["sd"], s64["sd"], rtol=0.1)


def test_the_sampler_reads_float32_data_from_the_threshold(monkeypatch):
    from bayesglm import sampling
    from bayesglm.model import prior_arrays, prior_structure

    rng = np.random.default_rng(9)
    df = pd.DataFrame({"y": rng.integers(0, 2, 50), "x": rng.normal(size=50)})
    for fam, rows_min, expected in (("binomial", 50, np.float32), ("binomial", 51, np.float64),
                                    ("poisson", 0, np.float32), ("poisson", 51, np.float64)):
        m = bg.glm("y ~ x", df, family=fam)
        monkeypatch.setattr(sampling, "FLOAT32_ROWS_MIN", rows_min)
        base = prior_structure(m.resolved_priors)
        plan = float64(sampling.make_plan)(
            m.family, base, pb.from_design(m.design, device=False),
            prior_arrays(m.resolved_priors, base), {"beta": 2},
            sampling.NUTSConfig(progress=False))
        assert plan.data.XT.dtype == expected and plan.data.y.dtype == expected, (fam, rows_min)
