"""The bundled data sets: present, small, documented (source, licence, variables), reproducible
from their recipe, and each fits the model it is shipped for (with outside numbers where known)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm.datasets import _make_datasets as recipe

NAMES = ["dobson", "claims", "challenger", "strikes", "anes96", "randhie", "wine"]
HERE = Path(bg.datasets.__file__).parent


def test_list_and_load():
    listed = bg.datasets.list()
    assert list(listed) == NAMES
    assert all(isinstance(v, str) and v for v in listed.values())
    for name in NAMES:
        df = bg.datasets.load(name)
        assert isinstance(df, pd.DataFrame) and len(df) > 0
        assert not df.isna().any().any()


@pytest.mark.parametrize("name", NAMES)
def test_each_set_is_small_and_documented(name):
    assert (HERE / f"{name}.csv").stat().st_size < 30_000  # a few KB each
    doc = bg.datasets.describe(name)
    for heading in ("Use:", "Source:", "Licence:", "Variables:"):
        assert heading in doc
    # every column is documented, and nothing else
    variables = doc.split("Variables:\n")[1].split("\n\n")[0].splitlines()
    documented = [line.split()[0] for line in variables]
    assert documented == list(bg.datasets.load(name).columns)
    assert name in bg.datasets.__doc__


def test_licences_are_stated():
    assert "public domain" in bg.datasets.describe("challenger").lower()
    for name in ("strikes", "anes96", "randhie"):
        assert "public domain" in bg.datasets.describe(name)
    assert "not subject to copyright" in " ".join(bg.datasets.describe("wine").split())
    claims = bg.datasets.describe("claims")
    assert "SYNTHETIC" in claims and "fixed seed" in claims and "_make_datasets.py" in claims


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown dataset 'nope'; available: anes96, challenger"):
        bg.datasets.load("nope")
    with pytest.raises(ValueError, match="unknown dataset"):
        bg.datasets.describe("nope")


@pytest.mark.parametrize("name", ["claims", "challenger", "wine"])
def test_recipe_reproduces_the_files(name):
    pd.testing.assert_frame_equal(recipe.MAKERS[name](), bg.datasets.load(name),
                                  check_dtype=False)


@pytest.mark.parametrize("name", ["strikes", "anes96", "randhie"])
def test_recipe_reproduces_the_public_domain_extracts(name):
    pytest.importorskip("statsmodels.datasets")
    made = recipe.MAKERS[name]()
    pd.testing.assert_frame_equal(made, bg.datasets.load(name), check_dtype=False)


# -- each set fits its model ------------------------------------------------------------------
def test_wine_is_the_clmm_reference_data():
    """The bundled wine rows are the ones ordinal::clmm was fitted on in
    tests/reference/r/glmm_families.R (its CSV, written from ordinal::wine), so the reference
    test's fit of them (tests/reference/test_glmm_families.py, case clmm_wine) is this data
    set's fit."""
    ref_dir = Path(__file__).parents[1] / "reference" / "r"
    pd.testing.assert_frame_equal(bg.datasets.load("wine"),
                                  pd.read_csv(ref_dir / "glmm_families_wine.csv"))


def test_challenger_reproduces_published_fits():
    df = bg.datasets.load("challenger")
    # R: glm(damaged ~ temp, family = binomial): 15.0429 (7.3786), -0.2322 (0.1082),
    # null deviance 28.267 on 22 df, residual deviance 20.315 on 21 df
    logit = bg.glm("damaged ~ temp", df, family="binomial").fit_mle()
    np.testing.assert_allclose(logit.params, [15.0429, -0.2322], atol=5e-5)
    np.testing.assert_allclose(logit.bse, [7.3786, 0.1082], atol=5e-5)
    assert logit.deviance == pytest.approx(20.315, abs=5e-4)
    assert logit.null_deviance == pytest.approx(28.267, abs=5e-4)
    # Dalal, Fowlkes & Hoadley (1989): binomial logit of distress out of 6: 5.085, -0.1156
    binom = bg.glm("distress ~ temp", df, family="binomial", trials="orings").fit_mle()
    np.testing.assert_allclose(binom.params, [5.085, -0.1156], atol=5e-4)


def test_claims_recovers_its_true_coefficients():
    df = bg.datasets.load("claims")
    mle = bg.glm("claims ~ age + vehicle + region", df, family="poisson",
                 exposure="holders").fit_mle()
    truth = pd.Series(recipe.CLAIMS_TRUE)
    assert list(mle.params.index) == list(truth.index)
    z = (mle.params - truth) / mle.bse
    assert np.all(np.abs(z) < 3.5)  # 10 coefficients, each |z| < 3.5: a 0.5% false alarm rate
    assert mle.deviance < 54 + 3 * np.sqrt(2 * 54)  # Poisson: deviance ~ chi2(54)


def test_strikes_gamma_anes96_logistic_randhie_negative_binomial():
    strikes = bg.glm("duration ~ iprod", bg.datasets.load("strikes"), family="gamma",
                     link="log").fit_mle()
    assert strikes.converged and strikes.params["iprod"] < 0  # longer strikes in slumps
    anes = bg.glm("vote ~ PID + age + educ + income", bg.datasets.load("anes96"),
                  family="binomial")
    assert anes.formula_spec.response_levels == ("Clinton", "Dole")
    assert anes.fit_mle().params["PID"] > 1.0  # Republican identification -> Dole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.ConvergenceWarning)
        nb = bg.glm("mdvis ~ lncoins + idp + physlm + disea + C(health, Treatment('excellent'))",
                    bg.datasets.load("randhie"), family="negative_binomial").fit_mle()
    assert nb.alpha is not None and nb.alpha > 0.3  # overdispersed counts
    assert "C(health, Treatment('excellent'))[T.poor]" in nb.params.index
