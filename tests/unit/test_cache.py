"""JAX's persistent compilation cache for bayesglm's programs (issue 11's first call, issue
14's time to first posterior): the rules of bayesglm._cache (who decides the folder, how to
turn it off), and, in fresh processes, that a fit writes its programs there and a new process
reads them back instead of compiling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bayesglm import _cache

ROOT = Path(__file__).parents[2]


def test_the_folder_and_who_decides():
    assert _cache.choose({}, None) is None  # off unless asked for (see bayesglm._cache)
    env = {"HOME": "/home/u", "BAYESGLM_COMPILATION_CACHE": "1"}
    assert _cache.choose(env, None) == str(_cache.cache_dir(env))
    if sys.platform.startswith("linux"):
        assert _cache.cache_dir(env) == Path.home() / ".cache" / "bayesglm" / "jax"
        assert _cache.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/bayesglm/jax")
    on = {"BAYESGLM_COMPILATION_CACHE": "on"}
    assert _cache.choose({**on, "BAYESGLM_CACHE_DIR": "/tmp/c"}, None) == str(Path("/tmp/c"))
    for off in ("0", "off", "False", " no ", ""):
        assert _cache.choose({"BAYESGLM_COMPILATION_CACHE": off}, None) is None
    for yes in ("1", "True", " yes "):
        assert _cache.choose({"BAYESGLM_COMPILATION_CACHE": yes}, None) is not None
    # the user's own cache, by JAX's config or its environment variable: left alone
    assert _cache.choose(on, "/mine") is None
    assert _cache.choose({**on, "JAX_COMPILATION_CACHE_DIR": "/mine"}, None) is None


SCRIPT = r"""
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
logging.getLogger("jax._src.compiler").setLevel(logging.DEBUG)
import jax
if sys.argv[1] == "user":
    jax.config.update("jax_compilation_cache_dir", sys.argv[2])
import numpy as np
import bayesglm as bg
x = np.linspace(-1, 1, 40)
y = np.random.default_rng(0).poisson(np.exp(0.3 + 0.5 * x))
bg.glm("y ~ x", {"y": y, "x": x}, family="poisson").fit_mle()
print("DIR", jax.config.jax_compilation_cache_dir)
print("MIN", jax.config.jax_persistent_cache_min_compile_time_secs)
"""


def _run(tmp_path, mode="default", env=None, arg=""):
    full = {k: v for k, v in os.environ.items()
            if k not in ("BAYESGLM_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    full.update(BAYESGLM_CACHE_DIR=str(tmp_path / "cache"), BAYESGLM_COMPILATION_CACHE="1",
                **(env or {}))
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, arg], capture_output=True,
                         text=True, env=full, cwd=ROOT, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_a_new_process_reads_the_compiled_programs_back(tmp_path):
    first = _run(tmp_path)
    cache = tmp_path / "cache"
    written = sorted(p.name for p in cache.glob("jit_*"))
    assert any(name.startswith("jit__irls") for name in written)  # IRLS, compiled and kept
    assert f"DIR {cache}" in first and f"MIN {_cache.MIN_COMPILE_SECONDS}" in first
    second = _run(tmp_path)
    assert "Persistent compilation cache hit for 'jit__irls'" in second
    assert "cache hit" not in first
    # every program the first process kept is read back, not compiled anew (a program that
    # compiled in under MIN_COMPILE_SECONDS the first time may cross it the second, on a busy
    # machine, and be written then: that is not a miss)
    for name in written:
        assert f"Persistent compilation cache hit for '{name.rsplit('-', 2)[0]}'" in second, name
    assert set(written) <= {p.name for p in cache.glob("jit_*")}


def test_the_users_own_cache_is_left_alone(tmp_path):
    """A cache folder the user set in JAX's config before bayesglm's first compilation: theirs,
    with JAX's own threshold (the off switch and the environment variable are choose()'s
    rules, above)."""
    mine = tmp_path / "mine"
    out = _run(tmp_path, mode="user", arg=str(mine))
    assert f"DIR {mine}" in out and "MIN 1.0" in out
    assert not (tmp_path / "cache").exists()
