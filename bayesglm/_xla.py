"""``jit``: ``jax.jit`` with the XLA compile options bayesglm's programs are measured fastest with.

On the CPU, XLA's newer MLIR "fusion emitters" (the default since 2025) compile bayesglm's
programs markedly slower than the classic LLVM emitters and run them no faster here: a first
NUTS fit of a logistic regression (n = 1e4, p = 11) compiled its sampler in ~2.5 s instead of
~3.4 s and its IRLS in ~0.7 s instead of ~1.1 s, at the same time per leapfrog step and the
same IRLS time at n = 1e6 (benchmarks/nuts.py, benchmarks/mle.py). The option applies to
bayesglm's own programs only, and only where JAX's default backend is the CPU (checked at the
first call, so importing bayesglm initialises no backend). A choice of the same option in
``XLA_FLAGS`` is left to stand. The first ``jit`` built turns on JAX's persistent compilation
cache (:mod:`bayesglm._cache`).
"""

from __future__ import annotations

import functools
import os

import jax

from ._cache import enable as enable_cache

__all__ = ["jit", "compiler_options"]

CPU_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def compiler_options() -> dict | None:
    if jax.default_backend() != "cpu":
        return None
    flags = os.environ.get("XLA_FLAGS", "")
    opts = {k: v for k, v in CPU_OPTIONS.items() if k not in flags}
    return opts or None


class _Jit:
    """A ``jax.jit`` of ``fun`` built at the first call (attributes forward to it)."""

    def __init__(self, fun, kwargs):
        self._fun, self._kwargs, self._jitted = fun, kwargs, None
        functools.update_wrapper(self, fun)

    def _get(self):
        if self._jitted is None:
            enable_cache()  # JAX's persistent compilation cache (bayesglm._cache), once
            self._jitted = jax.jit(self._fun, compiler_options=compiler_options(), **self._kwargs)
        return self._jitted

    def __call__(self, *args, **kwargs):
        return self._get()(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get(), name)


def jit(fun=None, **kwargs):
    """``jax.jit(fun, **kwargs)`` with :data:`CPU_OPTIONS` on the CPU; usable as a decorator."""
    if fun is None:
        return functools.partial(jit, **kwargs)
    return _Jit(fun, kwargs)
