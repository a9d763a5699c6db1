"""Prior specifications and the default (autoscaled) priors of a GLM.

Backend-neutral: plain Python/NumPy objects. Each prior writes its log density once
(``Prior.kernel``, generic over NumPy's and JAX's functions, :class:`Ops`): ``logpdf``
evaluates it in NumPy (the prior-conflict check, the tests), the NumPyro model in
``model.py`` with JAX. ``sample`` draws from it with NumPy's generator (prior predictive).

Default priors (``priors="auto"``) follow rstanarm, as documented in the vignette *Prior
Distributions for rstanarm Models* (section "Default priors and scale adjustments",
https://mc-stan.org/rstanarm/articles/priors.html) and ``?rstanarm::priors``, and as coded
in rstanarm's ``stan_glm.fit`` / ``handle_glm_prior`` / ``set_prior_scale``
(https://github.com/stan-dev/rstanarm, files ``R/stan_glm.fit.R``, ``R/priors.R``,
``R/misc.R``). With ``s_y = sd(y)`` for the Gaussian family and 1 otherwise (R's ``sd``,
``ddof=1``):

* slope k: ``Normal(0, 2.5 * s_y / sd(x_k))``; a column with one unique value is not divided
  (rstanarm: ``if (num.categories == 1) x.scale <- 1 else x.scale <- sd(x)``); scales are
  floored at 1e-12 (rstanarm's ``min_prior_scale``);
* intercept, on centred predictors (the intercept at ``x = colMeans(X)``):
  ``Normal(m_y, 2.5 * s_y)`` with ``m_y = mean(y)`` for Gaussian + identity link, else 0;
* dispersion (rstanarm's ``prior_aux = exponential(autoscale = TRUE)``):
  ``Exponential(rate = 1 / s_y)``;
* probit link: the default scales 2.5 (slopes and intercept) are first multiplied by
  ``dnorm(0) / dlogis(0)`` (about 1.596; ``?rstanarm::priors``: "unless the probit link function
  is used, in which case these defaults are scaled by a factor of dnorm(0)/dlogis(0)";
  ``set_prior_scale`` in R/misc.R).

``priors="gelman2008"`` follows ``arm::bayesglm`` (Gelman, Jakulin, Pittau & Su 2008, "A weakly
informative default prior distribution for logistic and other regression models", Ann. Appl.
Stat. 2(4):1360-1383; ``?arm::bayesglm`` and ``bayesglm.fit`` in
https://github.com/suyusung/arm, R/bayesglm.R): Cauchy (``prior.df = 1``) priors with location 0
and scale ``prior.scale = 2.5`` for slopes, ``prior.scale.for.intercept = 10`` for the
intercept, both times 1.6 for the probit link and, for the Gaussian family, times ``2 * sd(y)``;
then (``scaled = TRUE``) each column's scale is divided by 1 (one unique value), by its range
(two unique values) or by ``2 * sd(x)`` (more); the intercept's prior applies to the intercept
at the predictors' means (``x.star[nobs + 1, ] <- colMeans(x)``).

Frequency weights are ignored in all of these data-dependent choices, as rstanarm and arm
ignore theirs (``sd(y)``, ``sd(x)``, ``mean(y)`` and ``colMeans(x)`` are unweighted).
"""

from .covariance import (LKJ, Decov, TermPrior, group_prior_table, resolve_group_priors,
                         split_group_priors)
from .extra import ExtraPriors, resolve_extra_priors, split_extra_priors
from .resolve import PROBIT_FACTOR, ResolvedPriors, check_priors, resolve_priors, x_scale
from .specs import (NUMPY_OPS, PRIOR_CLASSES, Cauchy, Exponential, Flat, Gamma, HalfCauchy,
                    HalfNormal, HalfStudentT, Laplace, Normal, Ops, Prior, StudentT, centre)

__all__ = [
    "Prior",
    "Normal",
    "StudentT",
    "Cauchy",
    "Laplace",
    "Flat",
    "HalfNormal",
    "HalfStudentT",
    "HalfCauchy",
    "Exponential",
    "Gamma",
    "Decov",
    "LKJ",
    "TermPrior",
    "resolve_group_priors",
    "split_group_priors",
    "group_prior_table",
    "ResolvedPriors",
    "resolve_priors",
    "ExtraPriors",
    "resolve_extra_priors",
    "split_extra_priors",
    "PROBIT_FACTOR",
    "Ops",
    "NUMPY_OPS",
    "PRIOR_CLASSES",
    "centre",
    "x_scale",
    "check_priors",
]
