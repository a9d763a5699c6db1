"""Several JAX processes, each with its own rows (ChunkedGLM(across_processes=True)) = one fit
of all the rows.

examples/multihost.py starts 2 processes on this machine (jax.distributed with the coordinator
on localhost, CPU collectives over gloo), each holding half of a simulated Poisson data set with
an exposure; every process must report the estimates of bg.GLM on all rows. The passes' sums
are added in another order than one process adds them: agreement to 1e-12 relative; a process
whose rows were left out, or counted twice, moves the estimates by ~1e-2.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesglm as bg

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multihost.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("multihost_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_two_processes_fit_all_rows(example):
    results = example.launch(2, timeout=300)
    y, X, exposure = example.data()
    ref = bg.GLM(y, X, family="poisson", exposure=exposure).fit_mle()
    assert sorted(r["process"] for r in results) == [0, 1]
    assert sum(r["local_rows"] for r in results) == len(y)
    for r in results:
        assert r["processes"] == 2 and r["nobs"] == len(y)
        np.testing.assert_allclose(r["params"], ref.params, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(r["bse"], ref.bse, rtol=1e-12)
        for name in ("deviance", "llf", "null_deviance"):
            assert r[name] == pytest.approx(getattr(ref, name), rel=1e-12), name
        assert r["n_iter"] == ref.n_iter


def test_across_processes_in_one_process_warns_and_fits_its_rows(example):
    y, X, exposure = example.part(2, 0)
    with pytest.warns(bg.BayesGLMWarning, match="single JAX process"):
        model = bg.ChunkedGLM(y, X, family="poisson", exposure=exposure,
                              across_processes=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = model.fit_mle(progress=False)
    ref = bg.GLM(y, X, family="poisson", exposure=exposure).fit_mle()
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-12, atol=1e-14)
