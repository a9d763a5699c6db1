"""Energy-conserving subsampling (bayesglm.subsample, ``fit(subsample=...)``).

* The Taylor expansion is the second-order one of every family's row log-likelihood: its
  residual l_i - q_i vanishes at the centre and is third order away from it (halving the step
  divides the residuals' variance by 2^6 = 64; a wrong second derivative would leave it second
  order, a factor 16), and the proxy's sums plus all the rows' residuals give the full
  log-likelihood (the difference estimator with m = n and every row once is exact).
* The subsampled posterior equals the full-data one within Monte Carlo error (logistic, and
  Gamma with its shape), and its estimate's variance is reported; a noisy estimate warns.
* Arguments are checked before any fitting, with the argument and the value in the message.
"""

from __future__ import annotations

import re
import warnings

import jax
import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm import problem as pb
from bayesglm import subsample as SS
from bayesglm._warnings import SamplingWarning
from bayesglm._x64 import float64
from bayesglm.families import get_family


def _rows(family, n=3000, seed=0):
    """(family, Problem, MLE coefficients, dispersion value at the MLE or None)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    eta = X @ [0.3, 0.4, -0.2]
    offset = rng.normal(scale=0.1, size=n)
    w = rng.integers(1, 4, n).astype(float)
    name = family.name
    mu = family.link.inverse(eta + offset)
    mu = np.asarray(mu)
    if name == "binomial":
        y = rng.binomial(1, mu).astype(float)
    elif name == "poisson":
        y = rng.poisson(mu).astype(float)
    elif name == "gamma":
        y = rng.gamma(4.0, mu / 4.0)
    elif name == "negative_binomial":
        y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    elif name == "inverse_gaussian":
        y = rng.wald(mu, 20.0)
    else:
        y = mu + rng.normal(scale=0.5, size=n)
    m = bg.GLM(y, X, family=family, offset=offset, weights=w)
    mle = m.fit_mle()
    disp = None
    if family.dispersion_param:
        disp = float(family.dispersion_from_scale(family.mle_scale(mle.scale, mle.alpha)))
    return m, pb.from_design(m.design), mle.params.to_numpy(), disp


FAMILIES = [("binomial", "logit"), ("binomial", "probit"), ("poisson", "log"),
            ("gamma", "log"), ("negative_binomial", "log"), ("inverse_gaussian", "log"),
            ("gaussian", "log")]


@pytest.mark.parametrize("name,link", FAMILIES)
@float64
def test_the_expansion_is_second_order_and_sums_to_the_log_likelihood(name, link):
    family = get_family(name, link)
    m, data, beta0, disp0 = _rows(family)
    proxy = SS.make_proxy(family, data, beta0, disp0)
    direction = np.array([0.02, -0.03, 0.025])
    steps = (1.0, 0.5)
    betas = np.stack([beta0 + t * direction for t in (0.0, *steps)])
    disps = None if disp0 is None else np.array([disp0 * np.exp(t * 0.05)
                                                 for t in (0.0, *steps)])
    v = SS.residual_variance(family, proxy, betas, disps)
    assert v[0] < 1e-25  # at the centre the expansion is the log-likelihood
    assert 40 < v[1] / v[2] < 100  # third order: 2^6 = 64 (second order would give 16)

    # every row once (m = n): the estimate without its variance term is the log-likelihood
    n = data.X.shape[0]
    full = proxy._replace(index=np.arange(n, dtype=np.int32))
    beta = betas[1]
    d = None if disps is None else disps[1]
    est = float(jax.jit(lambda b, s: SS.loglike(family, full, b, s))(beta, d))
    var = float(SS.residual_variance(family, proxy, beta[None],
                                     None if d is None else np.array([d]))[0])
    phi = family.fixed_scale() if d is None else family.scale_from_dispersion(d)
    exact = float(np.sum(np.asarray(data.weights) * np.asarray(family.loglike_eta(
        data.y, np.asarray(data.X) @ beta + np.asarray(data.offset), phi, None))))
    # loglike = l_hat - (n^2 / m) s^2 / 2, s^2 the sample variance = n / (n - 1) var
    assert est + 0.5 * n * n / (n - 1) * var == pytest.approx(exact, rel=1e-12, abs=1e-8)


def _simulated(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    eta = -0.4 + x @ [0.6, -0.3]
    return pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float),
                         "g": rng.gamma(3.0, np.exp(0.2 + x @ [0.3, 0.2]) / 3.0),
                         "x1": x[:, 0], "x2": x[:, 1]})


@pytest.fixture(scope="module")
def fits():
    """Full-data and subsampled fits of one logistic and one Gamma (log link) model."""
    df = _simulated(20_000, 5)
    out = {}
    for name, formula in (("binomial", "y ~ x1 + x2"), ("gamma", "g ~ x1 + x2")):
        family = get_family(name, "log" if name == "gamma" else None)
        m = bg.glm(formula, df, family=family)
        with warnings.catch_warnings():
            warnings.simplefilter("error", SamplingWarning)
            out[name] = (m.fit(progress=False, seed=1),
                         m.fit(progress=False, seed=2, subsample=600))
    return out


@pytest.mark.parametrize("name", ["binomial", "gamma"])
def test_the_subsampled_posterior_is_the_full_data_one(fits, name):
    full, sub = fits[name]
    a, b = full.summary(), sub.summary()
    # posterior means: |difference| / combined MCSE below 4 for every parameter (a false
    # failure about 6e-5 per parameter if both chains were exact, and the perturbed posterior
    # differs by much less than an MCSE here: sigma^2 ~ 1e-4); sd's within 8% (the sd's
    # Monte Carlo error is ~1.5% at ESS 4,000)
    z = (a["mean"] - b["mean"]).abs() / np.sqrt(a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2)
    assert (z < 4).all(), z
    assert np.allclose(b["sd"], a["sd"], rtol=0.08)
    attrs = sub.idata.posterior.attrs
    assert attrs["subsample"] == 600
    assert 0 < attrs["subsample_variance"] < SS.VARIANCE_WARN
    acc = sub.idata.sample_stats["subsample_acceptance"].values
    assert acc.shape == (4, 1000) and acc.mean() > 0.9
    assert "subsample" not in full.idata.posterior.attrs


@float64
def test_a_noisy_estimate_warns_with_a_larger_subsample():
    # draws far from the centre (2 coefficients off by 1.5): the residuals are large
    family = get_family("binomial")
    m, data, beta0, _ = _rows(family, n=2000, seed=2)
    proxy = SS.make_proxy(family, data, beta0)
    far = beta0 + np.array([[0.0, 1.5, -1.5]] * 4)
    with pytest.warns(SamplingWarning, match=r"about fit\(subsample=(\d+)\)") as rec:
        sigma2 = SS.check(family, proxy, 40, far)
    assert sigma2 > SS.VARIANCE_WARN
    better = int(re.search(r"subsample=(\d+)\)", str(rec[0].message)).group(1))
    assert better > 40 and better % SS.BLOCKS == 0


def test_the_fit_warns_when_the_estimate_is_noisy(monkeypatch):
    # the fit measures sigma^2 at its draws and hands it to the check (threshold lowered)
    monkeypatch.setattr(SS, "VARIANCE_WARN", 0.0)
    m = bg.glm("y ~ x1 + x2", _simulated(300, 7), family="binomial")
    with pytest.warns(SamplingWarning, match="subsampled log-likelihood is noisy"):
        fit = m.fit(progress=False, draws=200, warmup=100, chains=2, subsample=40,
                    chain_method="sequential")
    assert fit.idata.posterior.attrs["subsample_variance"] > 0


def test_auto_picks_the_smallest_size_within_the_target():
    family = get_family("poisson")
    m, data, beta0, _ = _rows(family, n=20_000, seed=3)
    proxy = SS.make_proxy(family, data, beta0)
    rng = np.random.default_rng(0)
    cov = m.fit_mle().cov_params().to_numpy()
    draws = beta0 + rng.standard_normal((16, 3)) @ np.linalg.cholesky(cov).T
    size = SS.choose_size(family, proxy, draws)
    assert size % SS.BLOCKS == 0 and SS.MIN_ROWS <= size <= 20_000
    v = SS.residual_variance(family, proxy, draws).max()
    n = 20_000
    assert n * n * v / size <= SS.VARIANCE_TARGET or size == SS.MIN_ROWS
    tight = SS.choose_size(family, proxy, draws, target=1e-9)
    assert tight == 20_000 or n * n * v / tight <= 1e-9
    assert tight > size


def test_the_same_seed_gives_the_same_draws(fits):
    df = _simulated(20_000, 5)
    m = bg.glm("y ~ x1 + x2", df, family="binomial")
    again = m.fit(progress=False, seed=2, subsample=600)
    first = fits["binomial"][1]
    np.testing.assert_array_equal(again.idata.posterior["beta"].values,
                                  first.idata.posterior["beta"].values)


def test_chains_on_one_device_and_the_ess_stop():
    df = _simulated(5_000, 9)
    m = bg.glm("y ~ x1 + x2", df, family="binomial")
    fit = m.fit(progress=False, chains=2, chain_method="sequential", subsample="auto",
                draws=1000, ess=300)
    assert fit.idata.posterior.sizes["draw"] < 1000
    assert fit.idata.posterior.attrs["subsample"] == SS.MIN_ROWS


@pytest.mark.parametrize("value,error,match", [
    (True, TypeError, "subsample must be None, 'auto' or a number of rows"),
    ("all", TypeError, "'all'"),
    (2.5, TypeError, "2.5"),
    (10, ValueError, "between 40 and the number of rows .300., got 10"),
    (301, ValueError, "got 301"),
])
def test_bad_sizes_fail_before_fitting(value, error, match):
    m = bg.glm("y ~ x1 + x2", _simulated(300, 1), family="binomial")
    with pytest.raises(error, match=match):
        m.fit(subsample=value)


def test_models_it_is_not_for_are_refused():
    df = _simulated(300, 1)
    df["grp"] = np.arange(300) % 10
    with pytest.raises(ValueError, match="sufficient statistics"):
        bg.glm("g ~ x1", df, family="gaussian").fit(subsample=100)
    with pytest.raises(ValueError, match="group-level terms"):
        bg.glm("y ~ x1 + (1 | grp)", df, family="binomial").fit(subsample=100)
    df["b"] = np.clip(df["g"] / (1 + df["g"]), 0.01, 0.99)
    with pytest.raises(ValueError, match="the beta family"):
        bg.glm("b ~ x1", df, family="beta").fit(subsample=100)


def test_sizes_are_rounded_to_whole_blocks():
    assert SS.check_size(41, 1000) == 60
    assert SS.check_size(1000, 1000) == 1000
    assert SS.check_size("auto", 1000) == "auto" and SS.check_size(None, 5) is None
