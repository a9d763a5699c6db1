"""bayesglm: Bayesian generalized linear models on JAX + NumPyro, with the classical fit beside them.

``import bayesglm`` imports nothing heavy: the public names below are loaded when first used
(PEP 562), so ``bayesglm --help`` and a script's start stay fast. bayesglm leaves JAX's global
settings as they are: its own computations run in float64 inside ``jax.enable_x64(True)``
(``bayesglm._x64``), whatever ``jax_enable_x64`` says. What it does change, at import and only if
JAX has not started and nothing else chose: ``XLA_FLAGS`` gets
``--xla_force_host_platform_device_count=4`` so that NUTS chains run in parallel on the CPU
(``BAYESGLM_HOST_DEVICES=0`` leaves it alone, another number chooses the count).
"""

from __future__ import annotations

import importlib as _importlib
import os as _os
import sys as _sys

from ._warnings import (
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
    if "jax" in _sys.modules:  # JAX imported already: its backends may have started
        import jax

        try:  # JAX's public switch, refused (RuntimeError) once its backends are running
            jax.config.update("jax_num_cpu_devices", want)
        except (RuntimeError, AttributeError):  # started: leave JAX's devices alone
            pass
        return
    _os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={want}".strip()


_ask_for_host_devices()

#: public name -> module that defines it (loaded on first use)
_LAZY = {
    "GLM": "glm_model", "glm": "glm_model",
    "BayesResults": "bayes_results", "compare": "bayes_results", "load": "bayes_results",
    "MLEResults": "results",
    "ChunkedGLM": "outofcore", "ChunkedMLEResults": "outofcore",
    "RankDeficientError": "mle",
    "plot_trace": "plots", "plot_forest": "plots", "plot_ppc": "plots",
    "plot_mle_vs_posterior": "plots", "plot_binned_residuals": "plots", "plot_ranef": "plots",
    "plot_predictions": "plots", "plot_slopes": "plots",
    "MixedBayesResults": "mixed_results", "MixedMLEResults": "mixed",
    "datagrid": "interpret",
}
_SUBMODULES = ("datasets", "families", "links", "priors")


def _quiet_progress_bars() -> None:
    """In a Jupyter kernel without ipywidgets, ``import tqdm.auto`` (NumPyro's and the
    sampler's progress bars) warns "IProgress not found" and falls back to the text bar, which
    works: import it once here without the warning, so that no later import repeats it."""
    if "ipykernel.zmqshell" in _sys.modules:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")
            import tqdm.auto  # noqa: F401


_quiet_progress_bars()


def __getattr__(name: str):
    if name in _SUBMODULES:
        module, attr = f"{__name__}.{name}", None
    elif name in _LAZY:
        module, attr = f"{__name__}.{_LAZY[name]}", name
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "GLM",
    "glm",
    "BayesResults",
    "compare",
    "load",
    "MLEResults",
    "ChunkedGLM",
    "ChunkedMLEResults",
    "plot_trace",
    "plot_forest",
    "plot_ppc",
    "plot_ranef",
    "plot_predictions",
    "plot_slopes",
    "MixedBayesResults",
    "MixedMLEResults",
    "plot_mle_vs_posterior",
    "plot_binned_residuals",
    "RankDeficientError",
    "datagrid",
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
