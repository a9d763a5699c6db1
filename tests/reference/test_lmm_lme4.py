"""The linear mixed model (bayesglm.lmm) against lme4's lmer (issue 11, Gaussian identity cases).

References: tests/reference/r/glmer_lme4.R (lme4 1.1-31, R 4.2), its JSON and the data CSVs;
CI reads the stored numbers only. Each case's R call is in the JSON (``call``) and written next
to its test below. Conventions: lme4's ``logLik`` of a REML fit is -REMLcrit / 2 (no
1/2 log|X'X| term), as ``LMMFit.llf``; ``vcov`` is sigma^2 (R_X'R_X)^-1 at the estimates; a
nested ``(1 | batch/cask)`` is lme4's ``cask:batch`` (levels "a:A") and bayesglm's
``batch:cask`` (levels "A:a"). Deterministic.

Tolerances, with what was reached (2026-12-01): fixed effects 1e-6 of their SE (reached 3e-13),
SEs 1e-4 relative (2.3e-5: lme4's nloptwrap stops at a slightly different theta), theta and
sd's 1e-4 relative (4e-5), logLik 1e-6 absolute (1.3e-8, ours never lower than lme4's by more
than 1e-9: the same optimum or past it), conditional modes 1e-3 of their conditional sd.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesglm.group_design import GroupFactor, GroupRows, factorize
from bayesglm.lmm import fit_lmm

R_DIR = Path(__file__).parent / "r"
REF = json.loads((R_DIR / "glmer_lme4.json").read_text())


def _sleepstudy(correlated):
    d = pd.read_csv(R_DIR / "sleepstudy.csv")
    X = np.column_stack([np.ones(len(d)), d["Days"]])
    idx, lev = factorize([d["Subject"].to_numpy()])
    terms = [(GroupFactor("Subject", ("(Intercept)", "Days"), lev, correlated),
              GroupRows(X, idx))]
    return X, d["Reaction"].to_numpy(), terms, {"Subject": "Subject"}


def _pastes():
    d = pd.read_csv(R_DIR / "pastes.csv")
    X = np.ones((len(d), 1))
    i1, l1 = factorize([d["batch"].to_numpy(), d["cask"].to_numpy()])
    i2, l2 = factorize([d["batch"].to_numpy()])
    # lme4 orders the terms by their number of levels (cask:batch, 30, first), as here
    terms = [(GroupFactor("batch:cask", ("(Intercept)",), l1, True), GroupRows(X, i1)),
             (GroupFactor("batch", ("(Intercept)",), l2, True), GroupRows(X, i2))]
    return X, d["strength"].to_numpy(), terms, {"batch:cask": "cask:batch", "batch": "batch"}


CASES = {
    # lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)
    "sleepstudy_ml": lambda: _sleepstudy(True),
    # lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)
    "sleepstudy_reml": lambda: _sleepstudy(True),
    # lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = FALSE)
    "sleepstudy_uncorr": lambda: _sleepstudy(False),
    # lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = FALSE) and REML = TRUE
    "pastes_ml": _pastes,
    "pastes_reml": _pastes,
}


@pytest.fixture(scope="module", params=[(c, d) for c in CASES for d in ("dense", "levels")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request):
    # every case twice: the penalised system formed densely, and level by level
    # (bayesglm.group_solve.BlockSystem: what models beyond DENSE_EFFECTS_MAX effects get)
    name, how = request.param
    X, y, terms, r_names = CASES[name]()
    ref = REF[name]
    fit = fit_lmm(X, y, terms, reml=ref["REML"], dense=how == "dense")
    return fit, terms, r_names, ref


def test_fixed_effects_and_standard_errors(case):
    fit, _, _, ref = case
    se_ref = np.asarray(ref["se"])
    assert fit.converged
    assert np.max(np.abs(fit.params - ref["fixef"]) / se_ref) < 1e-6
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_params)), se_ref, rtol=1e-4)


def test_covariance_parameters_and_loglik(case):
    fit, terms, r_names, ref = case
    np.testing.assert_allclose(fit.theta, ref["theta"], rtol=1e-4, atol=1e-6)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)
    # lme4 lists an uncorrelated (x || g) term as one VarCorr entry per column
    sds = {(v["group"], t): sd for v in ref["varcorr"] for t, sd in zip(v["terms"], v["sd"])}
    cors = {v["group"]: v["cor"] for v in ref["varcorr"] if len(v["terms"]) > 1}
    for (factor, _), cov in zip(terms, fit.covariances):
        group = r_names[factor.group]
        sd = np.sqrt(np.diag(cov))
        np.testing.assert_allclose(sd, [sds[group, t] for t in factor.terms], rtol=1e-4)
        if len(factor.terms) > 1 and factor.correlated:
            np.testing.assert_allclose(cov / np.outer(sd, sd), cors[group], atol=1e-4)
        elif len(factor.terms) > 1:
            assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 0
    assert fit.llf == pytest.approx(ref["logLik"], abs=1e-6)
    assert fit.llf >= ref["logLik"] - 1e-9  # never a worse optimum than lme4's
    assert fit.n_params == ref["logLik_df"]


def _level_map(ours, theirs):
    """lme4 labels an interaction 'inner:outer'; ours 'outer:inner'."""
    if ":" not in ours[0]:
        return list(ours)
    return [":".join(reversed(s.split(":"))) for s in ours]


def test_conditional_modes(case):
    fit, terms, r_names, ref = case
    for (factor, _), modes, cond_sd in zip(terms, fit.modes, fit.cond_sd):
        want = ref["ranef"][r_names[factor.group]]
        order = [want["levels"].index(lv) for lv in _level_map(factor.levels, want["levels"])]
        for k, term in enumerate(factor.terms):
            theirs = np.asarray(want["modes"][term])[order]
            their_sd = np.asarray(want["cond_sd"][term])[order]
            np.testing.assert_array_less(np.abs(modes[:, k] - theirs), 1e-3 * their_sd)
            np.testing.assert_allclose(cond_sd[:, k], their_sd, rtol=1e-3)
