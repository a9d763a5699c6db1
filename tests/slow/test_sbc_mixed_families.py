"""Simulation-based calibration of a likelihood family with group-level terms (issue 12, "in
mixed models too"): a random-intercept cumulative-logit model, which exercises the exact-
likelihood Laplace start (the cutpoints as outer coordinates), the ``extra`` site beside the
group effects and the decov prior together.

Method and tests as tests/slow/test_sbc.py (Talts et al. 2018; ranks of the true values among
``L`` = 99 thinned draws; per parameter a chi-square test at p < 0.001 and the mean and
variance of the normalised ranks within 4 SE), for 6 parameters: ``x``, the three cutpoints,
``sd_g__Intercept`` and the first group's effect ``r_g[g0]``: family-wise false-failure rate
< 6 x (0.001 + 2 x 6.3e-5) < 0.7%. Seeds fixed: deterministic.

Set-up: 20 groups of 6 rows, one N(0, 1) covariate (drawn once, seed 1203), K = 4 categories.
Priors given to the model, and the simulation draws from exactly these: x ~ N(0, 1); the
cutpoints iid N(0, 1.5) given as each cutpoint's prior, which on the ordered vector is the
density of the sorted draws; the default ``decov()``, for one sd sd ~ Gamma(1, 1) =
Exponential(1); b_g ~ N(0, sd^2); P(Y <= k) = logistic(cutpoint_k - x beta - b_g). A
replication with an empty category is skipped (counted; at most 10% may be). Each fit: 2 chains
x 500 draws after the default warmup (1000 from the Laplace fit), thinned as test_sbc.py does.
``BAYESGLM_SBC_N`` overrides ``N_REPS`` (100: about 3 s a replication, the cost the slow tier
has room for).

Measured (2026-12-03, 2-core machine, N = 100): see the test's printout; the figures are in
the closing note of issue 12.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesglm as bg
from bayesglm.priors import Normal
from test_sbc import L, assert_uniform, fit_thinned, rank_statistics

pytestmark = pytest.mark.slow

N_REPS = int(os.environ.get("BAYESGLM_SBC_N", "100"))
N_GROUPS, PER_GROUP, K = 20, 6, 4
PARAMS = ["x", "cutpoints[1]", "cutpoints[2]", "cutpoints[3]", "sd_g__Intercept", "r_g[g0]"]

_rng = np.random.default_rng(1203)
GROUP = np.repeat([f"g{k}" for k in range(N_GROUPS)], PER_GROUP)
X = _rng.normal(size=N_GROUPS * PER_GROUP)
PRIORS = {"x": Normal(0.0, 1.0), "cutpoints": Normal(0.0, 1.5)}


def _draws(res) -> np.ndarray:
    """(chains, draws, 6) of the ranked parameters."""
    post = res.idata.posterior
    return np.concatenate([post["beta"].to_numpy(), post["cutpoints"].to_numpy(),
                           post["sd_g__Intercept"].to_numpy()[..., None],
                           post["r_g"].to_numpy()[:, :, :1, 0]], axis=-1)


def run_sbc() -> dict:
    ranks = []
    warns, refits, divergences, min_ess, skipped = Counter(), 0, 0, np.inf, 0
    n = N_GROUPS * PER_GROUP
    t0 = time.perf_counter()
    for r in range(N_REPS):
        g = np.random.default_rng([1203, 2026, r])
        beta = g.normal(0.0, 1.0)
        cuts = np.sort(g.normal(0.0, 1.5, size=K - 1))
        sd = g.exponential(1.0)
        b = g.normal(0.0, sd, size=N_GROUPS)
        eta = beta * X + np.repeat(b, PER_GROUP)
        cum = special.expit(cuts[None, :] - eta[:, None])
        y = (g.random(n)[:, None] > cum).sum(axis=1)  # category 0..K-1
        if len(np.unique(y)) < K:
            skipped += 1
            continue
        truth = np.concatenate([[beta], cuts, [sd, b[0]]])
        data = pd.DataFrame({"y": y, "x": X, "g": GROUP})
        fam = bg.families.Cumulative(levels=tuple(range(K)))
        model = bg.glm("y ~ x + (1 | g)", data, family=fam, priors=PRIORS)
        kept, res, n_refits, ess, names = fit_thinned(model, _draws, r, f"replication {r}")
        warns.update(names)
        refits += n_refits
        divergences += int(res.idata.sample_stats["diverging"].sum())
        min_ess = min(min_ess, ess)
        ranks.append(np.sum(kept < truth[None, :], axis=0))
    return {"ranks": np.array(ranks), "warnings": dict(warns), "refits": refits,
            "divergences": divergences, "min_ess": min_ess, "skipped": skipped,
            "seconds": time.perf_counter() - t0}


def test_sbc_random_intercept_cumulative_logit():
    out = run_sbc()
    table = rank_statistics(out["ranks"], PARAMS)
    print(f"\nSBC random-intercept cumulative logit: N = {len(out['ranks'])} (skipped "
          f"{out['skipped']}), L = {L}; {out['seconds']:.0f} s; refits {out['refits']}; "
          f"divergences {out['divergences']}; min bulk ESS {out['min_ess']:.0f}; warnings "
          f"{out['warnings']}\n{table.round(4).to_string()}")
    assert len(out["ranks"]) >= 0.9 * N_REPS
    assert_uniform(table)
