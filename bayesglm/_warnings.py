"""The package's own warning categories (part of the public contract)."""

from __future__ import annotations

__all__ = [
    "BayesGLMWarning",
    "ConvergenceWarning",
    "SeparationWarning",
    "SamplingWarning",
    "DomainWarning",
    "MissingDataWarning",
]


class BayesGLMWarning(UserWarning):
    """Base class of every warning bayesglm emits."""


class ConvergenceWarning(BayesGLMWarning):
    """An iterative fit stopped before meeting its convergence criterion."""


class SeparationWarning(BayesGLMWarning):
    """Binomial data are (quasi-)completely separated: the MLE does not exist."""


class SamplingWarning(BayesGLMWarning):
    """MCMC diagnostics (divergences, R-hat, ESS, tree depth) call the draws into question."""


class DomainWarning(BayesGLMWarning):
    """Data or a family/link choice are allowed but unusual (e.g. non-integer counts)."""


class MissingDataWarning(BayesGLMWarning):
    """Rows with missing values were dropped (``missing="drop"``)."""
