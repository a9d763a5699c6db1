"""Simulation-based calibration (SBC) of bayesglm's NUTS fit: logistic and Poisson regression.

Method (Talts, Betancourt, Simpson, Vehtari & Gelman 2018, "Validating Bayesian inference
algorithms with simulation-based calibration", arXiv:1804.06788, Algorithm 2): for each of
``N_REPS`` replications, draw theta from the prior, y from the likelihood given theta, fit the
model with bayesglm, and record the rank of each true parameter among ``L`` roughly independent
posterior draws. For a correct sampler every rank is uniform on {0, ..., L}.

Set-up
------
* Fixed design: n = 80 rows, ``const`` plus two N(0, 1) covariates drawn once (seed 2018), the
  same for every replication so that the sampler compiles once per family.
* Priors: Normal(0, 1) on all three coefficients, given as an explicit dict (so they do not depend
  on the simulated y; a dict prior on ``const`` is on the uncentred intercept) -- theta is drawn
  from exactly these.
* Each fit: 2 chains x ``DRAWS`` = 500 draws after bayesglm's default warmup (200 from the MLE;
  500 from the posterior mode where the MLE does not exist). Thinning as Talts et al. recommend
  (their section 5.1: thin so that the retained draws are about independent): with ESS the
  smallest bulk ESS over the three coefficients (ArviZ, both chains), every chain is thinned by
  ``k = max(10, ceil(2 DRAWS / ESS))`` and the first ``L`` = 99 thinned draws are kept (ranks
  0..99: 100 values). Where ESS is too low for that (k > 10), the replication is refitted with
  proportionally more draws (counted, and reported).

Tests per parameter (3 per model, 6 in all), each at a per-test false-failure rate tuned for a
Bonferroni family-wise rate:
* chi-square test of uniformity of the ranks in B = 20 bins of 5 ranks (10 expected per bin at
  N = 200): fail at p < ``ALPHA`` = 0.001, i.e. family-wise <= 6 x 0.001 = 0.6%;
* the mean of the normalised ranks u = rank / L within 0.5 +- 4 SE (SE from the exact discrete
  uniform, sqrt(var / N)): catches a biased (shifted) sampler; false-failure 6.3e-5 per test;
* the variance of u within its uniform value +- 4 SE (SE from the uniform's 4th moment): catches
  posteriors that are too narrow (U-shaped ranks) or too wide (hump-shaped ranks).
All three together: family-wise false-failure rate < 1% (the seeds are fixed, so the outcome is
deterministic; that is the chance that the seeds are unlucky).

Power at N = 200 (simulated with independent normal draws, 2000 runs each; the power against
both models' 6 parameters is higher): a sampler whose draws are shifted by 0.5 posterior sd is
caught with probability > 0.99, by 0.3 sd 0.57, by 0.2 sd 0.13; one whose sd is 0.7 / 0.8 of
the true one 0.97 / 0.47; 1.3 / 1.5 times the true one 0.63 / 0.998. So this test catches gross
errors (a wrong likelihood, a prior off by a lot, a broken mass matrix or adaptation), not
errors of a few percent -- those are what ``test_posterior_reference.py`` is for.

Run time (measured on the shared 2-core machine at load average 10-17, printed per model): 140-190 s
per model (200 fits of ~0.5 s CPU plus one ~40 s compilation); the whole file 5.3-6.4 min wall,
1.8 min CPU. Results then: no divergences, every start at the MLE, no refits, smallest bulk ESS
453 (of 1000 draws), one R-hat warning (1.020, logistic replication 197 -- 2 chains of 500 draws
exceed 1.01 now and then by chance). ``BAYESGLM_SBC_N`` overrides N; the power above is for
N = 200.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import Counter

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesglm as bg
from bayesglm.priors import Normal

pytestmark = pytest.mark.slow

N_REPS = int(os.environ.get("BAYESGLM_SBC_N", "200"))
N_ROWS = 80
DRAWS, CHAINS = 500, 2
L = 99  # retained draws: ranks 0..L
BINS = 20
ALPHA = 0.001  # per chi-square test
Z_MAX = 4.0  # mean / variance of normalised ranks

_rng = np.random.default_rng(2018)
X = pd.DataFrame({"const": np.ones(N_ROWS), "x1": _rng.normal(size=N_ROWS),
                  "x2": _rng.normal(size=N_ROWS)})
PRIORS = {c: Normal(0.0, 1.0) for c in X.columns}
NAMES = list(X.columns)

MODELS = {
    "logistic": ("binomial", lambda g, eta: g.binomial(1, special.expit(eta)).astype(float)),
    "poisson": ("poisson", lambda g, eta: g.poisson(np.exp(eta)).astype(float)),
}


def _thinned(res, k_min: int):
    """(draws (L, p) or None, thinning factor, min bulk ESS) as in the module docstring."""
    post = res.idata.posterior["beta"].sel(coef=NAMES).to_numpy()  # (chains, draws, p)
    n_chains, n_draws, _ = post.shape
    ess = float(az.ess(res.idata, var_names=["beta"], method="bulk")["beta"].min())
    k = max(k_min, math.ceil(n_chains * n_draws / ess))
    kept = np.concatenate([post[c, ::k] for c in range(n_chains)], axis=0)
    return (kept[:L] if len(kept) >= L else None), k, ess


def run_sbc(model: str) -> dict:
    family, simulate = MODELS[model]
    Xa = X.to_numpy()
    ranks = np.empty((N_REPS, len(NAMES)), dtype=int)
    starts, warns, refits = Counter(), Counter(), 0
    divergences, min_ess = 0, np.inf
    t0 = time.perf_counter()
    k_min = CHAINS * DRAWS // (L + 1)  # 10
    for r in range(N_REPS):
        g = np.random.default_rng([1804, 6788, r, len(model)])
        theta = g.normal(0.0, 1.0, size=len(NAMES))  # the prior, Normal(0, 1) on each
        y = simulate(g, Xa @ theta)
        draws_per_chain = DRAWS
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = bg.GLM(y, X, family=family, priors=PRIORS).fit(
                    draws=draws_per_chain, chains=CHAINS, seed=r, progress=False)
            warns.update(f"rep {r}: {type(w.message).__name__}: {str(w.message)[:70]}"
                         for w in caught)
            kept, k, ess = _thinned(res, k_min * draws_per_chain // DRAWS)
            if kept is not None:
                break
            refits += 1
            draws_per_chain = math.ceil(k * (L + 1) / CHAINS / DRAWS) * DRAWS
            if draws_per_chain > 8 * DRAWS:
                pytest.fail(f"{model} replication {r}: bulk ESS {ess:.0f} of {CHAINS} x "
                            f"{draws_per_chain} draws -- the sampler mixes far too slowly")
        starts[res.start] += 1
        divergences += int(res.idata.sample_stats["diverging"].sum())
        min_ess = min(min_ess, ess)
        ranks[r] = np.sum(kept < theta[None, :], axis=0)
    elapsed = time.perf_counter() - t0
    return {"ranks": ranks, "starts": dict(starts), "warnings": dict(warns), "refits": refits,
            "divergences": divergences, "min_ess": min_ess, "seconds": elapsed}


def fit_thinned(model, extract, seed: int, label: str):
    """(kept draws (L, k), the fit, refits, min bulk ESS, warnings' class names) of a model fitted
    with ``CHAINS`` x ``DRAWS`` draws and thinned as the module docstring says, refitted with
    proportionally more draws where the ESS is too low; ``extract(fit)`` gives the ranked
    parameters' (chains, draws, k) draws. The replication loop of the other SBC files."""
    draws, refits, names = DRAWS, 0, []
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = model.fit(draws=draws, chains=CHAINS, seed=seed, progress=False)
        names += [type(w.message).__name__ for w in caught]
        d = extract(res)
        ess = float(min(az.ess(d[..., j]) for j in range(d.shape[-1])))
        k = max(CHAINS * draws // (L + 1), math.ceil(CHAINS * draws / ess))
        kept = np.concatenate([d[c, ::k] for c in range(CHAINS)], axis=0)
        if len(kept) >= L:
            return kept[:L], res, refits, ess, names
        refits += 1
        draws = math.ceil(k * (L + 1) / CHAINS / DRAWS) * DRAWS
        if draws > 8 * DRAWS:
            pytest.fail(f"{label}: bulk ESS {ess:.0f}: the sampler mixes far too slowly")


def rank_statistics(ranks: np.ndarray, names=None) -> pd.DataFrame:
    """Per parameter: chi-square p-value, and z of the mean and variance of u = rank / L."""
    names = NAMES if names is None else names
    n = ranks.shape[0]
    grid = np.arange(L + 1) / L  # exact moments of the discrete uniform u
    m, v = grid.mean(), grid.var()
    mu4 = np.mean((grid - m) ** 4)
    rows = {}
    for j, name in enumerate(names):
        counts = np.bincount(ranks[:, j] * BINS // (L + 1), minlength=BINS)
        u = ranks[:, j] / L
        rows[name] = {
            "chi2_p": stats.chisquare(counts).pvalue,
            "z_mean": (u.mean() - m) / math.sqrt(v / n),
            "z_var": (u.var() - v) / math.sqrt((mu4 - v**2) / n),
            "min_bin": counts.min(), "max_bin": counts.max(),
        }
    return pd.DataFrame(rows).T


def test_rank_statistics_calibrated():
    """The test statistics themselves: exact uniform ranks pass, shifted/too-narrow fail."""
    rng = np.random.default_rng(3)
    n = 200
    uniform = rng.integers(0, L + 1, size=(n, 3))
    s = rank_statistics(uniform)
    assert (s["chi2_p"] > ALPHA).all() and (s["z_mean"].abs() < Z_MAX).all()
    assert (s["z_var"].abs() < Z_MAX).all()
    th = rng.normal(size=(n, 3))
    shifted = rng.binomial(L, stats.norm.cdf(th - 0.6))  # draws biased up by 0.6 sd
    assert (rank_statistics(shifted)["z_mean"] < -Z_MAX).all()  # true values rank low
    narrow = rng.binomial(L, stats.norm.cdf(th / 0.6))  # posterior 40% too narrow
    assert (rank_statistics(narrow)["chi2_p"] < ALPHA).all()


@pytest.mark.parametrize("model", list(MODELS))
def test_sbc_uniform_ranks(model):
    out = run_sbc(model)
    table = rank_statistics(out["ranks"])
    print(f"\nSBC {model}: N = {N_REPS}, L = {L}, {BINS} bins; {out['seconds']:.0f} s; "
          f"starts {out['starts']}; refits {out['refits']}; divergences {out['divergences']}; "
          f"min bulk ESS {out['min_ess']:.0f}; warnings {out['warnings']}\n"
          f"{table.round(4).to_string()}")
    assert_uniform(table)


def assert_uniform(table: pd.DataFrame) -> None:
    """The three tests of the module docstring on :func:`rank_statistics`' table."""
    bad = table.index[table["chi2_p"] < ALPHA].tolist()
    assert not bad, f"ranks not uniform (chi-square p < {ALPHA}) for {bad}\n{table}"
    biased = table.index[table["z_mean"].abs() >= Z_MAX].tolist()
    assert not biased, f"mean normalised rank off 0.5 by >= {Z_MAX} SE for {biased}\n{table}"
    spread = table.index[table["z_var"].abs() >= Z_MAX].tolist()
    assert not spread, f"variance of normalised ranks off by >= {Z_MAX} SE for {spread}\n{table}"
