"""JAX's persistent compilation cache for bayesglm's programs: a new process's first fit of a
model of a shape seen before loads the compiled programs from disk instead of compiling them
again (issue 14's time to first posterior).

On by default. :func:`enable` runs before bayesglm's first compilation (:mod:`bayesglm._xla`,
the sampler) and sets JAX's cache directory, unless

* ``BAYESGLM_COMPILATION_CACHE`` is ``0``, ``off``, ``false`` or ``no`` (the opt-out), or
* the user chose a cache folder themselves (``jax.config.jax_compilation_cache_dir``, or the
  environment variable ``JAX_COMPILATION_CACHE_DIR``): theirs is used as they set it, with JAX's
  own thresholds, and bayesglm changes none of JAX's settings.

The directory is ``BAYESGLM_CACHE_DIR`` where set, else ``jax`` in the user's cache folder
(``$XDG_CACHE_HOME/bayesglm`` or ``~/.cache/bayesglm``; ``~/Library/Caches/bayesglm`` on macOS,
``%LOCALAPPDATA%\\bayesglm\\Cache`` on Windows). Every program compiled in at least
:data:`MIN_COMPILE_SECONDS` is stored (JAX's default, 1 s, would keep few of bayesglm's, which
compile in 0.05 to 3 s each); a model shape adds its programs once (the claims example: ~2 MB).
The folder is kept under :data:`MAX_BYTES` (``BAYESGLM_CACHE_MAX_MB`` sets another bound): when a
process turns the cache on and finds the folder larger, it deletes the least recently used
programs (by access or modification time, whichever is later) until the folder is at most
:data:`PRUNE_TO` of the bound. (JAX's own size limit needs the ``filelock`` package, which
bayesglm does not depend on.) Deleting the folder is always safe. JAX's cache is
process-wide: once bayesglm sets it, it also keeps the user's own programs that compile in
more than :data:`MIN_COMPILE_SECONDS`.

The test suite turns it off (``tests/conftest.py``), so that what it measures does not depend on
what earlier runs left on the disk; ``tests/unit/test_cache.py`` checks it in new processes.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

__all__ = ["enable", "choose", "cache_dir", "prune", "max_bytes", "MIN_COMPILE_SECONDS",
           "OFF_VALUES", "MAX_BYTES", "PRUNE_TO"]

#: programs that compile faster than this are not written (not worth a file each)
MIN_COMPILE_SECONDS = 0.05
#: values of ``BAYESGLM_COMPILATION_CACHE`` that turn the cache off (any other value, or none,
#: leaves it on)
OFF_VALUES = ("0", "off", "false", "no")
#: the bound on the cache folder's size, in bytes (``BAYESGLM_CACHE_MAX_MB`` sets another)
MAX_BYTES = 1024 * 2**20
#: a folder over the bound is pruned to this fraction of it (so that it is not pruned again by
#: every new process)
PRUNE_TO = 0.8

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
    if environ.get("BAYESGLM_COMPILATION_CACHE", "").strip().lower() in OFF_VALUES:
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
            prune(Path(path), max_bytes(os.environ))
        except OSError:
            return None
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
        return path


def max_bytes(environ) -> int:
    """The bound on the folder's size: ``BAYESGLM_CACHE_MAX_MB`` (a number of MiB) where set
    to a positive number, else :data:`MAX_BYTES`."""
    text = environ.get("BAYESGLM_CACHE_MAX_MB", "").strip()
    try:
        value = float(text)
    except ValueError:
        return MAX_BYTES
    return int(value * 2**20) if value > 0 else MAX_BYTES


def prune(folder: Path, limit: int) -> int:
    """Delete the least recently used files of ``folder`` (by the later of their access and
    modification times) until it holds at most ``PRUNE_TO * limit`` bytes, where it holds more
    than ``limit``; the number of files deleted. Files that vanish or cannot be deleted
    meanwhile (another process pruning) are skipped."""
    entries = []
    for f in folder.iterdir():
        try:
            st = f.stat()
        except OSError:
            continue
        if f.is_file():
            entries.append((max(st.st_atime, st.st_mtime), st.st_size, f))
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return 0
    deleted = 0
    for _, size, f in sorted(entries, key=lambda e: e[0]):
        if total <= PRUNE_TO * limit:
            break
        try:
            f.unlink()
        except OSError:
            continue
        total -= size
        deleted += 1
    return deleted


def _current() -> str | None:
    import jax

    return jax.config.jax_compilation_cache_dir or os.environ.get("JAX_COMPILATION_CACHE_DIR")
