"""JAX's persistent compilation cache for bayesglm's programs (issue 11's first call, issue
14's time to first posterior): the rules of bayesglm._cache (on by default, who decides the
folder, how to turn it off, the bound on its size), and, in fresh processes, that a fit writes
its programs there and a new process reads them back instead of compiling. (The rest of the
suite runs with it off: tests/conftest.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bayesglm import _cache

ROOT = Path(__file__).parents[2]


def test_the_folder_and_who_decides():
    assert _cache.choose({}, None) == str(_cache.cache_dir({}))  # on by default
    env = {"HOME": "/home/u", "BAYESGLM_COMPILATION_CACHE": "1"}
    assert _cache.choose(env, None) == str(_cache.cache_dir(env))
    if sys.platform.startswith("linux"):
        assert _cache.cache_dir(env) == Path.home() / ".cache" / "bayesglm" / "jax"
        assert _cache.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/bayesglm/jax")
    on = {"BAYESGLM_COMPILATION_CACHE": "on"}
    assert _cache.choose({**on, "BAYESGLM_CACHE_DIR": "/tmp/c"}, None) == str(Path("/tmp/c"))
    for off in ("0", "off", "False", " no "):  # the opt-out
        assert _cache.choose({"BAYESGLM_COMPILATION_CACHE": off}, None) is None
    for yes in ("1", "True", " yes ", ""):
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
    """The script in a new process with bayesglm's defaults (the suite's opt-out removed)."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("BAYESGLM_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    full.update(BAYESGLM_CACHE_DIR=str(tmp_path / "cache"), **(env or {}))
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


def test_the_opt_out_writes_nothing(tmp_path):
    out = _run(tmp_path, env={"BAYESGLM_COMPILATION_CACHE": "0"})
    assert "DIR None" in out
    assert not (tmp_path / "cache").exists()


def test_a_folder_over_its_bound_loses_its_least_recently_used_files(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    for k in range(10):  # 10 files of 100 bytes, file k last used at time 1000 + k
        f = folder / f"jit_f{k}-cache"
        f.write_bytes(b"x" * 100)
        os.utime(f, (1000 + k, 1000 + k))
    os.utime(folder / "jit_f0-cache", (5000, 1000))  # read recently: kept
    assert _cache.prune(folder, 2000) == 0  # under the bound: nothing deleted
    assert _cache.prune(folder, 500) == 6  # to at most 0.8 x 500 = 400 bytes
    assert sorted(p.name for p in folder.iterdir()) == [
        "jit_f0-cache", "jit_f7-cache", "jit_f8-cache", "jit_f9-cache"]
    assert _cache.max_bytes({}) == _cache.MAX_BYTES
    assert _cache.max_bytes({"BAYESGLM_CACHE_MAX_MB": "2"}) == 2 * 2**20
    for bad in ("-1", "0", "lots"):  # not a positive number: the default bound
        assert _cache.max_bytes({"BAYESGLM_CACHE_MAX_MB": bad}) == _cache.MAX_BYTES
