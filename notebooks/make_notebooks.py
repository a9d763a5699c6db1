"""Write the example notebooks of ``notebooks/`` (outputs stripped) from the cells below.

Run ``python notebooks/make_notebooks.py`` after editing a cell here, and commit the ``.ipynb``
files it writes: the notebooks are generated, so edit this script, not the notebooks. The test
suite executes every notebook top to bottom (``tests/site/test_notebooks.py``, slow tier) and the
documentation executes them when it is built and shows them with their outputs as pages
(``docs/hooks.py`` adds these files to the site). Each starts with ``%matplotlib inline``, so
its figures land in its outputs whatever ``MPLBACKEND`` says.

Each notebook is a short story: what the data are, what we fit and why, what the output shows.
Sampling is kept modest (a few hundred draws per chain) so each notebook runs in about a minute
on a small machine; the numbers quoted in the text are those the fixed seeds give, rounded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

#: the set-up cell every notebook starts with
SETUP = """\
%matplotlib inline
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayesglm as bg

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
pd.set_option("display.precision", 3)"""


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


# -- 1. getting started ---------------------------------------------------------------------
GETTING_STARTED = [
    md("""
# Getting started: a Poisson GLM for claim rates

This notebook walks through the day of a bayesglm user on one model: a Poisson regression of
insurance claim counts with the policy-years at risk as exposure. We fit it twice, by maximum
likelihood (the classical IRLS fit, as R's `glm` or statsmodels) and by NUTS (the Bayesian fit,
started where the likelihood peaks), and read both off one table and two figures.
"""),
    code(SETUP),
    md("""
## The data

bayesglm ships a few small data sets, one for each common use of a GLM:
"""),
    code("""
bg.datasets.list()
"""),
    md("""
`claims` is the count data set with an exposure: grouped motor insurance claims by driver age
band, vehicle group and region, with the number of policy-years each group was insured for.
It is synthetic (drawn once, with a fixed seed, from a Poisson GLM with known coefficients), so
we know what the fit should find. `describe` gives its documentation:
"""),
    code("""
print(bg.datasets.describe("claims"))
"""),
    code("""
df = bg.datasets.load("claims")
df.head()
"""),
    md("""
## The model

Claims arrive at a rate per policy-year, so the expected count of a group is
`holders * exp(x'beta)`: a Poisson GLM with the log link and `log(holders)` as an offset.
`exposure="holders"` says exactly that. The formula adds an intercept and codes each
categorical column against its first level (`age` 17-24, `vehicle` A, `region` east), so each
coefficient is a log rate ratio against that baseline.
"""),
    code("""
model = bg.glm("claims ~ age + vehicle + region", df, family="poisson", exposure="holders")
model
"""),
    md("""
## The classical fit

`fit_mle` runs IRLS (compiled with JAX) and reports what R's `summary.glm` reports:
"""),
    code("""
mle = model.fit_mle()
print(mle.summary())
"""),
    md("""
A residual deviance close to its degrees of freedom says the Poisson variance fits these
counts: there is no sign of overdispersion (notebook 3 shows a data set where there is).

## The Bayesian fit

`fit` starts from that MLE: every chain begins near it, with the MLE's covariance as the mass
matrix, so warmup is short. The default priors (`priors="auto"`) are weakly informative and
scaled to the data, as rstanarm's. In a terminal or a notebook `fit` shows a progress bar;
these notebooks pass `progress=False` to keep their pages short.
"""),
    code("""
fit = model.fit(draws=500, chains=4, seed=0, progress=False)
fit
"""),
    md("""
## MLE and posterior in one table

`summary()` puts the MLE and its standard error beside the posterior mean, sd, 94% highest
density interval, Monte Carlo error, effective sample sizes and R-hat:
"""),
    code("""
fit.summary()
"""),
    md("""
With 64 groups and thousands of claims the data dominate the weak priors: the posterior means
agree with the MLE and the posterior sds with the standard errors, to Monte Carlo error. R-hat
at 1.00 and effective sample sizes in the hundreds or more say the chains mixed.

On the response scale the coefficients are rate ratios, for example for the age bands:
"""),
    code("""
table = fit.summary()
np.exp(table.loc[table.index.str.startswith("age"), ["mle", "mean", "hdi_3%", "hdi_97%"]])
"""),
    md("""
Drivers aged 40-59 make about 45% fewer claims per policy-year than drivers aged 17-24.

## Trace and forest plots

The trace plot shows each parameter's draws per chain (right) and their densities (left); the
MLE is drawn as a reference line. Chains that overlap like "hairy caterpillars" are what we
want.
"""),
    code("""
bg.plot_trace(fit, var_names=["Intercept", "age[T.40-59]", "vehicle[T.D]", "region[T.west]"]);
"""),
    md("""
The forest plot shows, for every coefficient, the posterior (mean, 50% and 94% HDI) and just
below it the MLE with its confidence interval of the same probability, 94%:
"""),
    code("""
bg.plot_forest(fit);
"""),
    md("""
With `transform=np.exp` it shows rate ratios instead, and the reference line moves to 1 (no
effect): the posterior mean and HDI are those of the exponentiated draws, the MLE's interval the
exponentiated Wald interval.
"""),
    code("""
bg.plot_forest(fit, transform=np.exp);
"""),
    md("""
`plot_mle_vs_posterior` puts the two estimates on one scatter: points on the identity line are
coefficients where the prior has no visible influence.
"""),
    code("""
bg.plot_mle_vs_posterior(fit);
"""),
    md("""
## Prediction

`predict` re-applies the formula to new rows. With an exposure in the model, the new rows need
one too (here the `holders` column, found by name): the prediction is the expected number of
claims for 100 policy-years, with its 94% HDI.
"""),
    code("""
new = pd.DataFrame({"age": ["17-24", "40-59"], "vehicle": ["D", "A"],
                    "region": ["west", "south"], "holders": [100.0, 100.0]})
fit.predict(new)
"""),
    md("""
`kind="response"` predicts new counts (posterior predictive draws) instead of their mean, so
its interval is wider: it adds the Poisson noise.
"""),
    code("""
fit.predict(new, kind="response")
"""),
    md("""
## The whole ArviZ toolbox

`fit.idata` is an `arviz.InferenceData`, with coefficient names as the `coef` coordinate, so
any ArviZ function works on it:
"""),
    code("""
import arviz as az

az.summary(fit.idata, var_names=["beta"], coords={"coef": ["vehicle[T.B]", "vehicle[T.C]"]})
"""),
    md("""
`fit.save(path)` writes the draws and the model (netCDF) and `bg.load(path)` reads them back,
ready to predict, in another process.
"""),
]


# -- 2. separation -----------------------------------------------------------------------------
SEPARATION = [
    md("""
# Logistic regression with separation

When a predictor splits the outcomes perfectly (every patient with a marker responded, say), the
likelihood of a logistic regression keeps growing as that coefficient goes to infinity: the
maximum likelihood estimate does not exist. R's `glm` and statsmodels still print a number, a
very large one with an even larger standard error. bayesglm says what happened, and its Bayesian
fit still works, because the priors are proper.
"""),
    code(SETUP),
    md("""
## The data: a small pilot study

Forty patients receive a drug at doses between 0 and 10 mg; about half carry a genetic marker.
The response is 1 when a patient responded. Without the marker the response rises with dose;
in this sample every one of the marker carriers responded. That is *quasi-complete separation*:
`marker` separates the outcomes perfectly among its carriers. (The data are simulated, with a
fixed seed, so the notebook runs anywhere.)
"""),
    code("""
rng = np.random.default_rng(3)
n = 40
dose = np.round(rng.uniform(0, 10, n), 1)
marker = rng.integers(0, 2, n)
p = 1 / (1 + np.exp(-(-2.0 + 0.35 * dose)))
response = rng.binomial(1, p)
response[marker == 1] = 1
df = pd.DataFrame({"response": response, "dose": dose, "marker": marker})
pd.crosstab(df.marker, df.response)
"""),
    md("""
## The classical fit fails

`fit_mle` runs IRLS, sees the fitted probabilities of a group of rows run to 1, and warns with a
`SeparationWarning` that names the separating variable:
"""),
    code("""
model = bg.glm("response ~ dose + marker", df, family="binomial")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    mle = model.fit_mle()
for w in caught:
    print(f"{w.category.__name__}: {w.message}")
"""),
    code("""
print(mle.summary())
"""),
    md("""
The "estimate" of `marker` is whatever value IRLS stopped at, and its standard error is huge:
the Wald interval, the z test and any prediction for marker carriers are meaningless. Nothing in
the data bounds that coefficient.

## The Bayesian fit works

With proper priors the posterior exists even though the MLE does not. `fit` notices the
separation, starts NUTS at the posterior mode instead of the MLE, and passes the warning on so
that the reason is on record:
"""),
    code("""
fit = model.fit(draws=500, chains=4, seed=1, progress=False)
fit.start
"""),
    code("""
fit.summary()
"""),
    md("""
The MLE columns are empty: there is no MLE to show. The posterior of `marker` is bounded (the
default prior is a normal with scale 2.5 / sd(marker) on the log-odds scale) and wide: the data
say the effect is large and positive, and only the prior says how large is plausible. The `dose`
coefficient, which the data do inform, agrees with the value IRLS printed above (about 0.4).

The forest plot draws the posterior alone, and says why there is no MLE beside it:
"""),
    code("""
bg.plot_forest(fit);
"""),
    code("""
bg.plot_trace(fit, var_names=["marker"]);
"""),
    md("""
## Predicted probabilities

The posterior of the response probability is usable where the MLE's was not: for marker
carriers it is close to, but not exactly, 1, and its interval says how sure we can be given
forty patients.
"""),
    code("""
new = pd.DataFrame({"dose": [2.0, 2.0, 8.0, 8.0], "marker": [0, 1, 0, 1]})
fit.predict(new)
"""),
    md("""
## Gelman et al. (2008): the posterior mode as a point estimate

`priors="gelman2008"` uses the default of R's `arm::bayesglm` (Cauchy(0, 2.5) on slopes of
inputs rescaled to sd 0.5, Cauchy(0, 10) on the intercept), and `fit_map` its estimate, the
posterior mode with a Laplace standard error. It is a quick, finite, well-behaved replacement
for the MLE under separation:
"""),
    code("""
arm = bg.glm("response ~ dose + marker", df, family="binomial", priors="gelman2008")
arm.prior_summary()[["parameter", "prior", "note"]]
"""),
    code("""
arm.fit_map().summary()
"""),
    md("""
## What to take away

- A `SeparationWarning` means the MLE does not exist: do not report its coefficients, standard
  errors or p-values for the separating variables.
- The Bayesian fit is the principled repair: its answer for the separating variable leans on the
  prior, so choose that prior deliberately (notebook 4) and report it (`prior_summary()`).
"""),
]


# -- 3. counts: exposure and overdispersion ---------------------------------------------------
COUNTS = [
    md("""
# Counts: exposure, overdispersion, Poisson or negative binomial

A Poisson GLM assumes the variance of a count equals its mean. Real counts often vary more
(*overdispersion*): then Poisson standard errors are too small and its predictive intervals too
narrow. This notebook checks for overdispersion, fits a Poisson and a negative binomial model,
compares them by leave-one-out cross-validation (LOO) and by posterior predictive checks.
"""),
    code(SETUP),
    md("""
## Rates with an exposure: the claims data

First the claims of notebook 1: counts of claims with policy-years at risk as exposure. A quick
check of overdispersion is the Pearson chi-square over its degrees of freedom, near 1 for
Poisson data:
"""),
    code("""
claims = bg.datasets.load("claims")
formula = "claims ~ age + vehicle + region"
pois = bg.glm(formula, claims, family="poisson", exposure="holders").fit_mle()
print(f"Pearson chi2 / df = {pois.pearson_chi2 / pois.df_resid:.2f}")
"""),
    md("""
The negative binomial family adds a dispersion `alpha` (variance `mu + alpha * mu**2`, as
statsmodels' NB2), estimated by maximum likelihood as R's `MASS::glm.nb` does. On these data its
estimate is zero to numerical precision: the negative binomial collapses to the Poisson, which is
the model to use.
"""),
    code("""
nb = bg.glm(formula, claims, family="negative_binomial", exposure="holders").fit_mle()
print(f"alpha = {nb.alpha:.2g}")
"""),
    md("""
## Overdispersed counts: doctor visits in the RAND Health Insurance Experiment

`randhie` holds the number of outpatient doctor visits of 400 people in the RAND experiment, with
their insurance plan (coinsurance rate, deductible), income-related incentive, physical
limitation, chronic diseases and self-rated health.
"""),
    code("""
visits = bg.datasets.load("randhie")
print(f"mean {visits.mdvis.mean():.2f}, variance {visits.mdvis.var():.2f}, "
      f"zeros {np.mean(visits.mdvis == 0):.0%}")
visits.head()
"""),
    md("""
The variance is several times the mean. The Poisson MLE's Pearson statistic says the same after
adjusting for the predictors, and the negative binomial's `alpha` is far from 0:
"""),
    code("""
formula = ("mdvis ~ lncoins + idp + lpi + fmde + physlm + disea"
           " + C(health, Treatment('excellent'))")
poisson_model = bg.glm(formula, visits, family="poisson")
nb_model = bg.glm(formula, visits, family="negative_binomial")
p_mle, nb_mle = poisson_model.fit_mle(), nb_model.fit_mle()
print(f"Poisson: Pearson chi2 / df = {p_mle.pearson_chi2 / p_mle.df_resid:.2f}, AIC {p_mle.aic:.0f}")
print(f"NegBin:  alpha = {nb_mle.alpha:.2f} (se {nb_mle.alpha_se:.2f}), AIC {nb_mle.aic:.0f}")
"""),
    md("""
## Both Bayesian fits

The negative binomial's `alpha` is a posterior variable with its own prior (`Exponential(1)`,
which shrinks toward the Poisson limit `alpha = 0`).
"""),
    code("""
fit_p = poisson_model.fit(draws=500, chains=4, seed=0, progress=False)
fit_nb = nb_model.fit(draws=500, chains=4, seed=0, progress=False)
"""),
    code("""
both = pd.concat({"Poisson": fit_p.summary()[["mean", "sd"]],
                  "NegBin": fit_nb.summary()[["mean", "sd"]]}, axis=1)
both
"""),
    md("""
The coefficients are similar, but the Poisson posterior sds are about half the negative
binomial's: the Poisson model is overconfident because it ignores the extra variation.

## Leave-one-out comparison

`bg.compare` ranks the fits by their expected log predictive density estimated by PSIS-LOO
(ArviZ's `compare`); `elpd_diff` is the loss of each model against the best, `dse` its standard
error:
"""),
    code("""
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Pareto k warnings of the Poisson fit
    comparison = bg.compare({"poisson": fit_p, "negative binomial": fit_nb})
comparison
"""),
    md("""
The negative binomial wins by a large margin, many standard errors. (ArviZ may warn that some
Pareto k values of the Poisson fit are high: a few people with many visits are very influential
under a Poisson model, one more sign that it is the wrong model.)

## Posterior predictive checks

`plot_ppc` replicates the data set from the posterior and compares the frequency of each count
(bars: observed; points and intervals: replicated). The Poisson model predicts far too few zeros
(about 50 where 121 people made no visit) and too many people with 2 to 4 visits; the negative
binomial reproduces the whole distribution:
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
bg.plot_ppc(fit_p, ax=axes[0])
bg.plot_ppc(fit_nb, ax=axes[1])
axes[0].set_title("Poisson")
axes[1].set_title("Negative binomial");
"""),
    md("""
## What to take away

- Check for overdispersion (Pearson chi2 / df, the negative binomial's `alpha`) before trusting
  Poisson standard errors.
- The LOO comparison and the posterior predictive check agree here, and they answer different
  questions: which model predicts new data better, and which features of the data a model
  misses.
"""),
]


# -- 4. priors ---------------------------------------------------------------------------------
PRIORS = [
    md("""
# Priors: defaults, custom priors and prior predictive checks

Every Bayesian fit in bayesglm has proper priors unless you ask for flat ones. This notebook
shows what the defaults are and how they scale with the data (`prior_summary()`), how to set
your own, and how to check what a prior implies about the data before seeing them
(`sample_prior`, a prior predictive check).
"""),
    code(SETUP),
    md("""
## The data: O-rings before the Challenger launch

On each of the 23 shuttle flights before the Challenger accident the O-rings of the solid rocket
boosters were inspected for thermal distress; the launch temperature ranged from 53 to 81 °F.
We model whether any O-ring showed distress (`damaged`, 0/1) by a logistic regression on the
temperature, as Dalal, Fowlkes and Hoadley (1989) did.
"""),
    code("""
df = bg.datasets.load("challenger")
df[["flight", "temp", "damaged"]].head()
"""),
    code("""
formula = "damaged ~ temp"
model = bg.glm(formula, df, family="binomial")
print(model.fit_mle().summary())
"""),
    md("""
## The default: `priors="auto"`

rstanarm's weakly informative defaults: a normal prior with scale 2.5 / sd(x) on each slope and
2.5 on the intercept, which applies to the intercept *at the predictors' means* (the centred
intercept). The `prior` column shows the priors as used, after this autoscaling; `specified`
what was asked for before it:
"""),
    code("""
model.prior_summary()
"""),
    md("""
The slope's prior has scale 2.5 / sd(temp), about 0.35 per °F: a change of one standard
deviation in temperature (7 °F) is a priori unlikely to move the log-odds by more than about 5.

## `priors="gelman2008"`

The default of R's `arm::bayesglm` (Gelman, Jakulin, Pittau and Su, 2008): Cauchy(0, 2.5) on each
slope of an input rescaled to sd 0.5, Cauchy(0, 10) on the intercept. Heavier tails than the
normal: a large effect is less penalised.
"""),
    code("""
bg.glm(formula, df, family="binomial", priors="gelman2008").prior_summary()
"""),
    md("""
## Your own priors

A dict keyed by coefficient name sets the priors you name, and the others keep the defaults.
Prior objects live in `bg.priors` (`Normal`, `StudentT`, `Cauchy`, `Laplace`, `Flat`, and for
dispersions `HalfNormal`, `HalfStudentT`, `HalfCauchy`, `Exponential`, `Gamma`). Here, a tighter
prior on the temperature effect; a user's prior is used exactly as given, without rescaling
(and one given for the intercept would apply to the plain, uncentred intercept: the log-odds at
0 °F).
"""),
    code("""
custom = {"temp": bg.priors.Normal(0, 0.1)}
custom_model = bg.glm(formula, df, family="binomial", priors=custom)
custom_model.prior_summary()
"""),
    md("""
A name that is not a coefficient is an error that lists the valid names, so a typo cannot
silently leave a default in place:
"""),
    code("""
try:
    bg.glm(formula, df, family="binomial", priors={"temperature": bg.priors.Normal(0, 1)})
except ValueError as err:
    print(err)
"""),
    md("""
## Prior predictive checks

What does a prior say about the data? `sample_prior` draws coefficients from the priors and then
data sets from the model: the *prior predictive* distribution. We compare the defaults with
"vague" priors, Normal(0, 100) on both coefficients, which look harmless but are not: on the
logit scale, with temperatures around 70 °F, they make the probability of damage 0 or 1 on
almost every flight.
"""),
    code("""
vague = {"Intercept": bg.priors.Normal(0, 100), "temp": bg.priors.Normal(0, 100)}
vague_model = bg.glm(formula, df, family="binomial", priors=vague)

prior_auto = model.sample_prior(draws=1000, seed=0)
prior_vague = vague_model.sample_prior(draws=1000, seed=0)
prior_auto
"""),
    md("""
A useful summary of each replicated data set is the number of flights with damage, out of 23
(7 in the real data):
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True, layout="constrained")
for ax, (label, idata) in zip(axes, [("priors='auto'", prior_auto),
                                     ("Normal(0, 100)", prior_vague)]):
    damaged = idata.prior_predictive["y"].sum("obs").to_numpy().ravel()
    ax.hist(damaged, bins=np.arange(25) - 0.5, density=True, color="C0", alpha=0.7)
    ax.axvline(df.damaged.sum(), color="C3", label="observed")
    ax.set_title(f"prior predictive, {label}")
    ax.set_xlabel("flights with O-ring damage (of 23)")
axes[0].set_ylabel("probability")
axes[0].legend();
"""),
    md("""
The defaults spread their mass almost evenly over every count from 0 to 23: before seeing the
data, any number of damaged flights is plausible. The vague priors put nearly all of it on "no
flight damaged" or "every flight damaged", an absurd belief about a launch programme. A prior predictive check like this is a cheap way to see
that a prior means something you did not intend.

`bg.plot_ppc` takes these draws as they are: for 0/1 data it compares the number of flights
with and without damage to the prior predictive median and 94% interval of those numbers.
"""),
    code("""
bg.plot_ppc(prior_vague);
"""),
    md("""
The `prior` group holds the coefficient draws too, on the `coef` coordinate. The plain intercept
(the log-odds at 0 °F) is spread widely: the default prior is on the centred intercept, at the
mean temperature, and 0 °F is 70 °F away from it.
"""),
    code("""
prior_auto.prior["beta"].quantile([0.05, 0.5, 0.95], dim=("chain", "draw")).to_pandas()
"""),
    md("""
## Posteriors under three priors

With 23 flights the data are not overwhelming, so the priors show. The temperature coefficient
under the default, the custom and the vague priors:
"""),
    code("""
fits = {
    "auto": model.fit(draws=500, chains=4, seed=0, progress=False),
    "custom": custom_model.fit(draws=500, chains=4, seed=0, progress=False),
    "vague": vague_model.fit(draws=500, chains=4, seed=0, progress=False),
}
pd.DataFrame({name: f.summary().loc["temp", ["mle", "mean", "sd", "hdi_3%", "hdi_97%"]]
              for name, f in fits.items()}).T
"""),
    md("""
All three agree that damage becomes more likely as the temperature drops. Under the default and
the vague priors the posterior mean is a little further from 0 than the MLE: with 23 flights the
likelihood is skewed, and a posterior mean is not a mode. The tight custom prior pulls the slope
toward 0, to about half the MLE. What did each model predict for the 31 °F of the Challenger
launch, far below any earlier flight?
"""),
    code("""
pd.concat({name: f.predict(pd.DataFrame({"temp": [31.0]})) for name, f in fits.items()})
"""),
    md("""
That prediction is an extrapolation 22 °F below the coldest earlier launch, so it depends on the
priors and on the logit link more than any in-sample quantity does: report the priors
(`prior_summary()`) with it.
"""),
]


# -- 5. gamma ----------------------------------------------------------------------------------
GAMMA = [
    md("""
# Gamma regression for positive, skewed data

Durations, costs and concentrations are positive and right-skewed, with a spread that grows with
their mean. A Gamma GLM models exactly that: its variance is `mu**2 / shape`, so the coefficient
of variation is constant. With a log link, coefficients are log ratios of means.
"""),
    code(SETUP),
    md("""
## The data: strike durations

Kennan (1985) recorded the duration in days of 62 strikes in US manufacturing that began in
June, with a measure of unanticipated industrial production (`iprod`, the deviation of
industrial production from its trend) at the time.
"""),
    code("""
df = bg.datasets.load("strikes")
print(df.describe().round(3))
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.hist(df.duration, bins=20, color="C0", alpha=0.7)
ax.set_xlabel("strike duration (days)")
ax.set_ylabel("strikes");
"""),
    md("""
Durations run from 1 day to over 200, with most below 50: a job for a Gamma model with a log
link (the Gamma family's canonical link is the inverse; `link="log"` is the usual choice).
"""),
    code("""
model = bg.glm("duration ~ iprod", df, family="gamma", link="log")
mle = model.fit_mle()
print(mle.summary())
"""),
    md("""
The dispersion (`scale`, the Pearson estimate of `1/shape`, as R and statsmodels) is near 1: the
durations are about as variable as an exponential distribution with the same mean.

## The Bayesian fit

The Bayesian Gamma model has the `shape` as a parameter, with its own prior (see
`prior_summary()`); the MLE column of the table shows its moment estimate `1/scale`.
"""),
    code("""
model.prior_summary()
"""),
    code("""
fit = model.fit(draws=500, chains=4, seed=0, progress=False)
fit.summary()
"""),
    md("""
Strikes that start when production is above its trend end sooner: the posterior of the `iprod`
coefficient is clearly negative. A rise of 0.05 in `iprod` (about one standard deviation)
multiplies the expected duration by
"""),
    code("""
beta = fit.idata.posterior["beta"].sel(coef="iprod").to_numpy().ravel()
ratio = np.exp(0.05 * beta)
print(f"{ratio.mean():.2f} (94% interval {np.quantile(ratio, 0.03):.2f} to {np.quantile(ratio, 0.97):.2f})")
"""),
    code("""
bg.plot_trace(fit);
"""),
    md("""
## Does the Gamma model fit?

The posterior predictive check overlays the density of the observed durations on the densities
of data sets replicated from the posterior:
"""),
    code("""
bg.plot_ppc(fit, num_pp_samples=100);
"""),
    md("""
## Predictions: the mean and a new strike

For a new strike, `predict` gives the posterior of the expected duration (`kind="mean"`) or of
the duration itself (`kind="response"`, posterior predictive draws). The second interval is much
wider: a single strike varies around its mean as much as the Gamma shape says.
"""),
    code("""
new = pd.DataFrame({"iprod": [-0.05, 0.0, 0.05]})
pd.concat({"mean duration": fit.predict(new), "new strike": fit.predict(new, kind="response")},
          axis=1).round(1)
"""),
    code("""
grid = pd.DataFrame({"iprod": np.linspace(df.iprod.min(), df.iprod.max(), 50)})
pred = fit.predict(grid)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.scatter(df.iprod, df.duration, s=14, color="0.4", label="strikes")
ax.plot(grid.iprod, pred["mean"], color="C0", label="posterior mean of mu")
ax.fill_between(grid.iprod, pred["hdi_3%"], pred["hdi_97%"], color="C0", alpha=0.25,
                label="94% HDI")
ax.set_xlabel("unanticipated industrial production (iprod)")
ax.set_ylabel("duration (days)")
ax.legend();
"""),
]


# -- 6. group-level effects -----------------------------------------------------------------
GROUPS = [
    md("""
# Group-level effects: a multi-centre trial, lme4's fit beside the posterior

A treatment is tried in 24 clinics; in each clinic some patients get it and some do not, and we
count how many recover. Clinics differ (their patients, their staff), so the recovery rate
varies from clinic to clinic, and so may the treatment's effect. A logistic model with a random
intercept and a random treatment slope per clinic says so: `(1 + treated | clinic)`, written as
in R's lme4.

The data are simulated here (with a fixed seed), so we know what the model should find.
"""),
    code(SETUP),
    code("""
rng = np.random.default_rng(2026)
clinics = [f"c{k:02d}" for k in range(24)]
b0 = rng.normal(0, 0.6, 24)       # each clinic's log-odds shift
b1 = rng.normal(0, 0.3, 24)       # and its treatment effect's shift
rows = []
for k, c in enumerate(clinics):
    for treated in (0, 1):
        n = int(rng.integers(15, 60))
        p = 1 / (1 + np.exp(-(-0.4 + 0.8 * treated + b0[k] + b1[k] * treated)))
        rows.append({"clinic": c, "treated": treated, "patients": n,
                     "recovered": int(rng.binomial(n, p))})
df = pd.DataFrame(rows)
df.head()
"""),
    md("""
## The classical fit: lme4's Laplace approximation

`fit_mle()` on a model with group-level terms is `lme4::glmer(nAGQ = 1)`: maximum likelihood of
the fixed effects and of the clinics' standard deviations and correlation, by the Laplace
approximation; `summary()` is laid out like lme4's print.
"""),
    code("""
model = bg.glm("recovered ~ treated + (1 + treated | clinic)", df, family="binomial",
               trials="patients")
mle = model.fit_mle()
print(mle.summary())
mle.varcorr()
"""),
    md("""
## The Bayesian fit, started where the likelihood peaks

`fit()` samples the same model with rstanarm's `stan_glmer` default priors (`decov` on the
clinics' covariance, `prior_summary()` lists them all). NUTS starts at lme4's fit with a mass
matrix from its curvature. The table puts the classical estimate (`mle`) beside the posterior of
every fixed effect, standard deviation (`sd_*`) and correlation (`cor_*`).
"""),
    code("""
model.prior_summary()
"""),
    code("""
fit = model.fit(draws=500, seed=1, progress=False)
fit.summary()
"""),
    md("""
The fixed effects agree closely. The standard deviations do not have to: lme4's estimate is the
mode of a likelihood that is skewed, with 24 clinics, while the posterior mean also counts the
uncertainty about it (and the prior). The correlation is barely identified by 24 clinics: its
posterior is wide.

## The clinics: a caterpillar plot

`fit.ranef()` holds each clinic's effects (posterior means, lme4's `ranef()` shape);
`bg.plot_ranef` sorts them and draws their intervals, with lme4's conditional modes beside them.
"""),
    code("""
bg.plot_ranef(fit, term="Intercept");
"""),
    code("""
bg.plot_forest(fit);
"""),
    md("""
## Predictions for a clinic in the trial and for a new one

`predict` includes each clinic's effects (`re="include"`, the default). A clinic that was not in
the trial gets effects drawn from the fitted population of clinics, so its interval is wider;
`re="exclude"` gives the population-level prediction (a typical clinic, effects 0).
"""),
    code("""
new = pd.DataFrame({"treated": [0, 1, 0, 1], "clinic": ["c03", "c03", "new", "new"]})
pd.concat({"with its effects": fit.predict(new),
           "population": fit.predict(new, re="exclude")}, axis=1).round(3)
"""),
]


# -- 7. excess zeros: Poisson, NB, zero-inflated, hurdle ---------------------------------------
ZEROS = [
    md("""
# Excess zeros: Poisson, negative binomial, zero-inflated and hurdle models compared by LOO

Many count data have more zeros than a Poisson model allows: people who never see a doctor,
fields with no plant, days without an accident. Two families of models give the zeros their own
part. A **zero-inflated** model (`zi`) mixes a point mass at zero with a count distribution, so
a zero is either a "structural" zero or a count that happened to be 0. A **hurdle** model (`hu`)
splits the data: one logistic model decides zero or not, a zero-truncated count model gives the
positive counts. The negative binomial, with no zero part at all, also puts more mass at 0 than
the Poisson with the same mean. Which of them do the data need? This notebook fits six, by
maximum likelihood and by NUTS, compares them by leave-one-out cross-validation and looks at
their rootograms.
"""),
    code(SETUP),
    md("""
## The data: doctor visits in the RAND Health Insurance Experiment

`randhie` (notebook 3) holds the number of outpatient doctor visits of 400 people with their
insurance plan, income-related incentive, physical limitation, chronic diseases and self-rated
health. About 30% made no visit. A Poisson GLM with the same predictors expects far fewer
zeros, the sum over people of P(Y = 0) = exp(-mu):
"""),
    code("""
visits = bg.datasets.load("randhie")
rhs = ("lncoins + idp + lpi + fmde + physlm + disea"
       " + C(health, Treatment('excellent'))")
formula = "mdvis ~ " + rhs
poisson_mle = bg.glm(formula, visits, family="poisson").fit_mle()
print(f"observed zeros: {np.sum(visits.mdvis == 0)}, "
      f"expected by the Poisson MLE: {np.exp(-poisson_mle.predict()['mean']).sum():.1f}")
"""),
    md("""
## Six models

The zero part is a constant probability by default (`family="zero_inflated_poisson"`), or a
logistic model of its own given by a formula: here the hurdle's zero model has the same
predictors as the counts (`hu="~ ..."`, coefficients named `hu_<name>`). bayesglm's `hu` is the
probability of a zero and `zi` the probability of a structural zero, as in brms; `alpha` is the
negative binomial's dispersion (variance `mu + alpha mu^2`, pscl's and MASS's `theta` is
`1 / alpha`).
"""),
    code("""
families = {
    "Poisson": "poisson",
    "negative binomial": "negative_binomial",
    "ZIP": "zero_inflated_poisson",
    "ZINB": "zero_inflated_negative_binomial",
    "hurdle Poisson": bg.families.HurdlePoisson(hu="~ " + rhs),
    "hurdle NB": bg.families.HurdleNegativeBinomial(hu="~ " + rhs),
}
models = {name: bg.glm(formula, visits, family=fam) for name, fam in families.items()}
"""),
    md("""
### Classical fits

Each family has its maximum-likelihood fit: IRLS for the Poisson and negative binomial, Newton's
method on the exact log-likelihood for the others (checked against R's `pscl::zeroinfl` and
`pscl::hurdle`). The zero-inflated negative binomial's `zi` runs to 0 and bayesglm says so: its
negative binomial part already explains the zeros, and the model collapses to the plain
negative binomial (R's `zeroinfl` reaches the same point, with a huge standard error on the zero
model's intercept).
"""),
    code("""
mles = {name: m.fit_mle() for name, m in models.items()}
pd.DataFrame({"log-likelihood": [r.llf for r in mles.values()],
              "AIC": [r.aic for r in mles.values()],
              "BIC": [r.bic for r in mles.values()]}, index=list(mles))
"""),
    md("""
The models with a negative binomial part are nearly 300 AIC units better than the best of those
without; among them the differences are small. A zero part alone (ZIP, hurdle Poisson) mends the zeros
but not the spread of the positive counts.

### Bayesian fits and LOO

`fit()` samples each by NUTS started at its MLE (the zero-inflated NB, whose MLE ran to a limit,
from the posterior mode). `bg.compare` ranks them by PSIS-LOO:
"""),
    code("""
with warnings.catch_warnings():
    warnings.simplefilter("ignore", bg.ConvergenceWarning)  # ZINB's zi -> 0, said above
    fits = {name: m.fit(draws=500, chains=4, seed=0, progress=False)
            for name, m in models.items()}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # ArviZ's Pareto k notes of the Poisson fits
    comparison = bg.compare(fits)
comparison[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "weight"]]
"""),
    md("""
The plain negative binomial comes first; the zero-inflated NB is 0.6 behind (it is the same
model here, with a zero probability near 0), and the hurdle NB 3 behind, less than one standard
error of the difference, with nearly twice the effective number of parameters (`p_loo`). The
Poisson-based models lose by 160 and more, many standard errors.
The zeros are not "excess" once the counts are allowed to vary more than a Poisson: these data
need overdispersion, not a separate zero process.

## Rootograms

`plot_ppc` of a zero-inflated or hurdle fit draws a *hanging rootogram* (Kleiber & Zeileis 2016;
`kind="rootogram"` for any count model): for each count, a bar of height sqrt(observed
frequency) hangs from the curve of sqrt(expected frequency) under the posterior predictive
distribution. A bar ending below 0 is a count the model predicts too rarely, one ending above 0
a count it predicts too often; the grey band shows where replicated data sets' bars end. The
square root keeps the rare large counts visible.
"""),
    code("""
fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharey=True, layout="constrained")
for ax, name in zip(axes.ravel(), ["Poisson", "ZIP", "negative binomial", "hurdle NB"]):
    bg.plot_ppc(fits[name], kind="rootogram", ax=ax)
    ax.set_title(name)
    ax.get_legend().remove()
"""),
    md("""
The Poisson predicts far too few zeros (the bar at 0 hangs far below the line) and too many
people with 2 to 6 visits. The ZIP gets the zeros right by construction but still misses the
shape of the positive counts: too few ones, too many middling counts. The negative binomial and
the hurdle NB keep nearly every bar's end within the band. (The last bar collects every count
beyond the axis.)

## Reading a hurdle model

The hurdle NB's two parts answer two questions: who sees a doctor at all (`hu_*`, a logistic
model of P(no visit)), and how often those who do (the counts' coefficients, on the log scale).
Its summary puts the MLE beside each posterior:
"""),
    code("""
fit_h = fits["hurdle NB"]
fit_h.summary().loc[["physlm", "disea", "hu_physlm", "hu_disea", "alpha"],
                    ["mle", "mle_se", "mean", "sd", "hdi_3%", "hdi_97%"]]
"""),
    md("""
A physical limitation lowers the odds of no visit (`hu_physlm` < 0) and raises the number of
visits among those who go (`physlm` > 0). The predicted mean number of visits, E[y] = (1 - hu) x
the truncated mean, is what `predict` gives:
"""),
    code("""
people = visits.iloc[:4]
pd.concat({"observed": people["mdvis"],
           "hurdle NB": fit_h.predict(people)["mean"],
           "negative binomial": fits["negative binomial"].predict(people)["mean"]}, axis=1)
"""),
    md("""
## What to take away

- Count excess zeros against the right baseline: 30% zeros are too many for a Poisson with this
  mean but not for a negative binomial.
- Compare the candidates by LOO (`bg.compare`) and look at rootograms (`plot_ppc`); here both say
  the negative binomial is enough, and the zero-inflated NB says so too by sending `zi` to 0.
- When a zero part is needed, a hurdle model separates "whether" from "how many", and its
  `hu_` coefficients read as a logistic regression of the zeros. Where the zero model is
  separated (a predictor level with no zeros at all), the MLE does not exist and bayesglm names
  the coefficients that run off; `fit()`'s priors keep them finite.
"""),
]


# -- 8. ordinal regression ------------------------------------------------------------------
ORDINAL = [
    md("""
# Ordinal regression: where voters place themselves from liberal to conservative

An ordinal response has ordered categories without a scale: "strongly disagree" to "strongly
agree", a pain score, a grade. Treating its codes as numbers pretends that every step is the
same size; treating the categories as unordered throws the order away. The cumulative (ordinal)
model keeps both: a latent variable `x'beta + e` crosses ordered cutpoints, and
P(Y <= k) = F(cutpoint_k - x'beta) with F the logistic CDF (a proportional-odds model, R's
`MASS::polr` and `ordinal::clm`) or the normal CDF (ordered probit).
"""),
    code(SETUP),
    md("""
## The data

`anes96` (the 1996 American National Election Study) has each respondent's self-placement on a
seven-point scale from extremely liberal (1) to extremely conservative (7), beside their party
identification (0, strong Democrat, to 6, strong Republican), age, education, income band and
how often they watch TV news.
"""),
    code("""
anes = bg.datasets.load("anes96")
anes["selfLR"].value_counts().sort_index()
"""),
    md("""
## The classical fit

`family="cumulative"` takes integer codes or an ordered categorical response; its categories
are learned from the data and kept with the model. There is no intercept among the coefficients:
the six cutpoints carry it (`cutpoints[k]` between category k and k + 1, with polr's sign: a
positive coefficient moves a respondent toward the conservative end).
"""),
    code("""
formula = "selfLR ~ PID + age + educ + income + TVnews"
model = bg.glm(formula, anes, family="cumulative")
mle = model.fit_mle()
mle.summary()
"""),
    md("""
Each step toward the Republican end of party identification multiplies the odds of placing
oneself more conservatively by about exp(0.69) = 2; education moves people the other way, and
TV news does nothing measurable.

## The posterior

The coefficients get rstanarm's default normal priors, the cutpoints brms' Student-t(3, 0, 2.5)
(see the families guide); NUTS starts at the MLE with its covariance as the mass matrix:
"""),
    code("""
fit = model.fit(draws=500, chains=4, seed=0, progress=False)
fit.summary()[["mle", "mle_se", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat"]]
"""),
    md("""
With 944 respondents the posterior means and sds agree with the MLE and its standard errors to
the second digit.

## Category probabilities

`predict` gives, for each row, the probability of each category: the MLE with delta-method
standard errors, the posterior with its sd and HDI. Here for three otherwise typical people, a
strong Democrat, an independent and a strong Republican:
"""),
    code("""
people = pd.DataFrame({"PID": [0, 3, 6], "age": 45, "educ": 4, "income": 15, "TVnews": 3},
                      index=["strong Democrat", "independent", "strong Republican"])
levels = [str(k) for k in range(1, 8)]
pd.concat({"MLE": mle.predict(people)[levels], "posterior": fit.predict(people)[levels]},
          axis=1).round(3)
"""),
    code("""
probs = fit.predict(people)
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for i, (who, row) in enumerate(probs.iterrows()):
    x = np.arange(1, 8) + (i - 1) * 0.25
    lo = row[[f"{k}_hdi_3%" for k in levels]].to_numpy()
    hi = row[[f"{k}_hdi_97%" for k in levels]].to_numpy()
    mean = row[levels].to_numpy()
    ax.bar(x, mean, width=0.25, label=who)
    ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="none", color="k", capsize=2)
ax.set_xticks(range(1, 8))
ax.set_xlabel("self-placement (1 = extremely liberal, 7 = extremely conservative)")
ax.set_ylabel("posterior probability")
ax.legend();
"""),
    md("""
## Does the model reproduce the data?

`plot_ppc` of an ordinal fit compares the observed number of respondents in each category with
the posterior predictive replications, one bar per category:
"""),
    code("""
bg.plot_ppc(fit);
"""),
    md("""
## Logit or probit?

The ordered probit (`bg.families.Cumulative("probit")`) assumes a normal latent error instead of
a logistic one. Its coefficients are on a different scale (about 1/1.7 of the logit's), so
compare the two by how well they predict, with LOO:
"""),
    code("""
probit = bg.glm(formula, anes, family=bg.families.Cumulative("probit"))
fit_probit = probit.fit(draws=500, chains=4, seed=0, progress=False)
bg.compare({"logit": fit, "probit": fit_probit})[["rank", "elpd_loo", "p_loo", "elpd_diff",
                                                    "dse"]]
"""),
    md("""
The proportional-odds logit predicts better here, by about three and a half standard errors of
the difference.

## Raters as a group: a mixed ordinal model

Ratings often come from a few raters, each with their own idea of where "bitter" starts. The
bundled `wine` data (Randall 1989, the example of R's `ordinal::clmm`) has nine judges each
rating eight wines from 1 to 5. A random intercept per judge shifts all of a judge's ratings
together: `(1 | judge)` in the formula, as lme4 writes it.
"""),
    code("""
wine = bg.datasets.load("wine")
judges = bg.glm("rating ~ temp + contact + (1 | judge)", wine, family="cumulative")
mle_w = judges.fit_mle()
mle_w.summary()
"""),
    md("""
`fit_mle()` is the Laplace approximation, as `clmm` computes it: it reproduces `clmm`'s
estimates (tempwarm 3.063, contactyes 1.835, the judges' sd 1.131, logLik -81.565) to within
1e-5 standard errors (`tests/reference/test_glmm_families.py`). The posterior adds what the
Laplace fit cannot say with nine judges: how uncertain the judges' sd is.
"""),
    code("""
fit_w = judges.fit(seed=1, progress=False)
fit_w.summary()[["mle", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat"]].round(3)
"""),
    md("""
Each judge's effect, with the Laplace modes for comparison: judge 1 rates everything bitter,
judge 7 nothing.
"""),
    code("""
pd.concat({"laplace": mle_w.ranef()["judge"]["Intercept"],
           "posterior": fit_w.ranef()["judge"]["Intercept"]}, axis=1).round(2)
"""),
    md("""
Predictions for a new judge draw their effect from the fitted population (`re="include"`, the
default), so they are wider than those of a typical judge (`re="exclude"`, the effect set to
0):
"""),
    code("""
warm_contact = pd.DataFrame({"temp": ["warm"], "contact": ["yes"], "judge": ["new"]})
levels_w = [str(k) for k in range(1, 6)]
pd.concat({"new judge": fit_w.predict(warm_contact)[levels_w],
           "typical judge": fit_w.predict(warm_contact, re="exclude")[levels_w]}).round(3)
"""),
    md("""
## What to take away

- `family="cumulative"` fits ordinal responses by maximum likelihood (agreeing with R's `polr`
  and `clm`) and by NUTS, side by side; cutpoints follow polr's sign convention.
- `predict` gives category probabilities with their uncertainty, for the MLE and the posterior.
- `plot_ppc` checks the category counts; `bg.compare` chooses between links.
- Group-level terms work with ordinal models (and every other family): `clmm`'s fit, and its
  posterior with the group sd's uncertainty and predictions for new raters.
"""),
]


# -- 9. what the model says: predictions, comparisons, slopes ----------------------------------
INTERPRET = [
    md("""
# What the model says: predictions, comparisons and slopes

A coefficient on the log-odds or log-rate scale is not what a reader wants: they want "the
probability of a Clinton vote falls from 0.73 for a moderate to 0.06 for a strong
conservative", "class C vehicles have 1.4 times the claims of class A". This
notebook turns two fitted GLMs into such statements with bayesglm's `predictions`,
`comparisons` and `slopes` (R's marginaleffects names them so), each computed twice: by the
delta method from the maximum likelihood fit and exactly from the posterior draws, side by side.
"""),
    code(SETUP),
    md("""
## A logistic regression: who voted for Clinton in 1996

The American National Election Study of 1996 (944 voters; `anes96`) records each voter's
self-placement on a liberal-conservative scale (`selfLR`, 1 = extremely liberal to 7 =
extremely conservative), age, education and income. We model the probability of a vote for
Clinton rather than Dole.
"""),
    code("""
df = bg.datasets.load("anes96")
df["clinton"] = (df["vote"] == "Clinton").astype(int)
model = bg.glm("clinton ~ selfLR + age + educ + income", df, family="binomial")
fit = model.fit(seed=1, progress=False)
fit.summary()[["mle", "mle_se", "mean", "sd"]]
"""),
    md("""
A step to the right on the 7-point scale multiplies the odds of a Clinton vote by
exp(-1.22) = 0.29: true, but hard to feel. The **average marginal effect** (the slope of the
probability in `selfLR`, averaged over the 944 voters) says it in probability points, and
`side_by_side=True` puts the MLE's delta-method estimate beside the posterior's:
"""),
    code("""
fit.avg_slopes("selfLR", side_by_side=True)
"""),
    md("""
Each step to the right lowers the probability of a Clinton vote by about 0.18 on average
(MLE and posterior agree to the third digit). A **comparison** between two concrete values of
the scale, averaged over the voters (each voter's other characteristics kept as they are),
and **predictions** for a typical voter (age, education and income at their means, from
`bg.datagrid`) at three places on the scale:
"""),
    code("""
fit.avg_comparisons({"selfLR": [3, 5]}, side_by_side=True)
"""),
    code("""
grid = bg.datagrid(model, selfLR=[1, 4, 7])
fit.predictions(grid, side_by_side=True)[["selfLR", "mle", "mle_conf_low", "mle_conf_high",
                                          "estimate", "conf_low", "conf_high"]]
"""),
    md("""
`bg.plot_predictions` draws the predictions over a grid: the x axis spans the fitted range of
the first column, the second column takes its five numbers (minimum, quartiles, maximum) as
series, every other column sits at its mean. The posterior's mean and HDI are the solid line
and band, the MLE's estimate and confidence band the dashed and dotted lines beside them:
"""),
    code("""
bg.plot_predictions(fit, ["selfLR", "income"]);
"""),
    md("""
## A Poisson model with an exposure: claim rates

The `claims` data (synthetic) count motor-insurance claims in 64 cells of driver age, vehicle
class and region, with the policy-years at risk (`holders`) as exposure. On the response scale
a prediction of a row is its expected count at its own exposure; for a rate per policy-year,
ask for rows with `holders=1`.
"""),
    code("""
claims = bg.datasets.load("claims")
cmodel = bg.glm("claims ~ age + vehicle + region", claims, family="poisson", exposure="holders")
cfit = cmodel.fit(seed=2, progress=False)
rates = bg.datagrid(cmodel, vehicle=["A", "B", "C", "D"], holders=[1.0])
cfit.predictions(rates, side_by_side=True)[["vehicle", "age", "region", "mle", "estimate",
                                            "conf_low", "conf_high"]]
"""),
    md("""
The vehicle classes compared **as ratios**: `comparison="ratio"` of an average is the ratio of
the average expected counts over the 64 cells with every cell's vehicle set to each class
(marginaleffects' "ratioavg"). Claims are about 1.15, 1.41 and 1.62 times those of class A, and
a comparison of two regions the same way:
"""),
    code("""
cfit.avg_comparisons("vehicle", comparison="ratio", side_by_side=True)
"""),
    code("""
cfit.avg_comparisons({"region": ["east", "north"]}, comparison="ratio", side_by_side=True)
"""),
    md("""
A categorical condition is drawn as points with intervals, the posterior's and the MLE's next
to each other (here the expected claims of a cell of average exposure in the age band 17-24: the age bands
are equally frequent, and `datagrid` takes the first of tied modes):
"""),
    code("""
bg.plot_predictions(cfit, ["vehicle", "region"]);
"""),
    md("""
## What to take away

- `predictions`, `comparisons` and `slopes` (and their `avg_*` averages) say what a GLM means
  on the response scale, for the MLE (delta method) and the posterior (its draws); slopes are
  derivatives by automatic differentiation.
- `side_by_side=True` gives both in one table; `bg.datagrid` builds rows for typical cases;
  `bg.plot_predictions` and `bg.plot_slopes` draw them over a grid.
- With an exposure the response scale is the expected count of each row's exposure: pass
  `holders=1` (the exposure column at 1) for a rate.
"""),
]


NOTEBOOKS = {
    "01_getting_started.ipynb": GETTING_STARTED,
    "02_separation.ipynb": SEPARATION,
    "03_counts_overdispersion.ipynb": COUNTS,
    "04_priors.ipynb": PRIORS,
    "05_gamma_regression.ipynb": GAMMA,
    "06_group_effects.ipynb": GROUPS,
    "07_excess_zeros.ipynb": ZEROS,
    "08_ordinal.ipynb": ORDINAL,
    "09_what_the_model_says.ipynb": INTERPRET,
}


def build(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
    nbformat.validate(nb)
    return nb


def main(out: Path = HERE) -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        path = out / name
        nbformat.write(build(cells), path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
