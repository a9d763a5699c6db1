"""Benchmark: maximum-likelihood GLM fits, bayesglm vs statsmodels vs glum.

Simulated Poisson (log link) and logistic (logit link) data with n rows and p = 20 columns
(a constant column and 19 standard-normal predictors, coefficients drawn from N(0, 0.1)), one
fixed seed per (family, n). Every tool fits the unpenalised MLE on the same float64 arrays:

* bayesglm:     ``bg.GLM(y, X, family=...).fit_mle()``
* statsmodels:  ``sm.GLM(y, X, family=...).fit()`` (default IRLS)
* glum:         ``GeneralizedLinearRegressor(family=..., alpha=0, fit_intercept=False,
                solver=GLUM_SOLVER, gradient_tol=GLUM_GRADIENT_TOL).fit(X, y)``

Timed region: model construction (input validation) + fit, for every tool; the data are generated
outside it. Two numbers per (family, n, tool):

* first call: the first fit in a fresh Python process (this script run as a subprocess with
  ``--first TOOL FAMILY N``): only numpy and the tool under test are imported (the import is
  timed separately and NOT included), so every cache is cold, JAX's compilation included.
* warm: median over repeats in the main process after one untimed warm-up call.

Coefficient agreement is the max |coef - coef_statsmodels| of the warm-up fit.

Usage::

    python benchmarks/mle.py                # n in 1e4, 1e5, 1e6
    python benchmarks/mle.py --quick        # n in 1e4, 1e5, fewer repeats
    python benchmarks/mle.py --out table.md # also write the markdown report to a file
    python benchmarks/mle.py --profile      # where bayesglm's time goes at n = 1e6 (no table)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

P = 20
SEED = 20240611
FAMILIES = ("poisson", "binomial")
TOOLS = ("bayesglm", "statsmodels", "glum")
# glum: unpenalised (alpha=0), no added intercept (X has a constant column), IRLS with a
# least-squares inner solve (what solver='auto' picks without an L1 penalty; 'irls-cd' and
# 'lbfgs' were no better overall here, see README.md), and a gradient tolerance tight enough that
# the coefficients agree with statsmodels' MLE (the default 1e-4 leaves ~4e-5 at n = 1e6).
GLUM_SOLVER = "irls-ls"
GLUM_GRADIENT_TOL = 1e-8


# ---------------------------------------------------------------------------------------------
# data


def make_data(family: str, n: int):
    """(y, X, beta_true) for one (family, n); deterministic."""
    rng = np.random.default_rng([SEED, FAMILIES.index(family), n])
    X = np.empty((n, P))
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((n, P - 1))
    beta = rng.normal(0.0, 0.1, P)
    eta = X @ beta
    if family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(np.float64)
    else:
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
    return y, X, beta


# ---------------------------------------------------------------------------------------------
# the tools: import, then fit(y, X, family) -> (params ndarray, n_iter or None)


def import_tool(tool: str):
    """Import a tool and return its fit function."""
    if tool == "bayesglm":
        import bayesglm as bg

        def fit(y, X, family):
            res = bg.GLM(y, X, family=family).fit_mle()
            return np.asarray(res.params), getattr(res, "n_iter", None)

    elif tool == "statsmodels":
        import statsmodels.api as sm

        fams = {"poisson": sm.families.Poisson, "binomial": sm.families.Binomial}

        def fit(y, X, family):
            res = sm.GLM(y, X, family=fams[family]()).fit()
            hist = getattr(res, "fit_history", None) or {}
            return np.asarray(res.params), hist.get("iteration")

    elif tool == "glum":
        from glum import GeneralizedLinearRegressor

        def fit(y, X, family):
            m = GeneralizedLinearRegressor(
                family=family,
                alpha=0,
                fit_intercept=False,
                solver=GLUM_SOLVER,
                gradient_tol=GLUM_GRADIENT_TOL,
            ).fit(X, y)
            return np.asarray(m.coef_), getattr(m, "n_iter_", None)

    else:
        raise ValueError(f"unknown tool {tool!r}")
    return fit


def versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("bayesglm", "jax", "jaxlib", "numpy", "statsmodels", "glum", "tabmat"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "-"
    return out


def library_state() -> str:
    """git commit of the checkout, whether bayesglm/ has local changes, and a hash of its sources."""
    import hashlib

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha1()
    pkg = os.path.join(root, "bayesglm")
    for name in sorted(os.listdir(pkg)) if os.path.isdir(pkg) else ():
        if name.endswith(".py"):
            with open(os.path.join(pkg, name), "rb") as f:
                h.update(name.encode() + f.read())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "bayesglm"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        head, dirty = "?", ""
    return f"git {head or '?'}{' + local changes' if dirty else ''}, bayesglm/*.py sha1 {h.hexdigest()[:10]}"


def loadavg() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpu}, {cores} cores available"


# ---------------------------------------------------------------------------------------------
# --first: one cold fit in this (fresh) process


def first_call(tool: str, family: str, n: int) -> dict:
    y, X, _ = make_data(family, n)
    t0 = time.perf_counter()
    fit = import_tool(tool)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    params, n_iter = fit(y, X, family)
    t_first = time.perf_counter() - t0
    return {"import_s": t_import, "first_s": t_first, "n_iter": n_iter, "params": params.tolist()}


def run_first(tool: str, family: str, n: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--first", tool, family, str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# warm timings in this process


def warm_times(fit, y, X, family, repeats):
    params, n_iter = fit(y, X, family)  # warm-up (compilation etc.), untimed
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit(y, X, family)
        times.append(time.perf_counter() - t0)
    return params, n_iter, times


def fmt_s(t):
    return "-" if t is None else (f"{t:.3f}" if t < 10 else f"{t:.1f}")


def benchmark(ns, repeats_for, log) -> str:
    v = versions()
    log(f"# bayesglm MLE benchmark\n")
    log(f"machine: {machine()}; load average (1, 5, 15 min) at start: {loadavg()}")
    log(f"bayesglm source: {library_state()}")
    log("versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    log(f"data: p = {P} (const + {P - 1} N(0,1) predictors), beta ~ N(0, 0.1), seed {SEED}")
    log(f"glum: solver={GLUM_SOLVER!r}, gradient_tol={GLUM_GRADIENT_TOL:g}, alpha=0, "
        "fit_intercept=False\n")

    fits = {tool: import_tool(tool) for tool in TOOLS}
    rows = []  # dicts
    imports = {tool: [] for tool in TOOLS}
    for family in FAMILIES:
        for n in ns:
            y, X, _ = make_data(family, n)
            reps = repeats_for(n)
            res = {}
            for tool in TOOLS:
                first = run_first(tool, family, n)
                imports[tool].append(first["import_s"])
                params, n_iter, times = warm_times(fits[tool], y, X, family, reps)
                res[tool] = dict(
                    family=family, n=n, tool=tool, first=first["first_s"],
                    warm=statistics.median(times), warm_min=min(times), repeats=reps,
                    params=params, first_params=np.asarray(first["params"]), n_iter=n_iter,
                )
                print(f"  {family:8s} n={n:>8d} {tool:12s} first {first['first_s']:8.3f}s  "
                      f"warm {statistics.median(times):8.3f}s  (min {min(times):.3f}, "
                      f"{reps} reps)  n_iter {n_iter}", file=sys.stderr, flush=True)
            ref = res["statsmodels"]
            for tool in TOOLS:
                r = res[tool]
                r["speedup"] = ref["warm"] / r["warm"]
                r["coef_diff"] = float(np.max(np.abs(r["params"] - ref["params"])))
                r["first_coef_diff"] = float(np.max(np.abs(r["first_params"] - ref["params"])))
                rows.append(r)
            del X, y

    log("| family | n | tool | first call (s) | warm median (s) | speed-up vs statsmodels "
        "(warm) | max \\|coef diff\\| vs statsmodels | IRLS iterations |")
    log("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        diff = "(reference)" if r["tool"] == "statsmodels" else f"{r['coef_diff']:.1e}"
        log(f"| {r['family']} | {r['n']:.0e} | {r['tool']} | {fmt_s(r['first'])} | "
            f"{fmt_s(r['warm'])} | {r['speedup']:.2f}x | {diff} | "
            f"{'-' if r['n_iter'] is None else r['n_iter']} |")
    worst_first = max(r["first_coef_diff"] for r in rows)
    log(f"\n(the first-call fits agree with statsmodels' warm fit to {worst_first:.1e} at worst)")
    log("\nimport time of each tool in a fresh process (median; not included in 'first call'): "
        + ", ".join(f"{t} {statistics.median(imports[t]):.2f} s" for t in TOOLS))

    log(f"\nload average (1, 5, 15 min) at the end: {loadavg()}")

    nmax = max(ns)
    log(f"\n## targets at n = {nmax:.0e}" + ("" if nmax == 10**6 else " (--quick: not the 1e6 targets)"))
    for family in FAMILIES:
        by = {r["tool"]: r for r in rows if r["family"] == family and r["n"] == nmax}
        b, s, g = by["bayesglm"], by["statsmodels"], by["glum"]
        r1 = s["warm"] / b["warm"]
        r2 = g["warm"] / b["warm"]
        r3 = s["first"] / b["first"]
        log(f"- {family}: bayesglm warm vs statsmodels warm: {r1:.2f}x faster (target >= 5x) "
            f"{'OK' if r1 >= 5 else 'MISSED'}")
        log(f"- {family}: bayesglm warm vs glum warm: {r2:.2f}x (target >= 1x) "
            f"{'OK' if r2 >= 1 else 'MISSED'}")
        log(f"- {family}: bayesglm first call vs statsmodels first call: {r3:.2f}x faster "
            f"(target >= 2x) {'OK' if r3 >= 2 else 'MISSED'}")
    return "\n".join(LINES)


LINES: list[str] = []


def log(line=""):
    LINES.append(line)
    print(line, flush=True)


# ---------------------------------------------------------------------------------------------
# --profile: where bayesglm's time goes (uses bayesglm internals; for diagnosis only)


def _best(f, reps):
    import jax

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(f())
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def profile(family: str, n: int, reps: int = 5):
    """Split one bayesglm fit into validation, host->device copy, compile, IRLS and the rest."""
    y, X, _ = make_data(family, n)
    t0 = time.perf_counter()
    import jax
    import jax.numpy as jnp

    import bayesglm as bg

    print(f"import bayesglm: {time.perf_counter() - t0:.3f} s; jax {jax.__version__}, backend "
          f"{jax.default_backend()}, {jax.local_device_count()} device(s); load average "
          f"{os.getloadavg()}")
    print(f"{family}, n = {n}, p = {P}")

    t0 = time.perf_counter()
    model = bg.GLM(y, X, family=family)
    t1 = time.perf_counter()
    res = model.fit_mle()
    t2 = time.perf_counter()
    print(f"first call: bg.GLM(...) {t1 - t0:.3f} s, fit_mle() {t2 - t1:.3f} s "
          f"(compilation included), n_iter = {res.n_iter}")

    def row(label, f):
        best, med = _best(f, reps)
        print(f"  {label:58s} min {best:7.3f} s   median {med:7.3f} s")
        return best

    print(f"warm (min / median of {reps}):")
    t_glm = row("bg.GLM(y, X, family)  (validation: make_design)", lambda: bg.GLM(y, X, family=family))
    t_fit = row("model.fit_mle()", lambda: model.fit_mle().params)
    row("bg.GLM(...).fit_mle()  (what the benchmark times)",
        lambda: bg.GLM(y, X, family=family).fit_mle().params)
    try:  # internals: may move while the library changes
        from bayesglm import irls as birls
        from bayesglm import mle as bmle

        d, fam = model.design, model.family
        t_h2d = row("  irls_data(design)  (host->device copy of X, y)", lambda: bmle.irls_data(d).X)
        data = bmle.irls_data(d)
        t_irls = row("  irls(...)  (the compiled IRLS loop, data on device)",
                     lambda: birls.irls(fam, data, None, 100, 1e-8).beta)
        per = []
        for k in (1, 2, 3):
            per.append(row(f"  irls(..., maxiter={k}, tol=1e-30)",
                           lambda k=k: birls.irls(fam, data, None, k, 1e-30).beta))
        print(f"  => about {(per[2] - per[0]) / 2:.3f} s per IRLS iteration; fit_mle - irls_data - "
              f"irls (post-processing) about {t_fit - t_h2d - t_irls:.3f} s")
        jX = data.X
        v = jnp.asarray(np.random.default_rng(1).random(n))
        row("  [XLA] X.T @ v   (X'Wz as written in _wls)", lambda: jax.jit(lambda X, v: X.T @ v)(jX, v))
        row("  [XLA] jnp.sum(X * v[:, None], 0)   (same numbers)",
            lambda: jax.jit(lambda X, v: jnp.sum(X * v[:, None], axis=0))(jX, v))
        row("  [XLA] (X * v[:, None]).T @ X   (X'WX)",
            lambda: jax.jit(lambda X, v: (X * v[:, None]).T @ X)(jX, v))
    except Exception as exc:  # pragma: no cover
        print(f"  (internals not profiled: {type(exc).__name__}: {exc})")
    print(f"load average at the end: {os.getloadavg()}")


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n up to 1e5 and fewer repeats")
    ap.add_argument("--out", metavar="PATH", help="write the markdown report to PATH")
    ap.add_argument("--first", nargs=3, metavar=("TOOL", "FAMILY", "N"),
                    help="(internal) time one cold fit in this process; print JSON")
    ap.add_argument("--profile", nargs="?", const="poisson", metavar="FAMILY",
                    help="profile bayesglm at n = 1e6 (1e5 with --quick)")
    args = ap.parse_args(argv)

    if args.first:
        tool, family, n = args.first
        print(json.dumps(first_call(tool, family, int(n))))
        return
    if args.profile:
        profile(args.profile, 10**5 if args.quick else 10**6)
        return
    if args.quick:
        ns, repeats_for = (10**4, 10**5), (lambda n: 3)
    else:
        ns, repeats_for = (10**4, 10**5, 10**6), (lambda n: 5 if n <= 10**5 else 3)
    report = benchmark(ns, repeats_for, log)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
        print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
