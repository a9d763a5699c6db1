"""Group-level terms from the formula to lme4's table: ``bg.glm("y ~ x + (x | g)", df).fit_mle()``
(issue 11). The numbers are lme4's (tests/reference/r/glmer_lme4.json, glmer_tight.json; each
R call is in the JSON and beside its test); the names follow DESIGN.md (``sd_<group>__<term>``,
``cor_<group>__<t1>__<t2>``, ``sigma``; formulaic's ``Intercept`` for lme4's
``(Intercept)``; bayesglm's nested group ``batch:cask`` for lme4's ``cask:batch``).
Deterministic.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg

R_DIR = Path(__file__).parent / "r"
REF = json.loads((R_DIR / "glmer_lme4.json").read_text())
TIGHT = json.loads((R_DIR / "glmer_tight.json").read_text())


@pytest.fixture(scope="module")
def sleepstudy():
    return pd.read_csv(R_DIR / "sleepstudy.csv")


def test_lmer_from_the_formula(sleepstudy):
    # lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)
    ref = REF["sleepstudy_ml"]
    res = bg.glm("Reaction ~ Days + (Days | Subject)", sleepstudy).fit_mle()
    np.testing.assert_allclose(res.params, ref["fixef"], rtol=1e-9)
    np.testing.assert_allclose(res.bse, ref["se"], rtol=1e-4)
    vc = res.varcorr()["estimate"]
    assert list(vc.index) == ["sd_Subject__Intercept", "sd_Subject__Days",
                              "cor_Subject__Intercept__Days", "sigma"]
    sd = ref["varcorr"][0]["sd"]
    np.testing.assert_allclose(vc.iloc[:2], sd, rtol=1e-4)
    assert vc["cor_Subject__Intercept__Days"] == pytest.approx(ref["varcorr"][0]["cor"][0][1],
                                                               abs=1e-4)
    assert vc["sigma"] == pytest.approx(ref["sigma"], rel=1e-4)
    assert res.llf == pytest.approx(ref["logLik"], abs=1e-6)
    assert res.aic == pytest.approx(ref["AIC"], abs=1e-5)
    assert res.bic == pytest.approx(ref["BIC"], abs=1e-5)
    assert res.ngroups == ref["ngroups"] and res.nobs == ref["nobs"]
    modes = res.ranef()["Subject"]
    want = ref["ranef"]["Subject"]
    assert list(modes.index) == want["levels"] and list(modes.columns) == ["Intercept", "Days"]
    np.testing.assert_allclose(modes["Days"], want["modes"]["Days"], rtol=1e-3, atol=1e-3)
    text = str(res.summary())
    assert "sd_Subject__Days" in text and "Subject (18 levels)" in text


def test_lmer_reml_and_nested_groups(sleepstudy):
    # lmer(..., REML = TRUE): lme4's logLik is -REMLcrit / 2
    ref = REF["sleepstudy_reml"]
    res = bg.glm("Reaction ~ Days + (Days | Subject)", sleepstudy).fit_mle(reml=True)
    assert res.reml and res.llf == pytest.approx(ref["logLik"], abs=1e-6)
    # lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = FALSE)
    ref = REF["pastes_ml"]
    pastes = pd.read_csv(R_DIR / "pastes.csv")
    res = bg.glm("strength ~ 1 + (1 | batch/cask)", pastes).fit_mle()
    assert res.ngroups == {"batch": 10, "batch:cask": 30}
    vc = res.varcorr()["estimate"]
    lme4 = {v["group"]: v["sd"][0] for v in ref["varcorr"]}
    assert vc["sd_batch__Intercept"] == pytest.approx(lme4["batch"], rel=1e-4)
    assert vc["sd_batch:cask__Intercept"] == pytest.approx(lme4["cask:batch"], rel=1e-4)
    assert res.llf == pytest.approx(ref["logLik"], abs=1e-6)


def test_glmer_from_the_formula_with_trials():
    # glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial), tight
    ref = TIGHT["cbpp"]["lme4_tight"]
    cbpp = pd.read_csv(R_DIR / "cbpp.csv")
    res = bg.glm("incidence ~ C(period) + (1 | herd)", cbpp, family="binomial",
                 trials="size").fit_mle()
    se = np.asarray(ref["se"])
    assert np.max(np.abs(res.params.to_numpy() - ref["fixef"]) / se) < 1e-4
    np.testing.assert_allclose(res.bse, se, rtol=1e-4)
    assert res.varcorr()["estimate"]["sd_herd__Intercept"] == pytest.approx(ref["theta"][0],
                                                                               rel=1e-4)
    assert res.llf == pytest.approx(ref["logLik"], abs=1e-6)
    assert list(res.varcorr().index) == ["sd_herd__Intercept"]  # no sigma in a GLMM


def test_what_is_not_built_yet_says_so(sleepstudy):
    model = bg.glm("Reaction ~ Days + (1 | Subject)", sleepstudy)
    for call in (model.fit_map, lambda: model.sample_prior(10)):  # fit() is built
        with pytest.raises(NotImplementedError, match="group-level terms is not built yet"):
            call()
    with pytest.raises(ValueError, match="reml=True"):
        bg.glm("Reaction ~ Days", sleepstudy).fit_mle(reml=True)
    with pytest.raises(ValueError, match="grouping factor 'Subj'.*not a column"):
        bg.glm("Reaction ~ Days + (1 | Subj)", sleepstudy)


def test_a_singular_fit_is_named():
    # every group has the same mean (values m - 1, m, m + 1): the ML between-group variance is
    # 0, as lme4 would report with "boundary (singular) fit" (isSingular: theta < 1e-4)
    g = np.repeat([f"g{k}" for k in range(8)], 3)
    df = pd.DataFrame({"y": np.tile([4.0, 5.0, 6.0], 8), "x": np.arange(24.0) % 3 == 0, "g": g})
    with pytest.warns(bg.EstimabilityWarning, match=r"singular fit.*sd_g__Intercept"):
        res = bg.glm("y ~ 1 + (1 | g)", df).fit_mle()
    assert res.varcorr()["estimate"]["sd_g__Intercept"] < 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error", bg.EstimabilityWarning)  # a regular fit: no warning
        bg.glm("Reaction ~ Days + (1 | Subject)", pd.read_csv(R_DIR / "sleepstudy.csv")).fit_mle()


def test_glmer_on_verbagg_crossed_terms_solved_by_levels():
    # glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), VerbAgg, binomial),
    # tight settings (glmer_tight.json, lme4_tight; agrees with glmmTMB). 316 ids crossed with
    # 24 items: the ids' blocks are eliminated level by level, the items' Schur complement is
    # 24 x 24 (bayesglm.group_solve). lme4's names: GenderM is Gender[T.M], btypescold
    # btype[T.scold], situself situ[T.self]. Reached (2026-12-01, glmer's two stages): fixed
    # effects 8.4e-5 SE, SEs 2.0e-4 relative (central-difference Hessian), theta 2.6e-6
    # relative, logLik 4.8e-9 above lme4's.
    ref = TIGHT["verbagg"]["lme4_tight"]
    d = pd.read_csv(R_DIR / "verbagg.csv")
    res = bg.glm("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", d,
                 family="binomial").fit_mle()
    assert list(res.params.index) == ["Intercept", "Anger", "Gender[T.M]", "btype[T.scold]",
                                      "btype[T.shout]", "situ[T.self]"]
    se = np.asarray(ref["se"])
    assert np.max(np.abs(res.params.to_numpy() - ref["fixef"]) / se) < 1e-3
    np.testing.assert_allclose(res.bse, se, rtol=1e-3)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-4)
    assert res.llf == pytest.approx(ref["logLik"], abs=1e-6)
    assert res.ngroups == {"id": 316, "item": 24}
