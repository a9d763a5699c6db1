"""The posterior of a GLM with group-level terms against rstanarm's stan_glmer (issue 11).

Reference: tests/reference/r/stan_glmer.R and its JSON: rstanarm 2.21.3's ``stan_glmer`` with
its default priors (fixed effects as stan_glm, the intercept on centred predictors;
``decov(1, 1, 1, 1)`` on the covariance, the Gaussian model's sd's in units of sigma;
``exponential(autoscale)`` on sigma), 4 chains x 1000 kept draws, seed 1234, on lme4's cbpp
(binomial, ``(1 | herd)``) and sleepstudy (Gaussian, ``(Days | Subject)``). bayesglm's
``priors="auto"`` on a mixed model are those priors, so the two posteriors are the same
distribution. Naming: rstanarm's ``(Intercept)`` is ``Intercept``, its ``period2`` is
``C(period)[T.2]``, its ``Sigma[herd:(Intercept),(Intercept)]`` is ``sd_herd__Intercept``
squared (the JSON holds the sd's and correlations per draw, summarised by rstan).

Tolerances: means within ``Z_MAX`` = 4 combined Monte Carlo standard errors (bayesglm's ArviZ
mcse_mean and rstan's se_mean), a false-failure chance of 6e-5 per quantity, 11 quantities:
< 0.1% for the file; sd's within 4 combined relative Monte Carlo errors, each ~1/sqrt(2 ESS)
(bulk ESS of bayesglm, n_eff of rstan): ~10% for sleepstudy's correlation, ~5-8% for the rest.
The seeds are fixed, so the outcome is deterministic. R-hat below 1.01 and no divergences.
Measured (2026-12-01, seed 1): |z| <= 1.8 (cbpp) and 1.1 (sleepstudy), sd's within 5.3%; minimum
bulk ESS 1493 and 1024 (rstanarm's n_eff: 1582 and 822).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg

R_DIR = Path(__file__).parent / "r"
REF = json.loads((R_DIR / "stan_glmer.json").read_text())
Z_MAX = 4.0

CASES = {
    "cbpp": ("incidence ~ C(period) + (1 | herd)", dict(family="binomial", trials="size"),
             {"Intercept": "(Intercept)", "C(period)[T.2]": "period2",
              "C(period)[T.3]": "period3", "C(period)[T.4]": "period4",
              "sd_herd__Intercept": "sd_herd__(Intercept)"}),
    "sleepstudy": ("Reaction ~ Days + (Days | Subject)", {},
                   {"Intercept": "(Intercept)", "Days": "Days",
                    "sd_Subject__Intercept": "sd_Subject__(Intercept)",
                    "sd_Subject__Days": "sd_Subject__Days",
                    "cor_Subject__Intercept__Days": "cor_Subject__(Intercept)__Days",
                    "sigma": "sigma"}),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    formula, kwargs, names = CASES[request.param]
    data = pd.read_csv(R_DIR / REF[request.param]["data_file"])
    model = bg.glm(formula, data, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(progress=False, seed=1)
    return request.param, model, fit, names, caught


def test_the_default_priors_are_rstanarms(case):
    name, model, _, names, _ = case
    ps = REF[name]["prior_summary"]
    table = model.prior_summary().set_index("parameter")
    assert table.loc["Intercept", "prior"].startswith("Normal(")
    slopes = [k for k in names if k in model.design.names and k != "Intercept"]
    got = [model.resolved_priors.coef[model.design.names.index(k)].sigma for k in slopes]
    np.testing.assert_allclose(got, ps["prior"]["adjusted_scale"], rtol=1e-9)
    cov = ps["prior_covariance"]
    assert cov["dist"] == "decov"
    (term,) = model.group_priors
    assert term.kind == "decov" and term.decov == bg.priors.Decov(
        cov["regularization"], cov["concentration"], cov["shape"], cov["scale"])
    assert term.unit_sigma == (name == "sleepstudy")  # rstanarm: sd's in units of sigma


def test_posterior_matches_stan_glmer(case):
    name, _, fit, names, _ = case
    s = fit.summary()
    ref = REF[name]["parameters"]
    for ours, theirs in names.items():
        r = ref[theirs]
        z = (s.loc[ours, "mean"] - r["mean"]) / math.hypot(s.loc[ours, "mcse_mean"],
                                                           r["se_mean"])
        assert abs(z) < Z_MAX, (ours, s.loc[ours, "mean"], r["mean"], z)
        rel = math.sqrt(1 / (2 * s.loc[ours, "ess_bulk"]) + 1 / (2 * r["n_eff"]))
        assert abs(s.loc[ours, "sd"] / r["sd"] - 1) < Z_MAX * rel, (ours, s.loc[ours, "sd"],
                                                                    r["sd"])


def test_the_sampler_converged_without_warnings(case):
    _, _, fit, _, caught = case
    s = fit.summary()
    assert s["r_hat"].max() < 1.01
    assert int(fit.idata.sample_stats["diverging"].sum()) == 0
    assert not [w for w in caught if issubclass(w.category, bg.SamplingWarning)]


def test_the_mle_column_is_lme4s_fit(case):
    _, model, fit, names, _ = case
    s = fit.summary()
    mle = model.fit_mle()
    vc = mle.varcorr()["estimate"]
    for k in names:
        want = mle.params[k] if k in mle.params.index else vc[k]
        assert s.loc[k, "mle"] == pytest.approx(want, rel=1e-12)
    assert list(s.index[:len(mle.params)]) == list(mle.params.index)
    np.testing.assert_allclose(s.loc[list(mle.params.index), "mle_se"], mle.bse, rtol=1e-12)
