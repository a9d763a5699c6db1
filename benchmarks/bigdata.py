"""Benchmark: maximum likelihood on large data, in memory and out of core.

Three cases (issue 14, item 4):

* ``devices``: the warm MLE of benchmarks/mle.py's Poisson data at n = 1e6, p = 20 in this
  process: ``bg.GLM(y, X, family="poisson").fit_mle(devices=1)`` (one device) and ``.fit_mle()``
  (bayesglm's default: the rows split over JAX's devices, on a CPU the 4 host devices bayesglm
  asks for), glum (as benchmarks/mle.py runs it) and scikit-learn's
  ``PoissonRegressor(alpha=0, fit_intercept=False, solver="newton-cholesky", tol=1e-8)`` when
  installed, interleaved, medians of ``--repeats`` after a warm-up. Target: bayesglm at least
  2x glum and scikit-learn.
* ``memory``: Poisson (log link), n = 1e7 rows, p = 50 (a constant and 49 standard-normal
  columns, coefficients N(0, 0.05)), the design made in the worker block by block (no
  temporaries) in a 64-byte aligned array. ``bg.GLM(y, X, family="poisson", copy=False)
  .fit_mle()`` (the design used in place, no copy) timed twice in the same process:
  the first fit (compilation included) and a refit; the process's peak resident memory
  (``VmHWM``) up to the end of the first fit against the design's size, the memory the first
  fit added (peak minus the resident memory with the data made, JAX's runtime and compilation
  included), and the refit's (its peak above the memory resident before it). Target: the fit
  under 20 s, peak at most 1.2x the design.
* ``outofcore``: the same kind of data written to ``.npy`` files in a scratch folder, the design
  twice a memory limit (default limit 1 GiB: a 2 GiB design), then
  ``bg.ChunkedGLM("y.npy", "X.npy", family="poisson").fit_mle()`` in a process held to the limit
  by a memory cgroup (v1 or v2; the limit counts the file cache the process fills), and the
  in-memory fit of the same rows (``np.load`` + ``bg.GLM``, no limit) as the reference.
  The files' pages are evicted from the system's file cache first, so the limited process
  reads (and is charged for) every page itself. Target: the estimates equal to 1e-10. Where
  no cgroup can be made (not root, no cgroup
  file system), the out-of-core fit runs without the limit and the report says so.

Usage::

    .venv/bin/python benchmarks/bigdata.py                      # both cases
    .venv/bin/python benchmarks/bigdata.py --case outofcore --limit-mb 512
    .venv/bin/python benchmarks/bigdata.py --case memory --n 1000000 --out big.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261204
BLOCK = 2**17  # rows generated at a time


def make_block(i: int, rows: int, p: int):
    """Rows of block ``i``: (X block, y block), deterministic."""
    import numpy as np

    rng = np.random.default_rng([SEED, p, i])
    beta = np.random.default_rng([SEED, p]).normal(0.0, 0.05, p)
    X = np.empty((rows, p))
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((rows, p - 1))
    y = rng.poisson(np.exp(X @ beta)).astype(np.float64)
    return X, y


def aligned_empty(shape):
    """An uninitialised float64 array whose data start on a 64-byte boundary, as JAX needs to
    read a NumPy array in place (np.empty's large arrays start 16 bytes past a page)."""
    import numpy as np

    count = int(np.prod(shape))
    buf = np.empty(count * 8 + 64, dtype=np.uint8)
    start = (-buf.ctypes.data) % 64
    return buf[start:start + count * 8].view(np.float64).reshape(shape)


def fill(X, y):
    n = X.shape[0]
    for i, start in enumerate(range(0, n, BLOCK)):
        stop = min(n, start + BLOCK)
        X[start:stop], y[start:stop] = make_block(i, stop - start, X.shape[1])


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Start VmHWM again from the current resident memory (Linux's clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    """The process's peak resident memory since its exec (VmHWM: ``ru_maxrss`` would also count
    the pages of the parent it was forked from)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------------
# workers (one process each; print one JSON line)


def worker_memory(n: int, p: int) -> dict:
    import numpy as np

    import bayesglm as bg

    base = rss_mb()
    X, y = aligned_empty((n, p)), np.empty(n)
    fill(X, y)
    with_data = rss_mb()
    t0 = time.perf_counter()
    res = bg.GLM(y, X, family="poisson", copy=False).fit_mle()
    first = time.perf_counter() - t0
    peak = peak_mb()  # the first fit's (the refit's results would overlap the first's)
    out = {"first_s": first, "n_iter": res.n_iter, "params": res.params.tolist()}
    del res
    before_refit = rss_mb()
    reset_peak()
    t0 = time.perf_counter()
    bg.GLM(y, X, family="poisson", copy=False).fit_mle()
    out.update(refit_s=time.perf_counter() - t0, design_mb=X.nbytes / 2**20,
               rss_before_data_mb=base, rss_with_data_mb=with_data, peak_mb=peak,
               refit_peak_mb=peak_mb(), rss_before_refit_mb=before_refit)
    return out


def worker_inmem_file(folder: str) -> dict:
    import numpy as np

    import bayesglm as bg

    X = aligned_empty(np.load(Path(folder) / "X.npy", mmap_mode="r").shape)
    X[:] = np.load(Path(folder) / "X.npy", mmap_mode="r")  # in memory (no file pages)
    y = np.load(Path(folder) / "y.npy")
    t0 = time.perf_counter()
    res = bg.GLM(y, X, family="poisson", copy=False).fit_mle()
    return {"fit_s": time.perf_counter() - t0, "n_iter": res.n_iter,
            "params": res.params.tolist(), "bse": res.bse.tolist(), "deviance": res.deviance,
            "llf": res.llf, "peak_mb": peak_mb()}


def worker_outofcore(folder: str) -> dict:
    import bayesglm as bg

    t0 = time.perf_counter()
    model = bg.ChunkedGLM(Path(folder) / "y.npy", Path(folder) / "X.npy", family="poisson")
    res = model.fit_mle(progress=False)
    return {"fit_s": time.perf_counter() - t0, "n_iter": res.n_iter, "chunk_rows": model.chunk_rows,
            "params": res.params.tolist(), "bse": res.bse.tolist(), "deviance": res.deviance,
            "llf": res.llf, "peak_mb": peak_mb()}


# ---------------------------------------------------------------------------------------------
# a memory cgroup for one process


class Cgroup:
    """A memory cgroup (v2 or v1) with a limit; ``None`` from :meth:`make` where none can be
    made."""

    def __init__(self, path: Path, v2: bool):
        self.path, self.v2 = path, v2

    @classmethod
    def make(cls, limit_bytes: int):
        name = f"bayesglm-bench-{os.getpid()}"
        for root, v2 in ((Path("/sys/fs/cgroup"), True), (Path("/sys/fs/cgroup/memory"), False)):
            probe = root / ("cgroup.controllers" if v2 else "memory.limit_in_bytes")
            if not probe.exists():
                continue
            path = root / name
            try:
                path.mkdir()
                if v2:
                    (path / "memory.max").write_text(str(limit_bytes))
                    if (path / "memory.swap.max").exists():
                        (path / "memory.swap.max").write_text("0")
                else:
                    (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                    sw = path / "memory.memsw.limit_in_bytes"
                    if sw.exists():
                        try:
                            sw.write_text(str(limit_bytes))
                        except OSError:
                            pass
                return cls(path, v2)
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass
        return None

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` run by a shell that first moves itself into the group (no fork-time hook in
        a process whose JAX threads are running)."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *cmd]

    def peak_mb(self) -> float:
        f = self.path / ("memory.peak" if self.v2 else "memory.max_usage_in_bytes")
        try:
            return int(f.read_text()) / 2**20
        except (OSError, ValueError):
            return float("nan")

    def limit_hits(self) -> str:
        f = self.path / ("memory.events" if self.v2 else "memory.failcnt")
        try:
            return " ".join(f.read_text().split())
        except OSError:
            return "?"

    def remove(self):
        try:
            self.path.rmdir()
        except OSError:
            pass


def drop_from_cache(*paths: Path):
    """Evict the files' pages from the operating system's cache, so that the next reader
    faults them in itself (and a memory cgroup is charged for them: pages cached by another
    process would be charged to that one's group)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    try:  # and every clean page where allowed (root): no page of the files stays cached
        Path("/proc/sys/vm/drop_caches").write_text("1")
    except OSError:
        pass


def run_worker(args: list[str], cgroup: Cgroup | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    proc = subprocess.run(cgroup.wrap(cmd) if cgroup else cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# the cases

LINES: list[str] = []


def log(line=""):
    LINES.append(line)
    print(line, flush=True)


def case_memory(n: int, p: int):
    log(f"## In memory: Poisson n = {n:.0e}, p = {p}\n")
    r = run_worker(["memory", str(n), str(p)])
    design = r["design_mb"]
    log("| design (MB) | first fit (s) | refit (s) | IRLS iterations | peak RSS, first fit "
        "(MB) | peak / design | first fit's own memory (peak - RSS with the data, MB) | "
        "refit's own memory (MB) |")
    log("|---:|---:|---:|---:|---:|---:|---:|---:|")
    log(f"| {design:.0f} | {r['first_s']:.2f} | {r['refit_s']:.2f} | {r['n_iter']} | "
        f"{r['peak_mb']:.0f} | {r['peak_mb'] / design:.2f} | "
        f"{r['peak_mb'] - r['rss_with_data_mb']:.0f} | "
        f"{r['refit_peak_mb'] - r['rss_before_refit_mb']:.0f} |")
    log(f"\n(resident memory before the data: {r['rss_before_data_mb']:.0f} MB, the interpreter "
        f"with numpy and bayesglm imported; with the data: {r['rss_with_data_mb']:.0f} MB; the "
        "first fit's own memory includes JAX's runtime and its compilation, the refit's is the "
        f"peak above the {r['rss_before_refit_mb']:.0f} MB resident before it, whose peak is "
        "reset through /proc/self/clear_refs)")
    log(f"- target: the fit under 20 s: first {r['first_s']:.1f} s, refit {r['refit_s']:.1f} s "
        f"{'OK' if r['first_s'] < 20 else 'MISSED'}")
    ratio = r["peak_mb"] / design
    log(f"- target: peak memory at most 1.2x the design: {ratio:.2f}x "
        f"{'OK' if ratio <= 1.2 else 'MISSED'}\n")


def case_outofcore(limit_mb: int, p: int, folder: str | None):
    import numpy as np

    limit = limit_mb * 2**20
    n = int(2 * limit / (8 * p)) + 1
    scratch = Path(folder or tempfile.mkdtemp(prefix="bayesglm-ooc-"))
    scratch.mkdir(parents=True, exist_ok=True)
    log(f"## Out of core: Poisson n = {n}, p = {p}: a {8 * n * p / 2**20:.0f} MB design, twice "
        f"a {limit_mb} MB memory limit\n")
    try:
        t0 = time.perf_counter()
        X = np.lib.format.open_memmap(scratch / "X.npy", mode="w+", shape=(n, p))
        y = np.lib.format.open_memmap(scratch / "y.npy", mode="w+", shape=(n,))
        fill(X, y)
        X.flush()
        y.flush()
        del X, y
        print(f"  data written in {time.perf_counter() - t0:.0f} s to {scratch}",
              file=sys.stderr, flush=True)
        ref = run_worker(["inmem-file", str(scratch)])
        print(f"  in memory: {ref['fit_s']:.1f} s", file=sys.stderr, flush=True)
        cg = Cgroup.make(limit)
        drop_from_cache(scratch / "X.npy", scratch / "y.npy")
        try:
            ooc = run_worker(["outofcore", str(scratch)], cg)
            held = cg is not None
            cg_peak = cg.peak_mb() if cg else float("nan")
            hits = cg.limit_hits() if cg else "-"
        finally:
            if cg:
                cg.remove()
    finally:
        if folder is None:
            shutil.rmtree(scratch, ignore_errors=True)
    diff = np.max(np.abs(np.subtract(ooc["params"], ref["params"])))
    rel = diff / np.max(np.abs(ref["params"]))
    bse = np.max(np.abs(np.subtract(ooc["bse"], ref["bse"])) / np.asarray(ref["bse"]))
    log("| fit | memory limit | time (s) | IRLS iterations | peak (MB) |")
    log("|---|---|---:|---:|---:|")
    log(f"| bg.GLM (np.load, in memory) | none | {ref['fit_s']:.1f} | {ref['n_iter']} | "
        f"{ref['peak_mb']:.0f} (RSS) |")
    lim = f"{limit_mb} MB (cgroup)" if held else "none (no cgroup could be made)"
    log(f"| bg.ChunkedGLM (blocks of {ooc['chunk_rows']} rows) | {lim} | {ooc['fit_s']:.1f} | "
        f"{ooc['n_iter']} | {cg_peak:.0f} (cgroup, file cache included); {ooc['peak_mb']:.0f} "
        "(RSS) |")
    log(f"\ncgroup limit events: {hits}")
    log(f"- max |coef diff| {diff:.2e} (relative to the largest coefficient {rel:.2e}); max "
        f"relative SE diff {bse:.2e}; relative deviance diff "
        f"{abs(ooc['deviance'] / ref['deviance'] - 1):.2e}; relative llf diff "
        f"{abs(ooc['llf'] / ref['llf'] - 1):.2e}")
    ok = held and diff < 1e-10
    log(f"- target: a design twice the memory limit fitted out of core, equal to the in-memory "
        f"MLE to 1e-10: {'OK' if ok else 'MISSED' if held else 'NOT CHECKED (no memory limit)'}\n")


def case_devices(repeats: int):
    """Warm MLE at n = 1e6, p = 20 (benchmarks/mle.py's Poisson data): bayesglm on one device
    and split over JAX's devices (its default), glum and scikit-learn side by side."""
    import statistics

    import jax
    import numpy as np

    import bayesglm as bg
    from mle import GLUM_GRADIENT_TOL, GLUM_SOLVER, make_data

    n = 10**6
    y, X, _ = make_data("poisson", n)
    tools = {
        "bayesglm, 1 device": lambda: bg.GLM(y, X, family="poisson").fit_mle(devices=1).params,
        f"bayesglm, {len(jax.devices())} devices (default)":
            lambda: bg.GLM(y, X, family="poisson").fit_mle().params,
    }
    try:
        from glum import GeneralizedLinearRegressor

        tools["glum"] = lambda: GeneralizedLinearRegressor(
            family="poisson", alpha=0, fit_intercept=False, solver=GLUM_SOLVER,
            gradient_tol=GLUM_GRADIENT_TOL).fit(X, y).coef_
    except ImportError:
        pass
    try:
        from sklearn.linear_model import PoissonRegressor

        tools["scikit-learn newton-cholesky"] = lambda: PoissonRegressor(
            alpha=0, fit_intercept=False, solver="newton-cholesky", tol=1e-8,
            max_iter=100).fit(X, y).coef_
    except ImportError:
        pass
    log(f"## Warm MLE across devices: Poisson n = 1e6, p = 20 ({len(jax.devices())} JAX devices: "
        f"{jax.devices()[0].platform})\n")
    params = {name: np.asarray(f()) for name, f in tools.items()}  # warm-up, untimed
    times = {name: [] for name in tools}
    for _ in range(repeats):  # interleaved, round after round
        for name, f in tools.items():
            t0 = time.perf_counter()
            np.asarray(f())
            times[name].append(time.perf_counter() - t0)
    ref = params["bayesglm, 1 device"]
    best = statistics.median(times[next(iter(times))])
    log("| tool | warm median (s) | min-max | vs bayesglm 1 device | max \\|coef diff\\| vs "
        "bayesglm 1 device |")
    log("|---|---:|---|---:|---:|")
    med = {}
    for name, ts in times.items():
        med[name] = statistics.median(ts)
        log(f"| {name} | {med[name]:.3f} | {min(ts):.3f}-{max(ts):.3f} | "
            f"{best / med[name]:.2f}x | {np.max(np.abs(params[name] - ref)):.1e} |")
    split = med[list(times)[1]]
    for other in ("glum", "scikit-learn newton-cholesky"):
        if other in med:
            r = med[other] / split
            log(f"- target: bayesglm (default) at least 2x {other}: {r:.2f}x "
                f"{'OK' if r >= 2 else 'MISSED'}")
    log(f"\n(medians of {repeats} repeats after one warm-up; the timed region is model "
        "construction and the fit, as in benchmarks/mle.py; scikit-learn with tol=1e-8, its "
        "default 1e-4 stopping an iteration short of the MLE)\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=("devices", "memory", "outofcore", "all"), default="all")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the devices case")
    ap.add_argument("--n", type=int, default=10**7, help="rows of the in-memory case")
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--limit-mb", type=int, default=1024, help="out-of-core memory limit")
    ap.add_argument("--folder", help="scratch folder for the out-of-core files (kept)")
    ap.add_argument("--out", metavar="PATH", help="also write the report to PATH")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        fn = {"memory": lambda: worker_memory(int(rest[0]), int(rest[1])),
              "inmem-file": lambda: worker_inmem_file(rest[0]),
              "outofcore": lambda: worker_outofcore(rest[0])}[kind]
        print(json.dumps(fn()))
        return
    sys.path.insert(0, str(HERE))
    from mle import library_state, loadavg, machine, versions

    log("# bayesglm large-data MLE benchmark\n")
    log(f"machine: {machine()}; load average at start: {loadavg()}")
    log(f"bayesglm source: {library_state()}")
    log("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + "\n")
    if args.case in ("devices", "all"):
        case_devices(args.repeats)
    if args.case in ("memory", "all"):
        case_memory(args.n, args.p)
    if args.case in ("outofcore", "all"):
        case_outofcore(args.limit_mb, args.p, args.folder)
    log(f"load average at the end: {loadavg()}")
    if args.out:
        Path(args.out).write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
