"""The families fitted on their exact likelihood against R (issue 12): Beta, beta-binomial and
Tweedie against glmmTMB (and the Tweedie density against its series summed by brute force),
ordinal models against ordinal::clm and MASS::polr, zero-inflated and hurdle counts against
pscl (its likelihood's maximum, Newton-polished in the script), Student-t against its exact
likelihood maximised in R (and glmmTMB's ``t_family``, which estimates the degrees of freedom
in glmmTMB 1.1.5).

References: tests/reference/r/families.R and its JSON (R 4.2.2, glmmTMB 1.1.5), data in
tests/reference/r/families_*.csv (simulated there). glmmTMB's estimates are polished there by
Newton steps with TMB's automatic Hessian to a gradient below 1e-11 (its nlminb stops at 2e-5 to
5e-4), and the standard errors are that Hessian's (TMB's ``sdreport`` differentiates the
gradient numerically: 2e-6 apart); the hand-written Student-t likelihood is maximised by nlminb
and Newton steps, its SEs the inverse of the Jacobian of its analytic gradient. Conventions:
glmmTMB's ``sigma(fit)`` is the Beta's and the beta-binomial's precision ``phi`` (Var = mu (1 -
mu) / (1 + phi) and n mu (1 - mu) (1 + (n - 1) / (phi + 1))), as bayesglm's; its dispersion
parameter ``betad`` is log(phi), and phi's SE is the delta method's, phi * SE(log phi), as
bayesglm's. Deterministic.

Tolerances, with the largest difference reached (2026-12-02) in brackets. Beta, beta-binomial,
Student-t, Tweedie: coefficients 1e-7 SE (1.7e-12), standard errors 1e-7 relative (8.5e-12),
the extra parameters 1e-7 relative (6.3e-12), their SEs 1e-7 relative (4.4e-10), logLik 1e-8
(6.8e-13). Ordinal: 1e-7 SE (2.3e-14), SEs 1e-7 (4e-15). Zero-inflated and hurdle: 1e-6 SE
(6.7e-13), SEs 1e-6 (2.4e-9). The issue asks for 1e-3 SE, 1e-3 and 1e-4 at least, tighter
where the reference converges tightly, as these do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg

R_DIR = Path(__file__).parent / "r"
REF = json.loads((R_DIR / "families.json").read_text())

CASES = {
    # glmmTMB(y ~ x1 + x2, family = beta_family(link = "logit")), then Newton-polished
    "beta_logit": ("y ~ x1 + x2", "families_beta.csv", bg.families.Beta("logit"), {}),
    # the same with link = "probit" and "cloglog"
    "beta_probit": ("y ~ x1 + x2", "families_beta.csv", bg.families.Beta("probit"), {}),
    "beta_cloglog": ("y ~ x1 + x2", "families_beta.csv", bg.families.Beta("cloglog"), {}),
    # glmmTMB(cbind(k, n - k) ~ x, family = betabinomial(link = "logit")): trials n
    "betabinomial_logit": ("k ~ x", "families_betabinomial.csv", bg.families.BetaBinomial(),
                           {"trials": "n"}),
    # the exact likelihood of y = X beta + sigma t_nu, maximised by nlminb in R
    "studentt_identity": ("y_identity ~ x1 + x2", "families_studentt.csv",
                          bg.families.StudentT(), {}),
    # y = exp(X beta) + sigma t_nu
    "studentt_log": ("y_log ~ x1 + x2", "families_studentt.csv", bg.families.StudentT("log"),
                     {}),
    # glmmTMB(y ~ x, family = tweedie(link = "log")): phi = sigma(fit), power = 1 + plogis(psi)
    # = family_params(fit); Var = phi mu^power, as bayesglm's
    "tweedie_log": ("y ~ x", "families_tweedie.csv", bg.families.Tweedie(), {}),
}

EXTRA = {"beta": ("phi",), "betabinomial": ("phi",), "studentt": ("sigma", "nu"),
         "tweedie": ("phi", "power")}

_reached: dict = {}  # reported after the module (tests/conftest.py)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    name = request.param
    formula, file, family, kw = CASES[name]
    df = pd.read_csv(R_DIR / file)
    mle = bg.glm(formula, df, family=family, **kw).fit_mle()
    return name, REF[name], mle


def _note(key, value):
    _reached[key] = max(_reached.get(key, 0.0), float(value))


def test_coefficients_and_standard_errors(case):
    name, ref, mle = case
    p = len(ref["coef"])
    coef, se = np.asarray(ref["coef"]), np.asarray(ref["se"])
    dz = np.max(np.abs(mle.params.iloc[:p].to_numpy() - coef) / se)
    dse = np.max(np.abs(mle.bse.iloc[:p].to_numpy() / se - 1))
    _note("coef_se", dz)
    _note("se_rel", dse)
    assert dz < 1e-7, (name, dz)
    assert dse < 1e-7, (name, dse)


def test_extra_parameters_and_their_standard_errors(case):
    name, ref, mle = case
    for q in EXTRA[name.split("_")[0]]:
        d = abs(mle.params[q] / ref[q] - 1)
        dse = abs(mle.bse[q] / ref[f"{q}_se"] - 1)
        _note("extra_rel", d)
        _note("extra_se_rel", dse)
        assert d < 1e-7, (name, q, mle.params[q], ref[q])
        assert dse < 1e-7, (name, q, mle.bse[q], ref[f"{q}_se"])
        assert getattr(mle, q) == mle.params[q]


def test_log_likelihood_aic_bic(case):
    name, ref, mle = case
    _note("logLik", abs(mle.llf - ref["logLik"]))
    assert mle.llf == pytest.approx(ref["logLik"], abs=1e-8)
    # R's AIC(fit) = -2 logLik + 2 df, df = logLik's df (coefficients + extra parameters)
    assert mle.k_params == ref["logLik_df"]
    assert mle.nobs == ref["nobs"]
    assert mle.converged


def test_student_t_glmmtmb_cross_check():
    """glmmTMB(y_identity ~ x1 + x2, family = t_family) estimates df = exp(psi) in glmmTMB
    1.1.5: the same maximum as the hand-written likelihood (the script: coefficients 2e-15 apart,
    logLik 3e-13), so the reference does not rest on one implementation."""
    ref, tmb = REF["studentt_identity"], REF["studentt_glmmtmb"]
    np.testing.assert_allclose(tmb["coef"], ref["coef"], rtol=1e-7)
    assert tmb["logLik"] == pytest.approx(ref["logLik"], abs=1e-8)


def test_tweedie_density_against_the_brute_force_series():
    """log f(y; mu, phi, p) at 23 points (y from 0 to 50, mu 0.5-20, phi 0.3-5, p 1.1-1.9),
    the R script's sum over j <= 20000 of Pois(j; lambda) Gamma(y; j shape, scale) in log space
    (each also equal to glmmTMB's own density to 1.4e-12): within 1e-11 absolute (reached
    5.4e-13, at y = 10, mu = 20, phi = 0.3, p = 1.1)."""
    import jax

    from bayesglm.families.tweedie import tweedie_logpdf

    pts = REF["tweedie_density"]
    cols = {k: np.array([q[k] for q in pts], dtype=float) for k in ("y", "mu", "phi", "p")}
    with jax.enable_x64(True):
        got = np.asarray(tweedie_logpdf(cols["y"], cols["mu"], cols["phi"], cols["p"]))
    want = np.array([q["logdensity"] for q in pts])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11)


# ---------------------------------------------------------------------------------------------
# ordinal: MASS::polr and ordinal::clm on MASS's housing


def _housing() -> pd.DataFrame:
    df = pd.read_csv(R_DIR / "families_housing.csv")
    levels = REF["polr_logistic"]["levels"]
    for col, lv in levels.items():
        df[col] = pd.Categorical(df[col], categories=lv, ordered=(col == "Sat"))
    return df


@pytest.fixture(scope="module", params=["logit", "probit", "cloglog"])
def ordinal(request):
    link = request.param
    fam = bg.families.Cumulative(link)
    mle = bg.glm("Sat ~ Infl + Type + Cont", _housing(), family=fam, weights="Freq").fit_mle()
    return link, mle


def test_ordinal_against_clm_and_polr(ordinal):
    """clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, link = ...) with tight
    gradTol, whose estimates the script's Newton steps on its own hand-written likelihood leave
    where they are (max gradient 6e-14): coefficients and cutpoints within 1e-7 SE (reached
    2.3e-14), SEs (clm's analytic Hessian) 1e-7 relative (reached 4e-15), logLik 1e-8.
    Conventions: both P(Y <= k) = F(zeta_k - x'beta), zeta = bayesglm's cutpoints in order, the
    coefficients with polr's and clm's sign; R's names InflMedium ... are formulaic's
    Infl[T.Medium] ... in the same order; nobs is R's sum of the frequency weights, bayesglm's the
    number of rows (72). MASS::polr stops at a gradient of 1.6e-5: its estimates agree within
    1e-6 SE."""
    link, mle = ordinal
    clm, polr = REF[f"clm_{link}"], REF[{"logit": "polr_logistic"}.get(link, f"polr_{link}")]
    est = np.concatenate([clm["coef"], clm["zeta"]])
    se = np.concatenate([clm["se"], clm["zeta_se"]])
    assert list(mle.params.index[-2:]) == ["cutpoints[1]", "cutpoints[2]"]
    assert [n.replace("[T.", "").replace("]", "") for n in mle.params.index[:6]] == \
        clm["coef_names"]
    dz = np.max(np.abs(mle.params.to_numpy() - est) / se)
    dse = np.max(np.abs(mle.bse.to_numpy() / se - 1))
    _note("ordinal_coef_se", dz)
    _note("ordinal_se_rel", dse)
    assert dz < 1e-7 and dse < 1e-7, (link, dz, dse)
    assert mle.llf == pytest.approx(clm["logLik"], abs=1e-8)
    assert mle.k_params == clm["logLik_df"] and mle.converged
    polr_est = np.concatenate([polr["coef"], polr["zeta"]])
    assert np.max(np.abs(mle.params.to_numpy() - polr_est) / se) < 1e-6


def test_ordinal_category_probabilities(ordinal):
    """predict() gives P(Y = k) per row summing to 1, equal to the differences of F at the
    cutpoints computed here with SciPy; the delta-method SEs against finite differences."""
    import scipy.stats as st

    link, mle = ordinal
    df = _housing().iloc[:6]
    pr = mle.predict(df)
    P = pr[["Low", "Medium", "High"]].to_numpy()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    X = np.column_stack([(df["Infl"] == "Medium"), (df["Infl"] == "High"),
                         (df["Type"] == "Apartment"), (df["Type"] == "Atrium"),
                         (df["Type"] == "Terrace"), (df["Cont"] == "High")]).astype(float)
    F = {"logit": st.logistic.cdf, "probit": st.norm.cdf,
         "cloglog": lambda x: -np.expm1(-np.exp(x))}[link]
    beta, kappa = mle.params.to_numpy()[:6], mle.params.to_numpy()[6:]
    cum = F(kappa[None, :] - (X @ beta)[:, None])
    want = np.diff(np.column_stack([np.zeros(6), cum, np.ones(6)]), axis=1)
    np.testing.assert_allclose(P, want, rtol=1e-10)
    assert np.all(pr[["Low_se", "Medium_se", "High_se"]].to_numpy() > 0)


# ---------------------------------------------------------------------------------------------
# zero-inflated and hurdle counts: pscl on its bioChemists

ZERO = "fem + mar + kid5 + phd + ment"
ZERO_CASES = {
    # pscl::zeroinfl(art ~ fem + mar + kid5 + phd + ment | <zero>, dist = ...)
    "zip_full": bg.families.ZeroInflatedPoisson(zi="~ " + ZERO),
    "zinb_full": bg.families.ZeroInflatedNegativeBinomial(zi="~ " + ZERO),
    "zip_const": bg.families.ZeroInflatedPoisson(),
    # pscl::hurdle(..., zero.dist = "binomial")
    "hurdle_pois_full": bg.families.HurdlePoisson(hu="~ " + ZERO),
    "hurdle_nb_full": bg.families.HurdleNegativeBinomial(hu="~ " + ZERO),
    "hurdle_pois_const": bg.families.HurdlePoisson(),
    "hurdle_nb_const": bg.families.HurdleNegativeBinomial(),
}


def _biochemists() -> pd.DataFrame:
    df = pd.read_csv(R_DIR / "families_biochemists.csv")
    df["fem"] = pd.Categorical(df["fem"], categories=["Men", "Women"])
    df["mar"] = pd.Categorical(df["mar"], categories=["Single", "Married"])
    return df


@pytest.fixture(scope="module", params=list(ZERO_CASES))
def zero_case(request):
    name = request.param
    mle = bg.glm("art ~ " + ZERO, _biochemists(), family=ZERO_CASES[name]).fit_mle()
    return name, REF[name], mle


def _from_pscl(name, ref, mle):
    """pscl's parameters (count coefficients, zero coefficients, log theta: the script's
    Newton-polished maximum, gradient below 3e-11) and their observed-information SEs, mapped to
    bayesglm's: a hurdle's hu = P(y = 0) = 1 - plogis(pscl's zero model), so hu_<name> = -pscl's
    coefficient; a constant zi (hu) is plogis (1 - plogis) of the zero intercept, SE by the delta
    method; alpha = 1 / theta = exp(-log theta), SE alpha * SE(log theta)."""
    pol = ref["polished"]
    par, se = np.asarray(pol["par"], float), np.asarray(pol["se"], float)
    k = len(ref["count_coef"])
    nz = len(ref["zero_coef_names"])
    est, err = list(par[:k]), list(se[:k])
    z, zse = par[k:k + nz], se[k:k + nz]
    hurdle = name.startswith("hurdle")
    if nz == 1 and "const" in name:
        p = 1 / (1 + np.exp(-z[0]))
        est.append(1 - p if hurdle else p)
        err.append(p * (1 - p) * zse[0])
    else:
        est += list(-z if hurdle else z)
        err += list(zse)
    if "nb" in name:
        alpha = np.exp(-par[-1])
        est.append(alpha)
        err.append(alpha * se[-1])
    return np.array(est), np.array(err)


def test_zero_inflated_and_hurdle_against_pscl(zero_case):
    """Every parameter within 1e-6 SE of the maximum of pscl's likelihood (reached: see the
    module docstring) and SEs 1e-6 relative; logLik 1e-8. pscl's own estimates (its optim
    stops at gradients of 2e-5 to 9e-4) are within 1e-3 SE. Names: zi_<name> / hu_<name> for a
    modelled zero part, zi / hu for a constant one, alpha last."""
    name, ref, mle = zero_case
    est, se = _from_pscl(name, ref, mle)
    dz = np.max(np.abs(mle.params.to_numpy() - est) / se)
    dse = np.max(np.abs(mle.bse.to_numpy() / se - 1))
    _note("zero_coef_se", dz)
    _note("zero_se_rel", dse)
    assert dz < 1e-6 and dse < 1e-6, (name, dz, dse)
    assert mle.llf == pytest.approx(ref["polished"]["logLik"], abs=1e-8)
    assert mle.k_params == ref["logLik_df"] and mle.converged
    assert mle.llf >= ref["logLik"] - 1e-9  # at least pscl's own maximum
    zn = "hu" if name.startswith("hurdle") else "zi"
    if "full" in name:
        assert f"{zn}_Intercept" in mle.params.index and f"{zn}_fem[T.Women]" in mle.params.index
    else:
        assert zn in mle.params.index


def test_zinb_constant_zero_part_runs_off_to_zero_with_a_warning():
    """zeroinfl(art ~ ... | 1, dist = "negbin"): the zero-inflation probability runs off to 0
    (pscl stops at logit -18.4); the supremum is the plain negative binomial's, MASS::glm.nb's
    logLik -1560.9583385 (5.2e-7 above pscl's): bayesglm warns, naming the limit, and reaches it
    within 1e-6."""
    with pytest.warns(bg.ConvergenceWarning, match="zi runs to 0"):
        mle = bg.glm("art ~ " + ZERO, _biochemists(),
                     family=bg.families.ZeroInflatedNegativeBinomial()).fit_mle()
    glm_nb = REF["zinb_const"]["glm_nb"]
    assert mle.llf == pytest.approx(glm_nb["logLik"], abs=1e-6)
    assert mle.params["alpha"] == pytest.approx(1 / glm_nb["theta"], rel=1e-5)
