"""bayesglm computes in float64 without switching JAX's global setting.

R and statsmodels agreement to ~1e-7 needs float64. JAX's ``jax_enable_x64`` is a process-wide
default that bayesglm leaves as the user has it: every public entry point that runs JAX code
(fits, predictions, residuals, log-likelihoods, draws) runs inside the thread-local context
``jax.enable_x64(True)`` instead, through :func:`float64`. JAX includes the setting in its
compilation-cache key, so the user's own float32 programs and bayesglm's float64 ones never
mix. Arrays handed back to the user are NumPy arrays (or pandas objects) in float64.
"""

from __future__ import annotations

import functools

import jax

__all__ = ["float64"]


def float64(fn):
    """Run ``fn`` with 64-bit JAX types enabled in this thread (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
