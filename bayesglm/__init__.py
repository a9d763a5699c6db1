"""bayesglm: Bayesian generalized linear models on JAX + NumPyro, with the classical fit beside them."""

from __future__ import annotations

import os as _os


def _ask_for_host_devices(n: int = 4) -> None:
    """Let JAX see ``n`` CPU devices so NUTS chains can run in parallel (a chain per device).

    Only when nothing has chosen otherwise: XLA_FLAGS without a device count, no JAX backend
    started yet, and BAYESGLM_HOST_DEVICES not set to 0 (set it to another number to choose).
    """
    text = _os.environ.get("BAYESGLM_HOST_DEVICES", "").strip()
    if text.lower() in ("", "auto"):
        want = n
    elif text.isdigit():
        want = int(text)
    else:
        raise ValueError(
            f"the environment variable BAYESGLM_HOST_DEVICES must be a number of host devices "
            f"(0 or 1: leave JAX's devices alone), 'auto' or empty, got {text!r}"
        )
    flags = _os.environ.get("XLA_FLAGS", "")
    if want <= 1 or "xla_force_host_platform_device_count" in flags:
        return
    try:
        from jax._src import xla_bridge

        if xla_bridge.backends_are_initialized():
            return
    except Exception:  # pragma: no cover - private API moved: leave JAX alone
        return
    _os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={want}".strip()


_ask_for_host_devices()

import jax as _jax  # noqa: E402

# Fitting is done in float64 (R and statsmodels agreement to ~1e-6 needs it).
_jax.config.update("jax_enable_x64", True)

import warnings as _warnings  # noqa: E402

with _warnings.catch_warnings():
    # NumPyro imports tqdm.auto, which warns in a Jupyter kernel without ipywidgets; the text
    # progress bar it falls back to works, so the warning only adds noise.
    _warnings.filterwarnings("ignore", message="IProgress not found")
    from . import datasets, families, links, priors  # noqa: E402
    from .bayes_results import BayesResults, compare, load  # noqa: E402
    from .glm import GLM, glm  # noqa: E402
    from .mle import RankDeficientError  # noqa: E402
    from .plots import (  # noqa: E402
        plot_binned_residuals, plot_forest, plot_mle_vs_posterior, plot_ppc, plot_trace)
    from .results import MLEResults  # noqa: E402
from ._warnings import (  # noqa: E402
    BayesGLMWarning,
    ConvergenceWarning,
    DomainWarning,
    EstimabilityWarning,
    MissingDataWarning,
    PriorConflictWarning,
    SamplingWarning,
    SeparationWarning,
)

__version__ = "0.1.0"

__all__ = [
    "GLM",
    "glm",
    "BayesResults",
    "compare",
    "load",
    "MLEResults",
    "plot_trace",
    "plot_forest",
    "plot_ppc",
    "plot_mle_vs_posterior",
    "plot_binned_residuals",
    "RankDeficientError",
    "datasets",
    "families",
    "links",
    "priors",
    "BayesGLMWarning",
    "ConvergenceWarning",
    "DomainWarning",
    "EstimabilityWarning",
    "MissingDataWarning",
    "PriorConflictWarning",
    "SamplingWarning",
    "SeparationWarning",
]
