"""The package's own warning categories (part of the public contract)."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "warn",
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


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category: type[Warning]) -> None:
    """``warnings.warn`` pointing at the first line outside bayesglm: the user's call.

    Every warning of the package goes through here, so that it names the user's line whatever
    the depth of the call inside bayesglm (a formula, the CLI, a fit that falls back to the
    MAP), and Python's once-per-location filter does not merge warnings from different calls.
    """
    frame = sys._getframe(1)
    level = 2  # 1 would be this function's own line
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
