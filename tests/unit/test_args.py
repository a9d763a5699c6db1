"""Argument errors name the argument and come before any fitting or compilation (issue 9, items
16 and 17)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg


@pytest.fixture(scope="module")
def tiny_model():
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    return bg.GLM(np.array([1.0, 0.0, 2.0, 3.0, 2.0, 5.0]), X, family="poisson")


@pytest.fixture
def no_fitting(monkeypatch, tiny_model):
    """Any MLE or sampler compilation fails the test: the error must come first. (The model's
    public fit_mle, and the public steps fit_bayes calls: compile_in_background, choose_start.)"""
    import bayesglm.fitting

    def boom(*args, **kwargs):
        raise AssertionError("fitting started before the argument was checked")

    monkeypatch.setattr(tiny_model, "fit_mle", boom)
    monkeypatch.setattr(bayesglm.fitting, "compile_in_background", boom)
    monkeypatch.setattr(bayesglm.fitting, "choose_start", boom)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"seed": -1}, ValueError, r"seed must be a non-negative integer, got -1"),
        ({"seed": "a"}, TypeError, r"seed must be a non-negative integer, got 'a'"),
        ({"seed": 1.5}, ValueError, r"seed must be a non-negative integer, got 1\.5"),  # was truncated to 1
        ({"seed": True}, TypeError, r"seed must be"),
        ({"target_accept": "x"}, TypeError, r"target_accept must be a number in \(0, 1\), got 'x'"),
        ({"target_accept": 1.0}, ValueError, r"target_accept must be a number in \(0, 1\)"),
        ({"draws": 10.5}, ValueError, r"draws must be a positive integer, got 10\.5"),
        ({"chains": 0}, ValueError, r"chains must be a positive integer, got 0"),
        ({"warmup": -3}, ValueError, r"warmup must be a non-negative integer, got -3"),
        ({"max_tree_depth": "10"}, TypeError, r"max_tree_depth must be a positive integer"),
        ({"progress": "yes"}, TypeError, r"progress must be True or False"),
    ],
)
def test_fit_arguments_are_checked_first(tiny_model, no_fitting, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        tiny_model.fit(**kwargs)


def test_integral_floats_are_accepted(tiny_model):
    from bayesglm.posterior import sampler_config

    cfg = sampler_config(None, draws=100.0, warmup=None, chains=np.int64(2), seed=np.uint32(3),
                         progress=False, target_accept=0.9, max_tree_depth=8,
                         chain_method="auto")
    assert (cfg.draws, cfg.chains, cfg.seed) == (100, 2, 3)


def test_power_link_and_nb_alpha_name_their_argument():
    # before: "could not convert string to float: 'a'"
    with pytest.raises(TypeError, match=r"Power link: power must be a finite number, got 'a'"):
        bg.links.Power("a")
    with pytest.raises(TypeError, match=r"NegativeBinomial: alpha must be a positive number, got 'x'"):
        bg.families.NegativeBinomial(alpha="x")
    with pytest.raises(ValueError, match=r"alpha must be a positive number, got -1"):
        bg.families.NegativeBinomial(alpha=-1)
    assert bg.links.Power(0.5).power == 0.5
    assert bg.families.NegativeBinomial(alpha=2).alpha == 2.0


def test_unknown_prior_names_are_caught_when_the_model_is_built():
    # before: only at fit()
    df = pd.DataFrame({"y": [1, 0, 2, 3, 2, 5], "x": np.arange(6.0)})
    with pytest.raises(ValueError, match=r"'xx'"):
        bg.glm("y ~ x", df, family="poisson", priors={"xx": bg.priors.Normal(0, 1)})
    with pytest.raises(ValueError, match=r"gelmann2008|prior"):
        bg.glm("y ~ x", df, family="poisson", priors="gelmann2008")
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    with pytest.raises(ValueError, match=r"'x9'"):
        bg.GLM(df["y"], X, family="poisson", priors={"x9": bg.priors.Normal(0, 1)})
    model = bg.GLM(df["y"], X, family="poisson")
    # issue 10: after `model.priors = "flat"` the resolved priors stayed "auto"; the priors are
    # now read-only (a new model gets new priors), so the two cannot disagree
    with pytest.raises(AttributeError, match=r"read-only.*priors=\.\.\."):
        model.priors = "flat"
    assert model.priors == "auto" and model.resolved_priors.source == "auto"
    with pytest.raises(AttributeError):
        model.family = bg.families.Gaussian()


@pytest.mark.parametrize("value, ok", [("", True), ("auto", True), ("2", True), ("0", True),
                                       ("two", False), ("-1", False)])
def test_host_devices_variable(value, ok):
    # before: '' and 'auto' made `import bayesglm` crash with "invalid literal for int()"
    env = {**os.environ, "BAYESGLM_HOST_DEVICES": value}
    env.pop("XLA_FLAGS", None)
    code = "import bayesglm, jax; print(jax.local_device_count())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if ok:
        assert out.returncode == 0, out.stderr
        expected = {"": 4, "auto": 4, "2": 2, "0": 1}[value]
        assert out.stdout.strip().splitlines()[-1] == str(expected)
    else:
        assert out.returncode != 0
        assert "BAYESGLM_HOST_DEVICES" in out.stderr and repr(value) in out.stderr
