"""Benchmark: time to a first posterior in a new process, bayesglm vs rstanarm's stan_glm.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/coldstart.py                 # 5 rounds
    .venv/bin/python benchmarks/coldstart.py --repeats 3 --out coldstart.md

The job is the README's claims model, end to end in a new process: import, read the bundled
data, ``bg.glm("claims ~ age + vehicle + region", df, family="poisson", exposure="holders")
.fit(seed=s, progress=False)`` (4 chains x 1000 draws after bayesglm's 200 warmup) and
``.summary()``. Each measurement is a whole process, timed by this script from its start to its
exit (Python's start-up, the imports and the interpreter's exit included); the process also
reports its own stages. Modes, one process each per round, interleaved round after round:

* ``bayesglm, cache filled``: bayesglm's default (its persistent compilation cache on,
  ``bayesglm._cache``), the cache folder filled by an earlier process: a user's every run after
  their first of the model;
* ``bayesglm, first run``: the same with an empty cache folder (every program compiled and
  written): a user's very first run (reported once per round, in a fresh folder);
* ``bayesglm, cache off``: ``BAYESGLM_COMPILATION_CACHE=0``;
* ``stan_glm``: ``Rscript benchmarks/coldstart.R``: ``library(rstanarm)``, ``stan_glm`` with
  rstanarm's defaults (4 chains x 2000 iterations, 1000 warmup; its Stan program ships compiled)
  and chains on all cores as its startup message recommends, then ``summary(fit)``; skipped
  with a message where ``Rscript`` or rstanarm is missing.

Reported: medians over rounds with min-max, each process's own stages (medians), and the
targets of issue 14: the cache-filled run at most 1.5 s and at least 3x faster than stan_glm.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLAIMS = ROOT / "bayesglm" / "datasets" / "claims.csv"
TARGET_S = 1.5
TARGET_RATIO = 3.0
TIMEOUT_S = 900

WORKER = r"""
import json, sys, time
t0 = time.perf_counter()
import bayesglm as bg
df = bg.datasets.load("claims")
t1 = time.perf_counter()
model = bg.glm("claims ~ age + vehicle + region", df, family="poisson", exposure="holders")
t2 = time.perf_counter()
fit = model.fit(seed=int(sys.argv[1]), progress=False)
t3 = time.perf_counter()
table = fit.summary()
t4 = time.perf_counter()
json.dump({"import_s": t1 - t0, "model_s": t2 - t1, "fit_s": t3 - t2, "summary_s": t4 - t3,
           "ess_bulk_min": float(table["ess_bulk"].min()), "rhat_max": float(table["r_hat"].max()),
           "cache": __import__("jax").config.jax_compilation_cache_dir},
          open(sys.argv[2], "w"))
"""


def load1() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float(os.getloadavg()[0])


def run(cmd, env, result: Path) -> dict:
    before = load1()
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail, "process_s": wall, "load": before}
    info = json.loads(result.read_text())
    info.update(process_s=wall, load=before)
    return info


def bayesglm_env(cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BAYESGLM_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR",
                        "BAYESGLM_CACHE_DIR")}
    if cache is None:
        env["BAYESGLM_COMPILATION_CACHE"] = "0"
    else:
        env["BAYESGLM_CACHE_DIR"] = str(cache)
    return env


def r_ok() -> tuple[bool, str]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False, "Rscript not found"
    r = subprocess.run([rscript, "-e", "quit(status = !requireNamespace('rstanarm', quietly = "
                        "TRUE))"], capture_output=True, text=True, timeout=300)
    return (r.returncode == 0, "" if r.returncode == 0 else "R package rstanarm not installed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--out", help="also write the markdown report here (and raw JSON beside)")
    args = ap.parse_args()

    have_r, why = r_ok()
    if not have_r:
        print(f"stan_glm SKIPPED: {why}", file=sys.stderr)
    modes = ["bayesglm, cache filled", "bayesglm, first run", "bayesglm, cache off"]
    modes += ["stan_glm"] if have_r else []
    records = []
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as td:
        tmp = Path(td)
        filled = tmp / "filled"
        res = tmp / "result.json"
        print("filling the cache (one untimed run) ...", file=sys.stderr, flush=True)
        warm = run([sys.executable, "-c", WORKER, "99", str(res)], bayesglm_env(filled), res)
        if "error" in warm:
            sys.exit(f"bayesglm failed: {warm['error']}")
        for k in range(args.repeats):
            for mode in modes:
                res.unlink(missing_ok=True)
                if mode == "stan_glm":
                    cmd = ["Rscript", str(HERE / "coldstart.R"), str(CLAIMS), str(k), str(res)]
                    env = dict(os.environ)
                else:
                    cache = {"bayesglm, cache filled": filled,
                             "bayesglm, first run": tmp / f"empty-{k}",
                             "bayesglm, cache off": None}[mode]
                    cmd = [sys.executable, "-c", WORKER, str(k), str(res)]
                    env = bayesglm_env(cache)
                rec = run(cmd, env, res)
                rec.update(mode=mode, round=k)
                records.append(rec)
                print(f"[{time.strftime('%H:%M:%S')}] round {k} {mode}: "
                      f"{rec['process_s']:.2f} s" + (f" ERROR {rec['error']}" if "error" in rec
                                                     else ""), file=sys.stderr, flush=True)
    text = report(records, modes, args)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
        Path(args.out).with_suffix(".json").write_text(json.dumps(records, indent=1))


def report(records, modes, args) -> str:
    import jax
    import numpy

    L = ["# Time to a first posterior: the claims model in a new process\n",
         f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
         f"{platform.python_version()}, jax {jax.__version__}, numpy {numpy.__version__}",
         f"- {args.repeats} rounds; every mode a new process per round, interleaved; medians "
         "(min-max). process = start to exit, as a user waits for it", ""]
    L.append("| mode | process s (min-max) | import s | model s | fit s | summary s | "
             "min ESS | max R-hat | load |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    med = {}
    for mode in modes:
        rs = [r for r in records if r["mode"] == mode and "error" not in r]
        if not rs:
            L.append(f"| {mode} | failed | | | | | | | |")
            continue
        m = lambda k: statistics.median(r[k] for r in rs if k in r)  # noqa: E731
        p = [r["process_s"] for r in rs]
        med[mode] = m("process_s")
        ess = m("ess_bulk_min") if "ess_bulk_min" in rs[0] else m("n_eff_min")
        model = f"{m('model_s'):.2f}" if "model_s" in rs[0] else f"{m('read_s'):.2f} (read)"
        L.append(f"| {mode} | {med[mode]:.2f} ({min(p):.2f}-{max(p):.2f}) | {m('import_s'):.2f} "
                 f"| {model} | {m('fit_s'):.2f} | {m('summary_s'):.2f} | {ess:,.0f} "
                 f"| {max(r['rhat_max'] for r in rs):.4f} "
                 f"| {statistics.median(r['load'] for r in rs):.1f} |")
    L.append("")
    mine = med.get("bayesglm, cache filled")
    if mine is not None:
        L.append(f"- target: cache-filled process <= {TARGET_S:g} s: {mine:.2f} s, "
                 f"{'met' if mine <= TARGET_S else 'NOT met'}")
    if mine is not None and "stan_glm" in med:
        ratio = med["stan_glm"] / mine
        L.append(f"- target: stan_glm / bayesglm (cache filled) >= {TARGET_RATIO:g}x: "
                 f"{ratio:.2f}x, {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
        for mode in ("bayesglm, first run", "bayesglm, cache off"):
            if mode in med:
                L.append(f"- stan_glm / {mode}: {med['stan_glm'] / med[mode]:.2f}x")
    errors = [r for r in records if "error" in r]
    for r in errors:
        L.append(f"- round {r['round']} {r['mode']}: ERROR {r['error']}")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
