"""bayesglm computes in float64 without changing JAX's global setting (issue 9, items 18, 19).

Before: ``import bayesglm`` switched ``jax_enable_x64`` on for the whole process (the user's own
JAX code then made float64 arrays), and a user who switched it off again after the import got a
float32 MLE and float32 draws, silently. Each case runs in a fresh process (JAX's setting is
process-wide); the numbers must agree to 1e-12 whatever the user's setting.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, sys, warnings
import jax
mode = sys.argv[1]
if mode == "on-before":
    jax.config.update("jax_enable_x64", True)
import numpy as np
import bayesglm as bg
if mode == "off-after":
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", False)
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n = 40
x = rng.normal(size=n)
X = np.column_stack([np.ones(n), x])
y = rng.poisson(np.exp(0.3 + 0.5 * x)).astype(float)
model = bg.GLM(y, X, family="poisson")
mle = model.fit_mle()
fit = model.fit(draws=100, chains=2, seed=3, progress=False)
beta = fit.idata.posterior["beta"].to_numpy()
pred = fit.predict(X[:3])
pp = fit.posterior_predictive(seed=1)
out = {
    "global_x64_after": bool(jax.config.jax_enable_x64),
    "user_dtype": str(jax.numpy.ones(2).dtype),
    "params": mle.params.tolist(),
    "bse": mle.bse.tolist(),
    "llf": mle.llf,
    "resid": mle.resid_deviance.tolist()[:5],
    "mle_pred": mle.predict(X[:3]).iloc[:, 0].tolist(),
    "draws_dtype": str(beta.dtype),
    "draws": beta[:, :5].ravel().tolist(),
    "pred": pred.iloc[:, 0].tolist(),
    "loo": float(fit.loo().elpd_loo),
}
print("RESULT" + json.dumps(out))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


@pytest.fixture(scope="module")
def runs():
    return {mode: _run(mode) for mode in ("default", "on-before", "off-after")}


def test_the_users_jax_setting_is_left_alone(runs):
    assert runs["default"]["global_x64_after"] is False
    assert runs["default"]["user_dtype"] == "float32"  # the user's JAX is as JAX made it
    assert runs["on-before"]["global_x64_after"] is True
    assert runs["off-after"]["global_x64_after"] is False


@pytest.mark.parametrize("mode", ["default", "off-after"])
def test_float64_whatever_the_users_setting(runs, mode):
    ref, got = runs["on-before"], runs[mode]
    assert got["draws_dtype"] == "float64"
    for key in ("params", "bse", "resid", "mle_pred", "draws", "pred"):
        a, b = ref[key], got[key]
        assert len(a) == len(b)
        assert all(abs(u - v) <= 1e-12 * max(1.0, abs(u)) for u, v in zip(a, b)), key
    assert abs(ref["llf"] - got["llf"]) <= 1e-12 * abs(ref["llf"])
    assert abs(ref["loo"] - got["loo"]) <= 1e-9 * abs(ref["loo"])
