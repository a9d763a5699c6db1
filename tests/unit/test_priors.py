"""Prior specifications and default priors (bayesglm.priors): fast, NumPy only, no sampling."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesglm import families as F
from bayesglm import priors as P
from bayesglm.design import Design

# mtcars (Motor Trend 1974, R's datasets::mtcars): mpg, wt (1000 lbs), am (0 automatic, 1 manual),
# rows in R's order (Mazda RX4, Mazda RX4 Wag, Datsun 710, ..., Maserati Bora, Volvo 142E).
MPG = [21.0, 21.0, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4,
       10.4, 14.7, 32.4, 30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26.0, 30.4, 15.8, 19.7,
       15.0, 21.4]
WT = [2.620, 2.875, 2.320, 3.215, 3.440, 3.460, 3.570, 3.190, 3.150, 3.440, 3.440, 4.070, 3.730,
      3.780, 5.250, 5.424, 5.345, 2.200, 1.615, 1.835, 2.465, 3.520, 3.435, 3.840, 3.845, 1.935,
      2.140, 1.513, 3.170, 2.770, 3.570, 2.780]
AM = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
      1, 1]


def design(y, cols, names, weights=None):
    X = np.column_stack([np.asarray(c, dtype=float) for c in cols])
    w = None if weights is None else np.asarray(weights, dtype=float)
    return Design(y=np.asarray(y, dtype=float), X=X, names=tuple(names), endog_name="y", weights=w)


@pytest.fixture
def mtcars():
    return design(MPG, [np.ones(32), WT, AM], ["Intercept", "wt", "am"])


@pytest.fixture
def logit_data():
    """Binary response; columns: constant, binary (0/3: range 3), continuous, constant 5."""
    rng = np.random.default_rng(1)
    n = 40
    b = np.where(rng.random(n) < 0.5, 0.0, 3.0)
    b[:2] = [0.0, 3.0]
    x = rng.normal(2.0, 4.0, n)
    y = (rng.random(n) < 0.5).astype(float)
    return design(y, [np.ones(n), b, x, np.full(n, 5.0)], ["const", "b", "x", "five"])


def r_format2(x):
    """R's format(x, digits = 2) for one number: 2 significant digits."""
    return float(f"{x:.2g}")


# -- "auto": rstanarm -------------------------------------------------------------------------
def test_auto_reproduces_rstanarm_vignette_mtcars(mtcars):
    # Source: rstanarm vignette "Prior Distributions for rstanarm Models" (Gabry & Goodrich),
    # https://mc-stan.org/rstanarm/articles/priors.html, section "Default priors and scale
    # adjustments": default_prior_test <- stan_glm(mpg ~ wt + am, data = mtcars, chains = 1);
    # prior_summary(default_prior_test) prints
    #   Intercept (after predictors centered)  Adjusted prior: ~ normal(location = 20, scale = 15)
    #   Coefficients  Adjusted prior: ~ normal(location = [0,0], scale = [15.40,30.20])
    #   Auxiliary (sigma)  Adjusted prior: ~ exponential(rate = 0.17)
    # (print.prior_summary.stanreg formats with digits = 2: 2 significant digits for scalars,
    # 2 decimals for the adjusted coefficient scales).
    r = P.resolve_priors("auto", mtcars, F.Gaussian())
    icpt, wt, am = r.coef
    assert isinstance(icpt, P.Normal) and isinstance(wt, P.Normal) and isinstance(am, P.Normal)
    assert (r_format2(icpt.mu), r_format2(icpt.sigma)) == (20.0, 15.0)
    assert (wt.mu, am.mu) == (0.0, 0.0)
    assert [round(wt.sigma, 2), round(am.sigma, 2)] == [15.40, 30.20]
    assert isinstance(r.dispersion, P.Exponential)
    assert r_format2(r.dispersion.rate) == 0.17
    # and the exact rules behind those digits
    sd_y = np.std(MPG, ddof=1)
    assert icpt.mu == pytest.approx(np.mean(MPG), rel=1e-14)
    assert icpt.sigma == pytest.approx(2.5 * sd_y, rel=1e-14)
    assert wt.sigma == pytest.approx(2.5 * sd_y / np.std(WT, ddof=1), rel=1e-14)
    assert am.sigma == pytest.approx(2.5 * sd_y / np.std(AM, ddof=1), rel=1e-14)  # sd, not range
    assert r.dispersion.rate == pytest.approx(1 / sd_y, rel=1e-14)
    assert r.source == "auto"
    assert r.intercept_index == 0 and r.intercept_centered
    np.testing.assert_allclose(r.x_means, [0.0, np.mean(WT), np.mean(AM)], rtol=1e-14)


def test_auto_non_gaussian_families(logit_data):
    r = P.resolve_priors("auto", logit_data, F.Binomial())
    sd = [np.std(logit_data.X[:, j], ddof=1) for j in range(4)]
    assert r.coef[0] == P.Normal(0.0, 2.5)  # s_y = 1, location 0 (not Gaussian-identity)
    assert r.coef[1].sigma == pytest.approx(2.5 / sd[1])  # two values: sd as well (rstanarm)
    assert r.coef[2].sigma == pytest.approx(2.5 / sd[2])
    assert r.coef[3] == P.Normal(0.0, 2.5)  # one unique value: not divided
    assert r.dispersion is None and r.dispersion_name is None
    assert P.resolve_priors("auto", logit_data, F.Poisson()).dispersion is None
    for fam, name in [(F.Gamma(), "shape"), (F.InverseGaussian(), "lam"),
                      (F.NegativeBinomial(), "alpha")]:
        r = P.resolve_priors("auto", logit_data, fam)
        assert r.dispersion == P.Exponential(1.0) and r.dispersion_name == name
        assert r.coef[0] == P.Normal(0.0, 2.5)
    # a NegativeBinomial with alpha fixed by the family has no alpha parameter, so no prior
    assert P.resolve_priors("auto", logit_data, F.NegativeBinomial(alpha=0.5)).dispersion is None


def test_auto_gaussian_non_identity_link_centres_at_zero(mtcars):
    r = P.resolve_priors("auto", mtcars, F.Gaussian("log"))
    assert r.coef[0] == P.Normal(0.0, 2.5 * np.std(MPG, ddof=1))
    assert r.dispersion.rate == pytest.approx(1 / np.std(MPG, ddof=1))


def test_auto_probit_factor(logit_data):
    # ?rstanarm::priors: default scales "are scaled by a factor of dnorm(0)/dlogis(0)" for the
    # probit link (set_prior_scale in rstanarm's R/misc.R), before autoscaling.
    factor = stats.norm.pdf(0) / stats.logistic.pdf(0)
    assert P.PROBIT_FACTOR == pytest.approx(factor, rel=1e-15)
    assert P.PROBIT_FACTOR == pytest.approx(1.5957691216057308, rel=1e-15)
    logit = P.resolve_priors("auto", logit_data, F.Binomial("logit"))
    probit = P.resolve_priors("auto", logit_data, F.Binomial("probit"))
    for lo, pr in zip(logit.coef, probit.coef):
        assert pr.sigma == pytest.approx(lo.sigma * factor, rel=1e-14)
        assert pr.mu == lo.mu == 0.0
    assert "dnorm(0)/dlogis(0)" in probit.table()["note"].iloc[1]
    # a user's prior is used as given, without the probit factor
    user = P.resolve_priors(P.Normal(0, 1), logit_data, F.Binomial("probit"))
    assert user.coef[1] == P.Normal(0, 1)


def test_auto_constant_response_falls_back_to_unit_scale():
    d = design(np.full(5, 3.0), [np.ones(5), np.arange(5.0)], ["const", "x"])
    r = P.resolve_priors("auto", d, F.Gaussian())
    assert r.coef[0] == P.Normal(3.0, 2.5)
    assert r.dispersion == P.Exponential(1.0)
    assert "undefined" in r.table()["note"].iloc[0]


def test_auto_min_scale_floor():
    d = design([0.0, 1.0, 0.0], [np.ones(3), [0.0, 1e20, 2e20]], ["const", "x"])
    r = P.resolve_priors("auto", d, F.Binomial())
    assert r.coef[1].sigma == 1e-12  # rstanarm's min_prior_scale


def test_weights_are_ignored_as_in_rstanarm(mtcars):
    w = np.arange(1.0, 33.0)
    weighted = design(MPG, [np.ones(32), WT, AM], ["Intercept", "wt", "am"], weights=w)
    a = P.resolve_priors("auto", mtcars, F.Gaussian())
    b = P.resolve_priors("auto", weighted, F.Gaussian())
    assert a.coef == b.coef and a.dispersion == b.dispersion
    np.testing.assert_array_equal(a.x_means, b.x_means)


def test_no_intercept_is_not_centred():
    d = design(MPG, [WT, AM], ["wt", "am"])
    r = P.resolve_priors("auto", d, F.Gaussian())
    assert r.intercept_index is None and not r.intercept_centered
    np.testing.assert_array_equal(r.x_means, [0.0, 0.0])
    assert r.coef[0].sigma == pytest.approx(2.5 * np.std(MPG, ddof=1) / np.std(WT, ddof=1))


def test_intercept_column_not_one_is_rescaled():
    # constant column 2: the centred linear predictor at the means is 2 b0 + xbar beta; its
    # Normal(0, 2.5) prior is a Normal(0, 1.25) prior on b0 + (xbar / 2) beta
    x = np.arange(6.0)
    d = design([0, 1, 0, 1, 1, 0], [np.full(6, 2.0), x], ["two", "x"])
    r = P.resolve_priors("auto", d, F.Binomial())
    assert r.intercept_index == 0 and r.intercept_centered
    assert r.coef[0] == P.Normal(0.0, 1.25)
    np.testing.assert_allclose(r.x_means, [0.0, x.mean() / 2])


def test_x_means_are_readonly(mtcars):
    r = P.resolve_priors("auto", mtcars, F.Gaussian())
    with pytest.raises(ValueError):
        r.x_means[1] = 0.0


# -- "gelman2008": arm::bayesglm ----------------------------------------------------------------
def test_gelman2008_scales(logit_data):
    # arm::bayesglm (Gelman et al. 2008; ?bayesglm, bayesglm.fit in suyusung/arm R/bayesglm.R):
    # Cauchy (prior.df = 1), prior.scale = 2.5 divided by 1 (one value), range(x) (two values)
    # or 2 sd(x) (more); prior.scale.for.intercept = 10, on the intercept at colMeans(x).
    r = P.resolve_priors("gelman2008", logit_data, F.Binomial())
    X = logit_data.X
    assert r.source == "gelman2008"
    assert r.coef[0] == P.Cauchy(0.0, 10.0)
    assert r.coef[1] == P.Cauchy(0.0, 2.5 / 3.0)  # binary column 0/3: range 3
    assert r.coef[2].sigma == pytest.approx(2.5 / (2 * np.std(X[:, 2], ddof=1)), rel=1e-14)
    assert r.coef[3] == P.Cauchy(0.0, 2.5)  # constant column
    assert r.intercept_centered
    np.testing.assert_allclose(r.x_means, [0.0, *X[:, 1:].mean(axis=0)])
    assert r.dispersion is None


def test_gelman2008_probit_and_gaussian(logit_data, mtcars):
    # arm: prior.scale <- prior.scale * 1.6 for the probit link (both scales)
    logit = P.resolve_priors("gelman2008", logit_data, F.Binomial())
    probit = P.resolve_priors("gelman2008", logit_data, F.Binomial("probit"))
    for lo, pr in zip(logit.coef, probit.coef):
        assert pr.sigma == pytest.approx(1.6 * lo.sigma, rel=1e-14)
    # arm: if (family$family == "gaussian") prior.scale <- prior.scale * 2 * sd(y), intercept too;
    # prior.mean.for.intercept = 0
    r = P.resolve_priors("gelman2008", mtcars, F.Gaussian())
    sd_y = np.std(MPG, ddof=1)
    assert r.coef[0] == P.Cauchy(0.0, 10 * 2 * sd_y)
    assert r.coef[1].sigma == pytest.approx(2.5 * 2 * sd_y / (2 * np.std(WT, ddof=1)), rel=1e-14)
    assert r.coef[2].sigma == pytest.approx(2.5 * 2 * sd_y / 1.0, rel=1e-14)  # am: range 1
    # dispersion: the "auto" default
    assert r.dispersion == P.resolve_priors("auto", mtcars, F.Gaussian()).dispersion


# -- "flat", one Prior, dict --------------------------------------------------------------------
def test_flat(mtcars, logit_data):
    r = P.resolve_priors("flat", mtcars, F.Gaussian())
    assert r.coef == (P.Flat(),) * 3 and not r.intercept_centered
    np.testing.assert_array_equal(r.x_means, np.zeros(3))
    assert r.dispersion == P.Flat(support="positive") and not r.dispersion.proper
    assert r.source == "flat"
    assert P.resolve_priors("FLAT", logit_data, F.Binomial()).dispersion is None
    assert r.log_prior([1.0, 2.0, 3.0], 2.0) == 0.0


def test_single_prior_for_every_slope(mtcars):
    t = P.StudentT(3, 0, 2)
    r = P.resolve_priors(t, mtcars, F.Gaussian())
    auto = P.resolve_priors("auto", mtcars, F.Gaussian())
    assert r.coef == (auto.coef[0], t, t)  # intercept keeps the (centred) auto default
    assert r.intercept_centered and r.dispersion == auto.dispersion
    assert r.source == "custom"
    table = r.table()
    assert list(table["adjusted"]) == [True, False, False, True]


def test_dict_priors(mtcars):
    r = P.resolve_priors({"am": P.Laplace(0, 1), "dispersion": P.HalfNormal(5)}, mtcars,
                         F.Gaussian())
    auto = P.resolve_priors("auto", mtcars, F.Gaussian())
    assert r.coef == (auto.coef[0], auto.coef[1], P.Laplace(0, 1))
    assert r.intercept_centered and r.dispersion == P.HalfNormal(5)
    # a user prior on the intercept is on the uncentred intercept
    r = P.resolve_priors({"Intercept": P.Normal(0, 100)}, mtcars, F.Gaussian())
    assert r.coef[0] == P.Normal(0, 100) and not r.intercept_centered
    np.testing.assert_array_equal(r.x_means, np.zeros(3))
    assert r.coef[1:] == auto.coef[1:]
    # the dispersion may also be keyed by its name; Flat() on it becomes flat on (0, inf)
    r = P.resolve_priors({"sigma": P.Flat()}, mtcars, F.Gaussian())
    assert r.dispersion == P.Flat(support="positive")
    assert P.resolve_priors({}, mtcars, F.Gaussian()).coef == auto.coef


def test_dict_const_name_for_array_designs(logit_data):
    r = P.resolve_priors({"const": P.Cauchy(0, 10)}, logit_data, F.Binomial())
    assert r.coef[0] == P.Cauchy(0, 10) and not r.intercept_centered


# -- errors ----------------------------------------------------------------------------------
def test_error_unknown_coefficient_name(mtcars):
    with pytest.raises(ValueError, match=r"unknown parameter name 'weight'.*'Intercept', 'wt', "
                                         r"'am', 'dispersion'"):
        P.resolve_priors({"weight": P.Normal()}, mtcars, F.Gaussian())


def test_error_dispersion_for_family_without_one(logit_data):
    with pytest.raises(ValueError, match=r'"dispersion" prior.*poisson family has none'):
        P.resolve_priors({"dispersion": P.Exponential()}, logit_data, F.Poisson())
    with pytest.raises(ValueError, match=r"alpha is fixed"):
        P.resolve_priors({"dispersion": P.Exponential()}, logit_data,
                         F.NegativeBinomial(alpha=1.0))


def test_error_real_prior_for_dispersion(mtcars):
    with pytest.raises(ValueError, match=r"Normal\(0, 1\) has real support, but sigma is positive"):
        P.resolve_priors({"dispersion": P.Normal()}, mtcars, F.Gaussian())


def test_error_positive_prior_for_coefficient(mtcars):
    with pytest.raises(ValueError, match=r"priors\['wt'\]: HalfNormal\(1\) has positive support"):
        P.resolve_priors({"wt": P.HalfNormal()}, mtcars, F.Gaussian())
    with pytest.raises(ValueError, match=r"priors: Exponential\(1\) has positive support"):
        P.resolve_priors(P.Exponential(), mtcars, F.Gaussian())
    with pytest.raises(ValueError, match="positive support"):
        P.resolve_priors({"wt": P.Flat(support="positive")}, mtcars, F.Gaussian())


def test_error_non_prior_values(mtcars):
    with pytest.raises(TypeError, match=r"priors\['wt'\]: must be a bayesglm.priors.Prior.*"
                                        r"float 2.5"):
        P.resolve_priors({"wt": 2.5}, mtcars, F.Gaussian())
    with pytest.raises(TypeError, match=r"the class Normal, not an instance; did you mean"):
        P.resolve_priors(P.Normal, mtcars, F.Gaussian())
    with pytest.raises(TypeError, match=r"priors\['dispersion'\] \(sigma\): must be"):
        P.resolve_priors({"dispersion": "exponential"}, mtcars, F.Gaussian())


def test_error_both_dispersion_keys(mtcars):
    with pytest.raises(ValueError, match="not both"):
        P.resolve_priors({"sigma": P.HalfNormal(), "dispersion": P.HalfNormal()}, mtcars,
                         F.Gaussian())


@pytest.mark.parametrize("bad, exc", [("rstanarm", ValueError), ("", ValueError),
                                      (None, TypeError), (2.5, TypeError),
                                      ([P.Normal()], TypeError)])
def test_error_unsupported_priors_argument(mtcars, bad, exc):
    with pytest.raises(exc, match=r'accepted forms: "auto", "gelman2008", "flat", a '
                                  r"bayesglm.priors.Prior"):
        P.resolve_priors(bad, mtcars, F.Gaussian())


def test_error_family_not_an_object(mtcars):
    with pytest.raises(TypeError, match="family must be a bayesglm.families.Family"):
        P.resolve_priors("auto", mtcars, "gaussian")


BAD_ARGS = [
    (lambda: P.Normal(sigma=-1), r"Normal: sigma must be a positive finite number, got -1"),
    (lambda: P.Normal(sigma=0), r"Normal: sigma must be a positive finite number, got 0"),
    (lambda: P.Normal(mu=math.inf), r"Normal: mu must be a finite number, got inf"),
    (lambda: P.Normal(mu="a"), r"Normal: mu must be a finite number, got 'a'"),
    (lambda: P.Normal(sigma=True), r"Normal: sigma must be a positive finite number, got True"),
    (lambda: P.StudentT(0), r"StudentT: df must be a positive finite number, got 0"),
    (lambda: P.StudentT(3, sigma=math.nan), r"StudentT: sigma must be .*, got nan"),
    (lambda: P.Cauchy(sigma=-2.5), r"Cauchy: sigma must be a positive finite number, got -2.5"),
    (lambda: P.Laplace(b=0), r"Laplace: b must be a positive finite number, got 0"),
    (lambda: P.HalfNormal(-1), r"HalfNormal: sigma must be a positive finite number, got -1"),
    (lambda: P.HalfStudentT(-3), r"HalfStudentT: df must be a positive finite number, got -3"),
    (lambda: P.HalfCauchy(None), r"HalfCauchy: sigma must be a positive finite number, got None"),
    (lambda: P.Exponential(0), r"Exponential: rate must be a positive finite number, got 0"),
    (lambda: P.Gamma(0, 1), r"Gamma: alpha must be a positive finite number, got 0"),
    (lambda: P.Gamma(2, -1), r"Gamma: beta must be a positive finite number, got -1"),
    (lambda: P.Flat("integer"), r'Flat: support must be "real" or "positive", got \'integer\''),
]


@pytest.mark.parametrize("make, message", BAD_ARGS)
def test_prior_argument_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_required_arguments():
    with pytest.raises(TypeError):
        P.StudentT()
    with pytest.raises(TypeError):
        P.Gamma(2.0)


# -- the specs ---------------------------------------------------------------------------------
PAIRS = [
    (P.Normal(1.5, 2.0), stats.norm(1.5, 2.0)),
    (P.StudentT(3.5, -1.0, 0.5), stats.t(3.5, -1.0, 0.5)),
    (P.Cauchy(0.5, 2.5), stats.cauchy(0.5, 2.5)),
    (P.Laplace(-2.0, 1.5), stats.laplace(-2.0, 1.5)),
    (P.HalfNormal(2.0), stats.halfnorm(0, 2.0)),
    (P.HalfStudentT(4.0, 1.5), None),  # 2 * t pdf on x >= 0, checked below
    (P.HalfCauchy(2.5), stats.halfcauchy(0, 2.5)),
    (P.Exponential(0.25), stats.expon(scale=4.0)),
    (P.Gamma(2.5, 3.0), stats.gamma(2.5, scale=1 / 3.0)),
    (P.Gamma(0.5, 2.0), stats.gamma(0.5, scale=0.5)),
    (P.Gamma(1.0, 2.0), stats.gamma(1.0, scale=0.5)),
]
X_GRID = np.array([-3.0, -0.5, 0.0, 1e-3, 0.3, 1.0, 2.7, 10.0, 1e3])


@pytest.mark.parametrize("prior, ref", PAIRS, ids=lambda v: getattr(v, "describe", str)())
def test_logpdf_matches_scipy(prior, ref):
    if ref is None:  # half Student t
        t = stats.t(prior.df, 0, prior.sigma)
        expected = np.where(X_GRID < 0, -np.inf, np.log(2) + t.logpdf(X_GRID))
    else:
        expected = ref.logpdf(X_GRID)
    got = prior.logpdf(X_GRID)
    assert isinstance(got, np.ndarray) and got.shape == X_GRID.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    scalar = prior.logpdf(1.0)
    assert isinstance(scalar, float)
    assert scalar == pytest.approx(float(expected[X_GRID == 1.0][0]), rel=1e-12)


def test_logpdf_integrates_to_one():
    grid = np.linspace(-60, 60, 240001)
    for prior in (P.Normal(1, 2), P.StudentT(5, 0, 1.5), P.Laplace(0.5, 1), P.HalfNormal(3),
                  P.HalfStudentT(5, 1), P.Exponential(2), P.Gamma(3, 2)):
        g = grid if prior.support == "real" else grid[grid >= 0]  # no jump at 0 in the rule
        assert np.trapezoid(np.exp(prior.logpdf(g)), g) == pytest.approx(1.0, abs=1e-6)


def test_flat_logpdf_and_nan():
    np.testing.assert_array_equal(P.Flat().logpdf([-1e9, 0.0, 5.0]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(P.Flat("positive").logpdf([-1.0, 0.0, 5.0]),
                                  [-np.inf, -np.inf, 0.0])
    assert P.Flat().logpdf(3.0) == 0.0
    assert math.isnan(P.Flat().logpdf(math.nan))
    assert not P.Flat().proper and P.Normal().proper
    for prior, _ in PAIRS:
        assert math.isnan(prior.logpdf(math.nan))


def test_logpdf_quiet_at_infinities():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for prior, _ in PAIRS:
            np.testing.assert_array_equal(prior.logpdf([-np.inf, np.inf]), [-np.inf, -np.inf])


def test_support_and_proper():
    real = [P.Normal(), P.StudentT(3), P.Cauchy(), P.Laplace(), P.Flat()]
    positive = [P.HalfNormal(), P.HalfStudentT(3), P.HalfCauchy(), P.Exponential(),
                P.Gamma(2, 1), P.Flat("positive")]
    assert all(p.support == "real" for p in real)
    assert all(p.support == "positive" for p in positive)
    assert all(isinstance(p, P.Prior) for p in real + positive)


def test_describe():
    assert P.Normal(0, 2.5).describe() == "Normal(0, 2.5)"
    assert str(P.Normal(20.090625, 15.0673701)) == "Normal(20.09, 15.07)"
    assert P.StudentT(3, 0, 2.5).describe() == "StudentT(3, 0, 2.5)"
    assert P.Cauchy(-0.0, 10).describe() == "Cauchy(0, 10)"
    assert P.Laplace(1, 0.5).describe() == "Laplace(1, 0.5)"
    assert P.Flat().describe() == "Flat()"
    assert P.Flat("positive").describe() == "Flat(0, inf)"
    assert P.HalfNormal(5).describe() == "HalfNormal(5)"
    assert P.HalfStudentT(3, 2).describe() == "HalfStudentT(3, 2)"
    assert P.HalfCauchy(2.5).describe() == "HalfCauchy(2.5)"
    assert P.Exponential(1 / 6.026948).describe() == "Exponential(0.1659)"
    assert P.Gamma(2, 0.1).describe() == "Gamma(2, 0.1)"


def test_frozen_hashable_and_equal():
    a = P.Normal(0, 1)
    assert a == P.Normal(0.0, 1.0) and hash(a) == hash(P.Normal(0.0, 1.0))
    assert a != P.Cauchy(0, 1)
    with pytest.raises(AttributeError):
        a.sigma = 2.0
    assert isinstance(P.Normal(np.int64(1), np.float32(2)).mu, float)


def test_scaled():
    assert P.Normal(1, 2).scaled(3) == P.Normal(3, 6)
    assert P.Normal(1, 2).scaled(-3) == P.Normal(-3, 6)
    assert P.StudentT(4, 1, 2).scaled(0.5) == P.StudentT(4, 0.5, 1)
    assert P.Cauchy(0, 2.5).scaled(2) == P.Cauchy(0, 5)
    assert P.Laplace(2, 1).scaled(3) == P.Laplace(6, 3)
    assert P.Flat().scaled(7) == P.Flat()
    assert P.HalfNormal(2).scaled(3) == P.HalfNormal(6)
    assert P.HalfStudentT(3, 2).scaled(3) == P.HalfStudentT(3, 6)
    assert P.HalfCauchy(2).scaled(3) == P.HalfCauchy(6)
    assert P.Exponential(1).scaled(4) == P.Exponential(0.25)
    assert P.Gamma(2, 3).scaled(2) == P.Gamma(2, 1.5)
    with pytest.raises(ValueError, match=r"HalfNormal.scaled: factor must be a positive"):
        P.HalfNormal(1).scaled(-1)
    with pytest.raises(ValueError, match=r"Normal.scaled: factor must be a non-zero"):
        P.Normal().scaled(0)
    with pytest.raises(ValueError, match=r"Gamma.scaled"):
        P.Gamma(1, 1).scaled(math.inf)


SCALINGS = [(p, f) for p, _ in PAIRS + [(P.Normal(0.5, 1.0), None)] for f in (2.5, 0.3, -1.7)
            if f > 0 or p.support == "real"]  # positive priors scale by positive factors only


@pytest.mark.parametrize("prior, factor", SCALINGS,
                         ids=[f"{p.describe()}*{f}" for p, f in SCALINGS])
def test_scaled_is_the_law_of_factor_times_x(prior, factor):
    x = np.array([0.2, 0.9, 1.7, 4.0])
    # density of Y = f X at y = f x is p_X(x) / |f|
    np.testing.assert_allclose(prior.scaled(factor).logpdf(factor * x),
                               prior.logpdf(x) - math.log(abs(factor)), rtol=1e-12, atol=1e-12)


def test_shifted():
    assert P.Normal(1, 2).shifted(3) == P.Normal(4, 2)
    assert P.StudentT(3, 0, 1).shifted(-2) == P.StudentT(3, -2, 1)
    assert P.Cauchy(0, 1).shifted(0.5) == P.Cauchy(0.5, 1)
    assert P.Laplace(1, 2).shifted(1) == P.Laplace(2, 2)
    assert P.Flat().shifted(10) == P.Flat()
    x = np.array([-1.0, 0.5, 3.0])
    np.testing.assert_allclose(P.Laplace(1, 2).shifted(1.5).logpdf(x + 1.5),
                               P.Laplace(1, 2).logpdf(x))
    for prior in (P.HalfNormal(), P.Exponential(), P.Gamma(2, 1), P.Flat("positive")):
        with pytest.raises(TypeError, match="not a location family"):
            prior.shifted(1.0)
    with pytest.raises(ValueError, match=r"Normal.shifted: loc must be a finite number"):
        P.Normal().shifted(math.nan)


# -- ResolvedPriors ----------------------------------------------------------------------------
def test_table(mtcars):
    r = P.resolve_priors({"wt": P.Normal(-5, 2)}, mtcars, F.Gaussian())
    t = r.table()
    assert isinstance(t, pd.DataFrame)
    assert list(t.columns) == ["parameter", "prior", "specified", "adjusted", "note"]
    assert list(t["parameter"]) == ["Intercept", "wt", "am", "sigma"]
    assert list(t["prior"]) == ["Normal(20.09, 15.07)", "Normal(-5, 2)", "Normal(0, 30.2)",
                                "Exponential(0.1659)"]
    assert list(t["specified"]) == ["Normal(20.09, 2.5)", "Normal(-5, 2)", "Normal(0, 2.5)",
                                    "Exponential(1)"]
    assert list(t["adjusted"]) == [True, False, True, True]
    assert "centred" in t["note"].iloc[0] and t["note"].iloc[1] == "user prior"
    assert "sd(x)" in t["note"].iloc[2] and "1 / sd(y)" in t["note"].iloc[3]
    # no dispersion row where the family has none
    d = design([0, 1, 1, 0], [np.ones(4), [1.0, 2.0, 3.0, 5.0]], ["const", "x"])
    t = P.resolve_priors("auto", d, F.Binomial()).table()
    assert list(t["parameter"]) == ["const", "x"]


def test_log_prior_uses_the_centred_intercept(mtcars):
    r = P.resolve_priors("auto", mtcars, F.Gaussian())
    b = np.array([37.0, -5.0, 0.2])
    centred = r.centred(b)
    assert centred[0] == pytest.approx(37.0 - 5.0 * np.mean(WT) + 0.2 * np.mean(AM))
    np.testing.assert_array_equal(centred[1:], b[1:])
    expected = (stats.norm(r.coef[0].mu, r.coef[0].sigma).logpdf(centred[0])
                + stats.norm(0, r.coef[1].sigma).logpdf(-5.0)
                + stats.norm(0, r.coef[2].sigma).logpdf(0.2)
                + stats.expon(scale=1 / r.dispersion.rate).logpdf(3.0))
    assert r.log_prior(b, 3.0) == pytest.approx(expected, rel=1e-12)
    draws = np.vstack([b, 2 * b])  # rows of draws
    np.testing.assert_allclose(r.centred(draws)[1], r.centred(2 * b))
    # uncentred (user intercept prior): identity
    u = P.resolve_priors({"Intercept": P.Normal(0, 50)}, mtcars, F.Gaussian())
    np.testing.assert_array_equal(u.centred(b), b)


# -- boundaries --------------------------------------------------------------------------------
def test_priors_module_is_backend_neutral():
    imported = set()
    nodes = [n for f in sorted(Path(P.__file__).parent.glob("*.py"))  # the priors package
             for n in ast.walk(ast.parse(f.read_text()))]
    for node in nodes:
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):  # relative: only within the priors package
            imported.add("." * node.level if node.level else node.module.split(".")[0])
    # ".": the package's own modules (nothing else of bayesglm); scipy: NumPy's side of the one log density (gammaln in NUMPY_OPS); no JAX, no NumPyro
    allowed = {"__future__", "math", "numbers", "collections", "dataclasses", "functools",
               "typing", "numpy", "pandas", "scipy", "."}
    assert imported <= allowed, imported - allowed


def test_column_summaries_match_numpy():
    from bayesglm.priors.resolve import column_summaries

    rng = np.random.default_rng(3)
    n = 70_001  # over two row blocks, the last partial
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n) * 3.0 - 1.0,
                         rng.integers(0, 3, n), np.r_[np.zeros(n - 1), 5.0],
                         np.r_[np.full(40_000, 2.0), np.full(n - 40_000, -1.0)]])
    sd, k, rng_ = column_summaries(X)
    np.testing.assert_allclose(sd, X.std(axis=0, ddof=1), rtol=1e-12, atol=1e-15)
    assert k.tolist() == [min(len(np.unique(X[:, j])), 3) for j in range(X.shape[1])]
    np.testing.assert_array_equal(rng_, X.max(axis=0) - X.min(axis=0))


def test_priors_checked_when_built_scaled_when_needed(monkeypatch):
    import bayesglm as bg
    from bayesglm.priors import resolve

    X = np.column_stack([np.ones(30), np.arange(30.0)])
    y = np.arange(30) % 4
    with pytest.raises(ValueError, match="unknown parameter name 'x9'"):
        bg.GLM(y, X, family="poisson", priors={"x9": bg.priors.Normal(0, 1)})
    with pytest.raises(ValueError, match="priors: unknown value 'auot'"):
        bg.GLM(y, X, family="poisson", priors="auot")
    calls = []
    real = resolve.resolve_priors
    monkeypatch.setattr(resolve, "resolve_priors", lambda *a: calls.append(1) or real(*a))
    import bayesglm.priors as priors_pkg

    monkeypatch.setattr(priors_pkg, "resolve_priors", resolve.resolve_priors)
    model = bg.GLM(y, X, family="poisson")
    model.fit_mle()
    assert calls == []  # a maximum-likelihood fit never autoscales the priors
    first = model.resolved_priors
    assert calls == [1] and model.resolved_priors is first  # once, when first needed


def test_editing_the_priors_dict_afterwards_changes_nothing():
    import bayesglm as bg

    X = np.column_stack([np.ones(30), np.arange(30.0)])
    y = np.arange(30) % 4
    given = {"x1": P.Normal(0, 1)}
    model = bg.GLM(y, X, family="poisson", priors=given)
    given["x1"] = P.Normal(0, 100)
    given["typo"] = P.Normal(0, 1)
    assert model.resolved_priors.coef[1] == P.Normal(0, 1)
