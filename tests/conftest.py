"""Shared fixtures: small data sets and session-scoped Bayesian fits.

JAX compilation dominates the test time (a NUTS compile costs 5-40 s per model structure, data
shape and sampler setting on a 2-core machine; a refit of the same structure and shape compiles
nothing), so every fit that more than one test needs is made once per session here, with
``progress=False``. Other test files (results, plots, CLI) may use these fixtures directly.

Fits and the compiles they share:

* ``gaussian_flat_*``: Gaussian, flat priors, n=20, p=3 (exact posterior known; also used for
  reproducibility, warnings and argument checks);
* ``poisson_*``: Poisson with an exposure, ``priors="auto"``, n=200, p=3, given as a DataFrame
  (coefficient names ``const, x1, x2``); ``poisson_noise_fit`` has the same family, prior
  structure and shape (``x2`` replaced by pure noise ``x3``), so it compiles nothing new;
* ``logistic_*``: logistic, ``priors="auto"``, n=5000, p=3 (large-n posterior ~ MLE);
* ``separation_*``: perfectly separated logistic data, n=60, p=3 (same family and prior
  structure as ``logistic_*``, so the NumPyro model is shared).
"""

from __future__ import annotations

import os
import warnings
from typing import NamedTuple

os.environ.setdefault("MPLBACKEND", "Agg")
# bayesglm's persistent compilation cache is on by default (bayesglm._cache): off for the suite,
# and for the processes it starts, so that no test depends on what earlier runs left on the
# disk (tests/unit/test_cache.py turns it on in its own processes)
os.environ["BAYESGLM_COMPILATION_CACHE"] = "0"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import bayesglm as bg  # noqa: E402

DRAWS = 1000
CHAINS = 4


class Fitted(NamedTuple):
    """A fit with the model that made it and the warnings it raised."""

    model: object
    fit: object
    warnings: list


def fit_recording(model, **kwargs) -> Fitted:
    """``model.fit(progress=False, **kwargs)``, recording every warning it raises."""
    kwargs.setdefault("progress", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(**kwargs)
    return Fitted(model, fit, list(caught))


@pytest.fixture(scope="module")
def jax_float64():
    """JAX in float64 for a test module's own computations (references, direct calls of links
    and families). bayesglm leaves JAX's global setting alone and computes in float64 by itself
    (tests/unit/test_x64.py); modules that use JAX directly ask for this fixture."""
    import jax

    with jax.enable_x64(True):
        yield


# -- the process's memory maps ---------------------------------------------------------------
# Every XLA program compiled on the CPU maps memory for its code (about 3 maps for a jitted
# function, 8-16 for an eager operation of a new shape), and they stay mapped while JAX caches the
# program. Linux caps a process at vm.max_map_count maps (65,530 by default): past it the next
# compilation fails ("Failed to materialize symbols") or segfaults. A test process that compiles
# thousands of programs can reach it, so after each test module the caches are cleared once the
# maps pass half the cap (later tests recompile what they need), and the peak is reported.
_MAPS = {"peak": 0, "cleared": 0, "by_module": []}


def _count_maps() -> int | None:
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:  # not Linux
        return None


def _max_maps() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 65530


@pytest.fixture(scope="module", autouse=True)
def _bounded_memory_maps(request):
    before = _count_maps()
    yield
    after = _count_maps()
    if before is None or after is None:
        return
    _MAPS["peak"] = max(_MAPS["peak"], after)
    _MAPS["by_module"].append((after - before, request.module.__name__))
    if after > _max_maps() // 2:
        import gc

        import jax

        jax.clear_caches()
        gc.collect()
        _MAPS["cleared"] += 1


def pytest_terminal_summary(terminalreporter):
    if not _MAPS["by_module"]:
        return
    top = sorted(_MAPS["by_module"], reverse=True)[:5]
    terminalreporter.write_line(
        f"memory maps: peak {_MAPS['peak']:,} of vm.max_map_count {_max_maps():,}; JAX caches "
        f"cleared {_MAPS['cleared']} time(s); most added by "
        + ", ".join(f"{name} ({n:,})" for n, name in top))


# -- the reference tests' largest differences ----------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _report_largest_differences(request):
    """A module that records the largest differences it reached in a module-level dict
    ``_reached`` (name -> value) has them printed after its tests (shown with ``pytest -s``;
    the module's docstring records them)."""
    yield
    reached = getattr(request.module, "_reached", None)
    if reached:
        print(f"\n{request.module.__name__}: largest differences:",
              {k: f"{v:.2g}" for k, v in reached.items()})


# -- Gaussian, flat priors: exact posterior -------------------------------------------------
@pytest.fixture(scope="session")
def gaussian_data():
    """n=20, p=3: small n makes the exact-posterior checks sharp (the flat prior's choice on
    sigma changes the posterior by O(1/n))."""
    rng = np.random.default_rng(20240601)
    n = 20
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = X @ np.array([1.0, 0.5, -0.3]) + rng.normal(scale=0.8, size=n)
    return X, y


@pytest.fixture(scope="session")
def gaussian_flat_model(gaussian_data):
    X, y = gaussian_data
    return bg.GLM(y, X, family="gaussian", priors="flat")


@pytest.fixture(scope="session")
def gaussian_flat(gaussian_flat_model) -> Fitted:
    return fit_recording(gaussian_flat_model, draws=DRAWS, chains=CHAINS, seed=0)


@pytest.fixture(scope="session")
def gaussian_flat_fit(gaussian_flat):
    return gaussian_flat.fit


# -- Poisson with exposure ------------------------------------------------------------------
@pytest.fixture(scope="session")
def poisson_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 200
    df = pd.DataFrame({
        "const": np.ones(n),
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
        "x3": rng.normal(size=n),  # pure noise, for the comparison model
        "exposure": rng.uniform(0.5, 2.0, size=n),
    })
    eta = 0.5 + 0.3 * df["x1"] - 0.4 * df["x2"] + np.log(df["exposure"])
    df["y"] = rng.poisson(np.exp(eta)).astype(float)
    return df


@pytest.fixture(scope="session")
def poisson_model(poisson_data):
    df = poisson_data
    return bg.GLM(df["y"], df[["const", "x1", "x2"]], family="poisson",
                  exposure=df["exposure"])


@pytest.fixture(scope="session")
def poisson_fit(poisson_model):
    return fit_recording(poisson_model, draws=DRAWS, chains=CHAINS, seed=1).fit


@pytest.fixture(scope="session")
def poisson_noise_fit(poisson_data):
    """Same data, ``x2`` (a real effect) replaced by noise ``x3``: loses in ``compare``."""
    df = poisson_data
    model = bg.GLM(df["y"], df[["const", "x1", "x3"]], family="poisson",
                   exposure=df["exposure"])
    return fit_recording(model, draws=DRAWS, chains=CHAINS, seed=1).fit


# -- logistic, large n ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def logistic_data():
    rng = np.random.default_rng(11)
    n = 5000
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    p = 1.0 / (1.0 + np.exp(-(X @ np.array([-0.5, 1.0, -0.7]))))
    y = (rng.uniform(size=n) < p).astype(float)
    return X, y


@pytest.fixture(scope="session")
def logistic_model(logistic_data):
    X, y = logistic_data
    return bg.GLM(y, X, family="binomial")


@pytest.fixture(scope="session")
def logistic_fit(logistic_model):
    return fit_recording(logistic_model, draws=DRAWS, chains=CHAINS, seed=2).fit


# -- perfect separation ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def separation_data():
    """y = (x > 0) with x = linspace(-3, 3, 60): completely separated by x1. A third column x2 of
    pure noise keeps p = 3, so the NumPyro model is shared with ``logistic_*`` (same family
    and prior structure): one compile fewer. (A smooth third column, cos(2x), hits an IRLS
    bug instead: see tests/unit/test_fitting.py::test_separation_detected_with_smooth_covariate.)"""
    n = 60
    x = np.linspace(-3.0, 3.0, n)
    X = np.column_stack([np.ones(n), x, np.random.default_rng(1).normal(size=n)])
    y = (x > 0).astype(float)
    return X, y


@pytest.fixture(scope="session")
def separation(separation_data) -> Fitted:
    X, y = separation_data
    return fit_recording(bg.GLM(y, X, family="binomial"), draws=DRAWS, chains=CHAINS, seed=3)


@pytest.fixture(scope="session")
def separation_fit(separation):
    return separation.fit


# -- a small random-intercept logistic model (8 groups x 12 rows) ---------------------------
@pytest.fixture(scope="session")
def mixed_logistic_data() -> pd.DataFrame:
    from scipy.special import expit

    rng = np.random.default_rng(5)
    g = np.repeat([f"s{k}" for k in range(8)], 12)
    b = dict(zip(sorted(set(g)), rng.normal(0, 0.8, 8)))
    x = rng.normal(size=len(g))
    y = rng.random(len(g)) < expit(-0.3 + 0.7 * x + np.array([b[k] for k in g]))
    return pd.DataFrame({"y": y.astype(int), "x": x, "g": g})
