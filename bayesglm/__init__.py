"""bayesglm: Bayesian generalized linear models on JAX + NumPyro, with the classical fit beside them."""

from __future__ import annotations

import jax as _jax

# Fitting is done in float64 (R and statsmodels agreement to ~1e-6 needs it).
_jax.config.update("jax_enable_x64", True)

from . import datasets, families, links  # noqa: E402
from .glm import GLM  # noqa: E402
from .mle import RankDeficientError  # noqa: E402
from .results import MLEResults  # noqa: E402
from ._warnings import (  # noqa: E402
    BayesGLMWarning,
    ConvergenceWarning,
    DomainWarning,
    MissingDataWarning,
    SamplingWarning,
    SeparationWarning,
)

__version__ = "0.1.0"

__all__ = [
    "GLM",
    "MLEResults",
    "RankDeficientError",
    "datasets",
    "families",
    "links",
    "BayesGLMWarning",
    "ConvergenceWarning",
    "DomainWarning",
    "MissingDataWarning",
    "SamplingWarning",
    "SeparationWarning",
]
