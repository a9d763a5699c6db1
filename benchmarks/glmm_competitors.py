"""Worker for ``benchmarks/glmm.py``: bambi (PyMC's NUTS) on a group-level logistic model.

Runs in the separate venv ``.venv-bench-pymc`` (bambi and PyMC must not go into the project's
venv; see ``benchmarks/nuts_competitors.py`` for how to create it). ``glmm.py`` calls it once per
(problem, seed) in a fresh process::

    .venv-bench-pymc/bin/python benchmarks/glmm_competitors.py --data d.csv \\
        --formula "y ~ x1 + x2 + (1 | g)" --groups g --seed 0 --out /tmp/bambi-big-0

What a bambi user writes: ``bmb.Model(formula, df, family="bernoulli")`` (bambi's default
priors) and ``.fit(random_seed=seed)`` with bambi's defaults (PyMC NUTS, 1000 tuning and 1000
kept draws, chains = max(2, cores)). The timed region is model construction and sampling, until
the draws are in memory; the import is timed apart. Writes OUT.csv (kept draws of every
fixed effect and every group sd, with chain and draw) and OUT.json (timings, divergences).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

T0 = time.perf_counter()
import bambi as bmb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

IMPORT_S = time.perf_counter() - T0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--formula", required=True)
    ap.add_argument("--groups", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    df = pd.read_csv(a.data)
    for g in a.groups.split(","):
        df[g] = df[g].astype(str)
    t = time.perf_counter()
    model = bmb.Model(a.formula, df, family="bernoulli")
    idata = model.fit(random_seed=a.seed)
    wall = time.perf_counter() - t
    post = idata.posterior
    rows = {}
    for name, var in post.data_vars.items():
        extra = [d for d in var.dims if d not in ("chain", "draw")]
        if not extra:
            rows[name] = var.to_numpy()
        elif "|" in name:
            continue  # the group effects themselves (their sd's are the scalar *_sigma)
        else:
            for k, lab in enumerate(var[extra[0]].to_numpy()):
                rows[f"{name}[{lab}]"] = var.to_numpy()[..., k]
    first = next(iter(rows.values()))
    c, d = first.shape
    out = pd.DataFrame({"chain": np.repeat(np.arange(c), d), "draw": np.tile(np.arange(d), c)})
    for k, v in rows.items():
        out[k] = np.asarray(v).reshape(-1)
    out.to_csv(a.out + ".csv", index=False, float_format="%.17g")
    div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    json.dump({"tool": "bambi", "wall": wall, "import_s": IMPORT_S, "divergences": div,
               "version": bmb.__version__,
               "maxrss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024},
              open(a.out + ".json", "w"))


if __name__ == "__main__":
    main()
