"""Benchmark: group-level (mixed) models, bayesglm against lme4, rstanarm, statsmodels, bambi and
NumPyro written by hand, side by side in one run.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/glmm.py                  # VerbAgg (3 repeats) and the big model
    .venv/bin/python benchmarks/glmm.py --problems verbagg --repeats 1
    .venv/bin/python benchmarks/glmm.py --out benchmarks/results/glmm.md   # + glmm.json

R with lme4 and rstanarm (Debian: ``apt-get install r-base-core r-cran-lme4 r-cran-rstanarm``)
runs ``benchmarks/glmm.R``; bambi runs in its own venv, ``.venv-bench-pymc`` (see
``benchmarks/nuts_competitors.py`` for how to create it), through
``benchmarks/glmm_competitors.py``.
A tool that is not installed is skipped with a line in the report.

Problems (every tool reads the same CSV, written once per run outside every timed region):

* ``verbagg``: lme4's VerbAgg (``tests/reference/r/verbagg.csv``, 7,584 rows), the crossed
  binomial model ``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)`` (316 ids x 24
  items);
* ``big``: simulated, n = 1e6 rows and 1e5 levels, ``y ~ x1 + x2 + (1 | g)``, logistic, x1 and
  x2 standard normal, intercept -0.5, slopes 0.4 and -0.3, group sd 1 (seed 20261201).

Tools, each in a fresh process per (problem, seed), timed from model construction to results in
memory (imports and reading the CSV excluded), the clock stopped when the draws exist:

* maximum likelihood
  * ``bayesglm_mle``: ``bg.glm(formula, df, family="binomial").fit_mle()``: the first call in the
    process and then ``--repeats - 1`` more in the same process (warm), in two processes: the
    first with JAX's persistent compilation cache empty (every program compiled: a user's very
    first fit of the model) and the second with that cache filled by the first (a user's first
    fit in a new process, the programs read from disk: bayesglm._cache, on by default). Every
    bayesglm process
    of a run shares one cache folder, made empty at the start of the run, so the posterior's
    first seed compiles its sampler and the later seeds read it;
  * ``glmer``: ``lme4::glmer(formula, d, family = binomial)`` with lme4's defaults (nAGQ = 1), in
    R via ``Rscript benchmarks/glmm.R``, repeated in one R process the same way;
  * ``statsmodels``: ``BinomialBayesMixedGLM.from_formula(fixed, {"id": "0 + C(id)", ...},
    df).fit_vb()``, statsmodels' documented fit (variational Bayes: not the MLE; its estimates are
    printed beside lme4's for what they are);
* posterior, 4 chains (bambi: its default), each tool's default warmup and 1000 kept draws per
  chain:
  * ``bayesglm``: ``bg.glm(formula, df, family="binomial").fit(seed=seed, progress=False)``:
    rstanarm's default priors, NUTS started at the Laplace fit in the coordinates that whiten
    it; on ``big``, ``fit(warmup=150, ess=400)`` (at most 1000 draws per chain, stopped once
    every fixed effect and sd has bulk and tail ESS 400);
  * ``stan_glmer``: ``rstanarm::stan_glmer(formula, d, family = binomial, seed = seed)`` with
    ``options(mc.cores = parallel::detectCores())`` (rstanarm's documented advice; 2 cores here);
  * ``numpyro``: the non-centred model a user writes by hand (``Normal(0, 2.5)`` on the intercept
    and on each slope, ``Exponential(1)`` on each group sd, rstanarm's decov(1, 1, 1, 1) for a
    scalar term, ``z ~ Normal(0, 1)`` per level), ``MCMC(NUTS(model), num_warmup=1000,
    num_samples=1000, num_chains=4, chain_method="parallel")``: NUTS defaults, float64, 4 host
    devices as bayesglm's;
  * ``bambi``: ``bmb.Model(formula, df, family="bernoulli").fit(random_seed=seed)``: bambi's
    defaults (PyMC NUTS, 1000 tune + 1000 draws, chains = max(2, cores) = 2 here).

Measured per run: wall; min bulk ESS over the fixed effects and the group sd's (ArviZ
``ess(method="bulk")`` on each tool's kept draws, computed here for every tool alike); ESS/s =
min bulk ESS / wall; max R-hat; divergences (where the tool reports them); peak memory (the
worker process's maximum resident set, ``getrusage`` of the child). Each run has a time cap
(``--cap-s``, default 900 s: the big model's target is 15 minutes) and bambi and statsmodels an
address-space cap of 22 GiB (``RLIMIT_AS``; the machine has 24 GiB), so that a tool that would
exhaust memory fails with its own MemoryError instead of taking the machine down: such runs are
reported as what they were (time cap, out of memory), never as results.

Targets (issue 11): ``fit_mle`` at least as fast as glmer on VerbAgg (warm median, and the first
call); ``fit()`` at least 3x the ESS/s of stan_glmer and of hand-written NumPyro on VerbAgg; the
big model's MLE and posterior within 24 GiB and 15 minutes each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYMC_PYTHON = ROOT / ".venv-bench-pymc" / "bin" / "python"
R_SCRIPT = HERE / "glmm.R"
COMPETITOR_SCRIPT = HERE / "glmm_competitors.py"

PROBLEMS = {
    "verbagg": dict(formula="r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
                    groups=("id", "item"), label="VerbAgg, n = 7,584, (1 | id) + (1 | item)"),
    "big": dict(formula="y ~ x1 + x2 + (1 | g)", groups=("g",),
                label="simulated logistic, n = 1e6, 1e5 levels, (1 | g)",
                # a short warmup (the default 1000 for a mixed model was chosen on sleepstudy)
                # and sampling until 400 effective draws (bulk and tail, every fixed effect and
                # sd), at most 1000 per chain
                fit=dict(warmup=150, ess=400)),
}
MLE_TOOLS = ("bayesglm_mle", "glmer", "statsmodels")
POST_TOOLS = ("bayesglm", "stan_glmer", "numpyro", "bambi")
MEMORY_CAP = 22 * 2**30
DRAWS, CHAINS, NUMPYRO_WARMUP = 1000, 4, 1000


# -- data ------------------------------------------------------------------------------------
def write_data(problem: str, folder: Path) -> Path:
    path = folder / f"{problem}.csv"
    if problem == "verbagg":
        shutil.copy(ROOT / "tests" / "reference" / "r" / "verbagg.csv", path)
        return path
    simulate_big().to_csv(path, index=False, float_format="%.17g")
    return path


def simulate_big(n: int = 1_000_000, L: int = 100_000):
    """The ``big`` problem's data (``g`` as integers; the tools read it as a factor)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20261201)
    g = rng.integers(0, L, n)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    b = rng.normal(0.0, 1.0, L)
    eta = -0.5 + 0.4 * x1 - 0.3 * x2 + b[g]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


def read_data(path: Path, groups):
    import pandas as pd

    df = pd.read_csv(path)
    for g in groups:
        df[g] = df[g].astype(str)
    return df


# -- workers (each in its own process) -------------------------------------------------------
def _save_draws(path: Path, draws: dict):
    """draws: name -> (chains, draws) array, written as CSV with chain and draw columns."""
    import numpy as np
    import pandas as pd

    first = next(iter(draws.values()))
    c, d = first.shape
    out = pd.DataFrame({"chain": np.repeat(np.arange(c), d), "draw": np.tile(np.arange(d), c)})
    for k, v in draws.items():
        out[k] = np.asarray(v).reshape(-1)
    out.to_csv(path, index=False, float_format="%.17g")


def worker(tool: str, problem: str, data: Path, seed: int, repeats: int, out: Path):
    spec = PROBLEMS[problem]
    t0 = time.perf_counter()
    if tool in ("bayesglm", "bayesglm_mle"):
        import bayesglm as bg
        import bayesglm.formula  # noqa: F401  (formulaic)
        import bayesglm.glmm  # noqa: F401  (the mixed fit: lmm, group_solve, scipy.optimize)
        import bayesglm.mixed  # noqa: F401

        # bayesglm imports its modules, JAX and SciPy's optimisers lazily: here, untimed, as
        # R's library(lme4) and statsmodels' import are (the model's and the mixed fit's)
        bg.glm  # noqa: B018
    elif tool == "numpyro":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_force_host_platform_device_count=4").strip()
        import jax

        jax.config.update("jax_enable_x64", True)
        import numpyro  # noqa: F401
    elif tool == "statsmodels":
        from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM
    import_s = time.perf_counter() - t0
    df = read_data(data, spec["groups"])
    res = {"tool": tool, "import_s": import_s}
    if tool == "bayesglm_mle":
        walls = []
        for _ in range(repeats):
            t = time.perf_counter()
            fit = bg.glm(spec["formula"], df, family="binomial").fit_mle()
            walls.append(time.perf_counter() - t)
        vc = fit.varcorr()["estimate"]
        res.update(walls=walls, logLik=float(fit.llf), fixef=fit.params.to_dict(),
                   sd={k: float(v) for k, v in vc.items() if k.startswith("sd_")},
                   version=bg.__version__)
    elif tool == "statsmodels":
        import statsmodels

        fixed = spec["formula"].split(" + (")[0]
        vc = {g: f"0 + C({g})" for g in spec["groups"]}
        walls = []
        for _ in range(repeats):
            t = time.perf_counter()
            m = BinomialBayesMixedGLM.from_formula(fixed, vc, df)
            fit = m.fit_vb()
            walls.append(time.perf_counter() - t)
        import numpy as np

        res.update(walls=walls, fixef=dict(zip(m.exog_names, map(float, fit.fe_mean))),
                   sd={f"sd_{g}__Intercept": float(np.exp(v))
                       for g, v in zip(m.vcp_names, fit.vcp_mean)},
                   version=statsmodels.__version__)
    elif tool == "bayesglm":
        import numpy as np

        t = time.perf_counter()
        fit = bg.glm(spec["formula"], df, family="binomial").fit(seed=seed, progress=False,
                                                                 **spec.get("fit", {}))
        wall = time.perf_counter() - t
        post = fit.idata.posterior
        draws = {str(c): post["beta"].sel(coef=c).to_numpy() for c in post["coef"].to_numpy()}
        draws.update({k: post[k].to_numpy() for k in post.data_vars if k.startswith("sd_")})
        div = int(np.asarray(fit.idata.sample_stats["diverging"]).sum())
        _save_draws(out.with_suffix(".csv"), draws)
        res.update(wall=wall, divergences=div, version=bg.__version__,
                   draws_kept=int(post.sizes["draw"]), warmup=int(fit.idata.posterior.attrs["warmup"]),
                   fit_args=spec.get("fit", {}))
    elif tool == "numpyro":
        res.update(_numpyro(df, spec, seed, out))
    res["maxrss_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out.with_suffix(".json").write_text(json.dumps(res))


def _numpyro(df, spec, seed, out: Path) -> dict:
    """NumPyro as a user writes it: a non-centred random-intercept logistic model."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    t = time.perf_counter()
    fixed = spec["formula"].split(" + (")[0]
    import formulaic

    X = formulaic.model_matrix(fixed.split("~")[1], df)
    names = [c for c in X.columns if c != "Intercept"]
    Xs = jnp.asarray(X[names].to_numpy(float))
    y = jnp.asarray(df[spec["formula"].split("~")[0].strip()].to_numpy(float))
    idx, sizes = [], []
    for g in spec["groups"]:
        codes, levels = np.unique(df[g].to_numpy(), return_inverse=True)
        idx.append(jnp.asarray(levels.reshape(-1)))
        sizes.append(len(codes))

    def model(Xs, idx, y=None):
        a = numpyro.sample("Intercept", dist.Normal(0.0, 2.5))
        beta = numpyro.sample("beta", dist.Normal(0.0, 2.5).expand([Xs.shape[1]]))
        eta = a + Xs @ beta
        for g, ix, L in zip(spec["groups"], idx, sizes):
            sd = numpyro.sample(f"sd_{g}__Intercept", dist.Exponential(1.0))
            z = numpyro.sample(f"z_{g}", dist.Normal(0.0, 1.0).expand([L]))
            eta = eta + sd * z[ix]
        numpyro.sample("y", dist.Bernoulli(logits=eta), obs=y)

    mcmc = MCMC(NUTS(model), num_warmup=NUMPYRO_WARMUP, num_samples=DRAWS, num_chains=CHAINS,
                chain_method="parallel", progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), Xs, idx, y, extra_fields=("diverging",))
    samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    wall = time.perf_counter() - t
    draws = {"Intercept": np.asarray(samples["Intercept"])}
    b = np.asarray(samples["beta"])
    draws.update({n: b[..., k] for k, n in enumerate(names)})
    draws.update({k: np.asarray(v) for k, v in samples.items() if k.startswith("sd_")})
    _save_draws(out.with_suffix(".csv"), draws)
    div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    return dict(wall=wall, divergences=div, version=numpyro.__version__)


# -- running one tool ------------------------------------------------------------------------
def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_tool(tool, problem, data, seed, repeats, folder: Path, cap_s: float) -> dict:
    spec = PROBLEMS[problem]
    out = folder / f"{tool}-{problem}-{seed}"
    limit = None
    if tool in ("glmer", "stan_glmer"):
        if not shutil.which("Rscript"):
            return {"tool": tool, "status": "skipped: Rscript not found"}
        cmd = ["Rscript", str(R_SCRIPT), tool, str(data), spec["formula"], str(seed), str(out),
               str(repeats)]
    elif tool == "bambi":
        if not PYMC_PYTHON.exists():
            return {"tool": tool, "status": f"skipped: {PYMC_PYTHON} not found"}
        cmd = [str(PYMC_PYTHON), str(COMPETITOR_SCRIPT), "--data", str(data), "--formula",
               spec["formula"], "--groups", ",".join(spec["groups"]), "--seed", str(seed),
               "--out", str(out)]
        limit = _limit_memory
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, "--problem",
               problem, "--data", str(data), "--seed", str(seed), "--repeats", str(repeats),
               "--result", str(out)]
        if tool == "statsmodels":
            limit = _limit_memory
    env = dict(os.environ)
    if tool.startswith("bayesglm"):  # the run's own persistent compilation cache
        env["BAYESGLM_CACHE_DIR"] = str(folder / f"jax-cache-{problem}")
        env.pop("BAYESGLM_COMPILATION_CACHE", None)  # bayesglm's default: on (bayesglm._cache)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(out.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                preexec_fn=limit, start_new_session=True, env=env)
        while True:
            pid, st, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = st
                break
            if time.perf_counter() - t0 > cap_s:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                return {"tool": tool, "status": f"time cap: not done in {cap_s:.0f} s",
                        "peak_gib": usage.ru_maxrss / 2**20}
            time.sleep(0.2)
    elapsed = time.perf_counter() - t0
    peak = usage.ru_maxrss / 2**20  # KiB -> GiB
    if os.waitstatus_to_exitcode(status) != 0 or not out.with_suffix(".json").exists():
        tail = out.with_suffix(".log").read_text()[-2000:]
        kind = "out of memory" if "MemoryError" in tail or "cannot allocate" in tail.lower() \
            else "failed"
        print(f"[glmm]   {tool}'s log ends: {tail[-600:]}", file=sys.stderr, flush=True)
        return {"tool": tool, "status": f"{kind} after {elapsed:.0f} s", "peak_gib": peak,
                "log_tail": tail}
    res = json.loads(out.with_suffix(".json").read_text())
    if "walls" in res and not isinstance(res["walls"], list):
        res["walls"] = [res["walls"]]  # R's JSON writes a single repeat as a number
    res.update(status="ok", peak_gib=peak, process_s=elapsed, load=(load0, os.getloadavg()[0]))
    if out.with_suffix(".csv").exists():
        res.update(_diagnostics(out.with_suffix(".csv")))
    return res


def _diagnostics(path: Path) -> dict:
    """min bulk/tail ESS and max R-hat over every column but chain/draw (ArviZ, as for all)."""
    import arviz as az
    import numpy as np
    import pandas as pd

    d = pd.read_csv(path)
    chains = sorted(d["chain"].unique())
    cols = [c for c in d.columns if c not in ("chain", "draw")]
    arr = {c: np.stack([d.loc[d["chain"] == ch, c].to_numpy() for ch in chains]) for c in cols}
    ds = az.convert_to_dataset({k.replace("[", "(").replace("]", ")"): v
                                for k, v in arr.items()})
    bulk = az.ess(ds, method="bulk")
    tail = az.ess(ds, method="tail")
    rhat = az.rhat(ds)
    means = {c: float(v.mean()) for c, v in arr.items()}
    return {"min_bulk_ess": float(min(bulk[v].item() for v in bulk.data_vars)),
            "min_tail_ess": float(min(tail[v].item() for v in tail.data_vars)),
            "max_rhat": float(max(rhat[v].item() for v in rhat.data_vars)),
            "n_chains": len(chains), "means": means}


# -- the report ------------------------------------------------------------------------------
def _med(xs):
    return statistics.median(xs) if xs else float("nan")


def _range(xs):
    return f"{_med(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})" if xs else "-"


def report(results: dict, args) -> str:
    lines = []
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    lines += [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {git}, "
              f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
              f"; repeats {args.repeats} (seeds 0..{args.repeats - 1}), cap {args.cap_s:.0f} s.",
              ""]
    for problem, by_tool in results.items():
        lines += [f"### {PROBLEMS[problem]['label']}", "", "Maximum likelihood:", "",
                  "| tool | first call (s) | warm median (s) | logLik | peak memory (GiB) | "
                  "status |", "|---|---:|---:|---:|---:|---|"]
        for tool in MLE_TOOLS:
            runs = by_tool.get(tool)
            if not runs:
                continue
            for k, r in enumerate(runs):
                name = tool if tool != "bayesglm_mle" else \
                    f"{tool} ({'empty compilation cache' if k == 0 else 'cached, new process'})"
                if r.get("status") != "ok":
                    lines.append(f"| {name} | - | - | - | "
                                 f"{r.get('peak_gib', float('nan')):.2f} | {r['status']} |")
                    continue
                warm = f"{_med(r['walls'][1:]):.2f}" if len(r["walls"]) > 1 else "-"
                ll = f"{r['logLik']:.6f}" if "logLik" in r else "(VB: none)"
                lines.append(f"| {name} | {r['walls'][0]:.2f} | {warm} | {ll} | "
                             f"{r['peak_gib']:.2f} | ok |")
        est = {t: by_tool[t][0] for t in MLE_TOOLS if by_tool.get(t)
               and by_tool[t][0].get("status") == "ok"}
        if est:
            lines += ["", "Estimates (fixed effects, then group sd's), as each tool names them:",
                      ""]
            for t, r in est.items():
                fx = ", ".join(f"{k} {v:.4f}" for k, v in r["fixef"].items())
                sd = ", ".join(f"{k} {v:.4f}" for k, v in r["sd"].items())
                lines.append(f"* {t}: {fx}; {sd}")
        lines += ["", "Posterior:", "",
                  "| tool | runs ok | wall (s), median (min-max) | min bulk ESS | min tail ESS | "
                  "ESS/s | max R-hat | divergences | peak memory (GiB) | status |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        eps = {}
        for tool in POST_TOOLS:
            runs = by_tool.get(tool)
            if not runs:
                continue
            ok = [r for r in runs if r.get("status") == "ok"]
            bad = sorted({r["status"] for r in runs if r.get("status") != "ok"})
            peak = max(r.get("peak_gib", 0.0) for r in runs)
            if not ok:
                lines.append(f"| {tool} | 0/{len(runs)} | - | - | - | - | - | - | {peak:.2f} | "
                             f"{'; '.join(bad)} |")
                continue
            walls = [r["wall"] for r in ok]
            ess = [r["min_bulk_ess"] for r in ok]
            rate = [r["min_bulk_ess"] / r["wall"] for r in ok]
            eps[tool] = _med(rate)
            lines.append(
                f"| {tool} | {len(ok)}/{len(runs)} | {_range(walls)} | {_med(ess):.0f} | "
                f"{_med([r['min_tail_ess'] for r in ok]):.0f} | {_med(rate):.2f} | {max(r['max_rhat'] for r in ok):.3f} | "
                f"{sum(r.get('divergences', 0) for r in ok)} | {peak:.2f} | "
                f"{'ok' if not bad else '; '.join(bad)} |")
        for r in by_tool.get("bayesglm", []):
            if r.get("status") == "ok" and r.get("fit_args"):
                lines.append(f"\nbayesglm `fit({', '.join(f'{k}={v}' for k, v in r['fit_args'].items())})`"
                             f": {r['draws_kept']} draws kept per chain after {r['warmup']} "
                             f"warmup iterations.")
        if "bayesglm" in eps:
            ratios = [f"{t} {eps['bayesglm'] / v:.1f}x" for t, v in eps.items()
                      if t != "bayesglm" and v > 0]
            if ratios:
                lines += ["", "bayesglm's median ESS/s over each tool's: " + ", ".join(ratios)
                          + "."]
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default="verbagg,big")
    ap.add_argument("--tools", default=",".join(MLE_TOOLS + POST_TOOLS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap-s", type=float, default=900.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--worker")
    ap.add_argument("--problem")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--result", type=Path)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.problem, args.data, args.seed, args.repeats, args.result)
        return
    tools = args.tools.split(",")
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-glmm-") as tmp:
        folder = Path(tmp)
        for problem in args.problems.split(","):
            data = write_data(problem, folder)
            results[problem] = {}
            for tool in tools:
                # the MLE tools repeat inside one process (first call, then warm); the samplers
                # run once per seed in fresh processes
                seeds = ([0, 1] if tool == "bayesglm_mle" else [0]) if tool in MLE_TOOLS \
                    else range(args.repeats)
                runs = []
                for seed in seeds:
                    print(f"[glmm] {problem} {tool} seed {seed} ...", file=sys.stderr,
                          flush=True)
                    r = run_tool(tool, problem, data, seed, args.repeats, folder, args.cap_s)
                    print(f"[glmm]   {r.get('status')} "
                          f"{r.get('wall', r.get('walls', ''))}", file=sys.stderr, flush=True)
                    runs.append(r)
                    if r.get("status") != "ok" and not r["status"].startswith("skipped"):
                        break  # a cap or a failure repeats: one is reported
                    if r.get("status", "").startswith("skipped"):
                        break
                results[problem][tool] = runs
    text = report(results, args)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
