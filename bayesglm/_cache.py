"""JAX's persistent compilation cache for bayesglm's programs, on request: a new process's first
fit of a model of a shape seen before loads the compiled programs from disk instead of
compiling them again.

Off by default for now (turning it on by default, with an opt-out, is issue 14's). It was made
opt-in after a clean-clone CI run with it on ended in a segmentation fault inside XLA after
~1,600 tests; that crash was the test process running out of memory maps (every compiled
program holds some; see tests/conftest.py), with the cache off as well, not the cache.
:func:`enable` runs before bayesglm's first compilation (:mod:`bayesglm._xla`, the sampler) and,
where ``BAYESGLM_COMPILATION_CACHE`` is ``1``, ``on``, ``true`` or ``yes``, sets JAX's cache
directory, unless the user chose one (``jax.config.jax_compilation_cache_dir``, or the
environment variable ``JAX_COMPILATION_CACHE_DIR``): theirs is used as they set it, with JAX's
own thresholds.

The directory is ``BAYESGLM_CACHE_DIR`` where set, else ``jax`` in the user's cache folder
(``$XDG_CACHE_HOME/bayesglm`` or ``~/.cache/bayesglm``; ``~/Library/Caches/bayesglm`` on macOS,
``%LOCALAPPDATA%\\bayesglm\\Cache`` on Windows). Every program compiled in at least
:data:`MIN_COMPILE_SECONDS` is stored (JAX's default, 1 s, would keep few of bayesglm's, which
compile in 0.05 to 3 s each). The folder is not size-limited (JAX's limit needs the ``filelock``
package, which bayesglm does not depend on): a model shape adds its programs once (the claims
example: ~2 MB); deleting the folder is always safe. JAX's cache is process-wide: once set, it
also keeps the user's own programs.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

__all__ = ["enable", "choose", "cache_dir", "MIN_COMPILE_SECONDS", "ON_VALUES"]

#: programs that compile faster than this are not written (not worth a file each)
MIN_COMPILE_SECONDS = 0.05
#: values of ``BAYESGLM_COMPILATION_CACHE`` that turn the cache on
ON_VALUES = ("1", "on", "true", "yes")

_lock = threading.Lock()
_done = False


def cache_dir(environ=None) -> Path:
    """The folder bayesglm gives JAX's cache (see the module; ``environ``: default
    ``os.environ``)."""
    environ = os.environ if environ is None else environ
    given = environ.get("BAYESGLM_CACHE_DIR")
    if given:
        return Path(given).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Caches" / "bayesglm"
    elif os.name == "nt":
        local = environ.get("LOCALAPPDATA")
        base = (Path(local) if local else home / "AppData" / "Local") / "bayesglm" / "Cache"
    else:
        xdg = environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else home / ".cache") / "bayesglm"
    return base / "jax"


def choose(environ, user_dir) -> str | None:
    """The folder to give JAX's cache, or None to leave JAX's setting alone (the rules of the
    module; ``environ``: the environment, ``user_dir``: JAX's cache folder as configured)."""
    if environ.get("BAYESGLM_COMPILATION_CACHE", "").strip().lower() not in ON_VALUES:
        return None
    if user_dir or environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None  # the user's own cache, as they set it
    return str(cache_dir(environ))


def enable() -> str | None:
    """Turn the cache on (once per process; see the module); the folder in use, or None where
    the cache is off. Never raises: a folder that cannot be made leaves the cache off."""
    global _done
    if _done:
        return _current()
    with _lock:
        if _done:
            return _current()
        _done = True
        import jax

        path = choose(os.environ, jax.config.jax_compilation_cache_dir)
        if path is None:
            return _current()
        try:
            Path(path).mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
        return path


def _current() -> str | None:
    import jax

    return jax.config.jax_compilation_cache_dir or os.environ.get("JAX_COMPILATION_CACHE_DIR")
