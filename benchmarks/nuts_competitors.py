"""Worker for ``benchmarks/nuts.py``: bambi (PyMC's NUTS), nutpie and plain PyMC on the same data.

This script runs in a SEPARATE virtual environment: bambi / PyMC / nutpie must not go into the
project's venv (arviz-plots, which they pull in, breaks ``import arviz`` under matplotlib 3.11).
Create it once, from the repository root::

    python3 -m venv .venv-bench-pymc
    .venv-bench-pymc/bin/pip install "bambi==0.17.2" "nutpie==0.16.8" "pymc==5.28.5" "matplotlib<3.11"

(``.venv-*/`` is git-ignored.) ``benchmarks/nuts.py`` finds ``.venv-bench-pymc/bin/python`` and
calls this script once per (tool, problem, seed), in a fresh process, so every run pays its own
model construction and compilation. It is not meant to be run by hand, but can be::

    .venv-bench-pymc/bin/python benchmarks/nuts_competitors.py --tool nutpie \\
        --data /tmp/gaussian.npz --seed 0 --result /tmp/out.npz

Tools (the model, priors and data are those of ``nuts.py``; see its docstring):

* ``bambi``:  ``bmb.Model("y ~ x1 + ... + xp", df, family=..., priors=...)`` then
  ``.fit(draws=1000, tune=1000, chains=4, cores=4, random_seed=seed)``: PyMC's default NUTS
  (jitter+adapt_diag init, diagonal mass matrix adapted over the 1000 tuning draws), chains in 4
  worker processes. ``discard_tuned_samples=False`` only so the tuning draws' ``n_steps`` can be
  counted (the draws are already in memory; keeping them costs nothing measurable).
* ``nutpie``: the PyMC model written by hand (vector coefficient, no Deterministic, so nothing
  n-sized is stored per draw), ``nutpie.compile_pymc_model`` (numba backend, the default), then
  ``nutpie.sample(compiled, draws=1000, chains=4, cores=4, seed=seed)`` with nutpie's own
  default tuning length (its default adaptation, not PyMC's 1000).
* ``pymc``:   the same hand-written PyMC model, ``pm.sample(draws=1000, tune=1000, chains=4,
  cores=4)`` (optional; not in nuts.py's default tool list).

Timed region: model construction + compilation + sampling, up to draws in memory. Imports are
timed separately (``import_s``). The result file holds the kept draws (chains, draws, k) in the
order Intercept, x1..xp[, sigma], the leapfrog steps of warmup and sampling summed over chains,
the number of divergent kept draws and the timings; diagnostics are computed by nuts.py, with the
project's ArviZ, identically for every tool.
"""

from __future__ import annotations

import argparse
import json
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402


def _load(path):
    d = np.load(path, allow_pickle=False)
    meta = json.loads(str(d["meta"]))
    return np.asarray(d["X"]), np.asarray(d["y"]), meta


def _prior_kw(meta):
    return meta["coef_prior_sd"], meta["intercept_prior_sd"], meta["sigma_prior_sd"]


def _hand_model(pm, pt, X, y, meta):
    s_coef, s_icpt, s_sigma = _prior_kw(meta)
    names = [f"x{j + 1}" for j in range(X.shape[1])]
    with pm.Model(coords={"coef": names}) as model:
        intercept = pm.Normal("Intercept", 0.0, s_icpt)
        beta = pm.Normal("beta", 0.0, s_coef, dims="coef")
        eta = intercept + pt.dot(pt.as_tensor_variable(X), beta)
        if meta["family"] == "gaussian":
            sigma = pm.HalfNormal("sigma", s_sigma)
            pm.Normal("y", mu=eta, sigma=sigma, observed=y)
        else:
            pm.Bernoulli("y", logit_p=eta, observed=y)
    return model


def _draws_from(posterior, meta, p, vector_beta: bool):
    cols = [np.asarray(posterior["Intercept"])]
    if vector_beta:
        b = np.asarray(posterior["beta"])  # (chain, draw, p)
        cols += [b[..., j] for j in range(p)]
    else:
        cols += [np.asarray(posterior[f"x{j + 1}"]) for j in range(p)]
    if meta["family"] == "gaussian":
        cols.append(np.asarray(posterior["sigma"]))
    return np.stack(cols, axis=-1).astype(float)


def _steps(idata):
    """(warmup steps, sampling steps) summed over chains, from n_steps (PyMC and nutpie)."""
    samp = float(np.asarray(idata.sample_stats["n_steps"]).sum())
    warm = float(np.asarray(idata.warmup_sample_stats["n_steps"]).sum()) \
        if "warmup_sample_stats" in idata.groups() else float("nan")
    nwarm = int(idata.warmup_sample_stats.sizes["draw"]) \
        if "warmup_sample_stats" in idata.groups() else -1
    return warm, samp, nwarm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, choices=["bambi", "nutpie", "pymc"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000, help="bambi/pymc tuning iterations")
    ap.add_argument("--chains", type=int, default=4)
    args = ap.parse_args()

    t0 = time.perf_counter()
    import pymc as pm
    import pytensor.tensor as pt
    versions = {"pymc": pm.__version__}
    if args.tool == "bambi":
        import bambi as bmb
        import pandas as pd
        versions["bambi"] = bmb.__version__
    if args.tool == "nutpie":
        import nutpie
        versions["nutpie"] = nutpie.__version__
    import_s = time.perf_counter() - t0

    X, y, meta = _load(args.data)
    n, p = X.shape
    stages = {}

    if args.tool == "bambi":
        s_coef, s_icpt, s_sigma = _prior_kw(meta)
        names = [f"x{j + 1}" for j in range(p)]
        df = pd.DataFrame(X, columns=names)
        df["y"] = y if meta["family"] == "gaussian" else y.astype(int)
        priors = {nm: bmb.Prior("Normal", mu=0.0, sigma=s_coef) for nm in names}
        priors["Intercept"] = bmb.Prior("Normal", mu=0.0, sigma=s_icpt)
        if meta["family"] == "gaussian":
            priors["sigma"] = bmb.Prior("HalfNormal", sigma=s_sigma)
        family = "gaussian" if meta["family"] == "gaussian" else "bernoulli"
        t = time.perf_counter()
        model = bmb.Model("y ~ " + " + ".join(names), df, family=family, priors=priors)
        stages["build"] = time.perf_counter() - t
        t1 = time.perf_counter()
        idata = model.fit(draws=args.draws, tune=args.tune, chains=args.chains, cores=args.chains,
                          random_seed=args.seed, progressbar=False, discard_tuned_samples=False)
        stages["fit"] = time.perf_counter() - t1
        wall = time.perf_counter() - t
        draws = _draws_from(idata.posterior, meta, p, vector_beta=False)
    else:
        t = time.perf_counter()
        model = _hand_model(pm, pt, X, y, meta)
        stages["build"] = time.perf_counter() - t
        if args.tool == "nutpie":
            t1 = time.perf_counter()
            compiled = nutpie.compile_pymc_model(model)
            stages["compile"] = time.perf_counter() - t1
            t1 = time.perf_counter()
            idata = nutpie.sample(compiled, draws=args.draws, chains=args.chains,
                                  cores=args.chains, seed=args.seed, progress_bar=False)
            stages["sample"] = time.perf_counter() - t1
        else:
            t1 = time.perf_counter()
            with model:
                idata = pm.sample(draws=args.draws, tune=args.tune, chains=args.chains,
                                  cores=args.chains, random_seed=args.seed, progressbar=False,
                                  discard_tuned_samples=False, compute_convergence_checks=False)
            stages["sample"] = time.perf_counter() - t1
        wall = time.perf_counter() - t
        draws = _draws_from(idata.posterior, meta, p, vector_beta=True)

    warm_steps, samp_steps, n_warm = _steps(idata)
    div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    info = {"tool": args.tool, "wall_s": wall, "import_s": import_s, "stages": stages,
            "warmup_steps": warm_steps, "sampling_steps": samp_steps, "warmup_iters": n_warm,
            "divergences": div, "versions": versions,
            "process_s": time.perf_counter() - T_START}
    np.savez(args.result, draws=draws, info=json.dumps(info))


if __name__ == "__main__":
    main()
