"""The package's own warning categories (part of the public contract)."""

from __future__ import annotations

__all__ = [
    "BayesGLMWarning",
    "ConvergenceWarning",
    "SeparationWarning",
    "EstimabilityWarning",
    "PriorConflictWarning",
    "SamplingWarning",
    "DomainWarning",
    "MissingDataWarning",
]


class BayesGLMWarning(UserWarning):
    """Base class of every warning bayesglm emits."""


class ConvergenceWarning(BayesGLMWarning):
    """An iterative fit stopped before meeting its convergence criterion."""


class SeparationWarning(BayesGLMWarning):
    """The MLE does not exist: binomial data are (quasi-)completely separated, or count data
    (Poisson, negative binomial with the log link) are all zero along a direction of the
    coefficients (a factor level with only zero counts, an all-zero response)."""


class EstimabilityWarning(BayesGLMWarning):
    """A quantity cannot be estimated from these data (e.g. the dispersion with no residual
    degrees of freedom); it is reported as NaN."""


class PriorConflictWarning(BayesGLMWarning):
    """The posterior sits far from the likelihood in a way the prior explains (prior-data
    conflict): the prior, not the data, is deciding the answer."""


class SamplingWarning(BayesGLMWarning):
    """MCMC diagnostics (divergences, R-hat, ESS, tree depth) call the draws into question."""


class DomainWarning(BayesGLMWarning):
    """Data or a family/link choice are allowed but unusual (e.g. non-integer counts)."""


class MissingDataWarning(BayesGLMWarning):
    """Rows with missing values were dropped (``missing="drop"``)."""
