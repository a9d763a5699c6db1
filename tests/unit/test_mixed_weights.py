"""Frequency weights with group-level terms: a row of weight k is k copies of that row (each a
draw of the same group's effects), so the weighted fit is the fit of the expanded data, exactly:
lmer's ML and REML, glmer's Laplace (binomial, Gamma with its dispersion). Deterministic."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg


def _data(seed: int = 7, groups: int = 10, per: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = rng.standard_normal(groups * per)
    b = rng.normal(0, 0.6, groups)[g]
    mu = np.exp(0.3 + 0.4 * x + b)
    return pd.DataFrame({
        "x": x, "g": [f"g{k}" for k in g], "w": rng.integers(1, 4, groups * per).astype(float),
        "gauss": 1 + 0.5 * x + b + rng.normal(0, 0.7, groups * per),
        "bern": (rng.random(groups * per) < 1 / (1 + np.exp(-(0.3 + x + b)))).astype(float),
        "gam": rng.gamma(3.0, mu / 3.0),
    })


CASES = [("gauss ~ x + (x | g)", dict(), False), ("gauss ~ x + (1 | g)", dict(), True),
         ("bern ~ x + (1 | g)", dict(family="binomial"), False),
         ("gam ~ x + (1 | g)", dict(family="gamma", link="log"), False)]


@pytest.mark.parametrize("formula, fam, reml", CASES)
def test_weighted_fit_is_the_fit_of_the_expanded_rows(formula, fam, reml):
    df = _data()
    expanded = df.loc[df.index.repeat(df["w"].astype(int))].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.EstimabilityWarning)  # a singular fit is no matter here
        wfit = bg.glm(formula, df, weights="w", **fam).fit_mle(reml=reml)
        efit = bg.glm(formula, expanded, **fam).fit_mle(reml=reml)
        unweighted = bg.glm(formula, df, **fam).fit_mle(reml=reml)
    np.testing.assert_allclose(wfit.params, efit.params, rtol=0, atol=1e-6)
    np.testing.assert_allclose(wfit.bse, efit.bse, rtol=1e-4)
    np.testing.assert_allclose(wfit.varcorr()["estimate"], efit.varcorr()["estimate"],
                               rtol=1e-4, atol=1e-7)
    assert wfit.llf == pytest.approx(efit.llf, abs=1e-6)
    assert wfit.nobs == len(df)  # the rows given (lme4's nobs); the weights sum to the rest
    assert abs(unweighted.llf - wfit.llf) > 1.0  # the weights are used


def test_posterior_with_frequency_weights_starts_at_the_weighted_fit():
    df = _data()
    model = bg.glm("bern ~ x + (1 | g)", df, family="binomial", weights="w")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)
        fit = model.fit(draws=200, warmup=200, chains=2, seed=2, progress=False)
    mle = model.fit_mle()
    s = fit.summary()
    np.testing.assert_allclose(s.loc[["Intercept", "x"], "mle"], mle.params, rtol=1e-12)
    # 140 weighted rows: the posterior mean of x within 3 posterior sds of the weighted MLE
    # (fails with probability well under 1e-3 if both are right)
    assert abs(s.loc["x", "mean"] - mle.params["x"]) < 3 * s.loc["x", "sd"]
