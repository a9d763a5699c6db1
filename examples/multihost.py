"""Maximum likelihood over several hosts: each JAX process holds its own rows.

Every process (one per host, each with its share of the rows) runs the same script with its own
``--process-id``::

    python examples/multihost.py --num-processes 2 --process-id 0 --coordinator host0:12355
    python examples/multihost.py --num-processes 2 --process-id 1 --coordinator host0:12355

Each calls ``jax.distributed.initialize`` and fits ``bg.ChunkedGLM(y_part, X_part,
family="poisson", across_processes=True)``: each IRLS pass sums its own rows' share of X'WX,
X'Wz and the deviance, the shares are added across the processes, and every process solves
the same p x p system, so all of them print the same estimates, those of the whole data set.

Run without ``--process-id``, the script starts ``--num-processes`` processes on this machine
(the coordinator on localhost; JAX's CPU collectives over gloo) and checks their estimates
against a one-process ``bg.GLM(...).fit_mle()`` of all the rows::

    python examples/multihost.py                    # 2 local processes
    python examples/multihost.py --num-processes 3

The data are simulated here (Poisson, n rows, a constant and 4 normal predictors, one fixed
seed): in real use each process would read its own files (``bg.ChunkedGLM.from_parquet``,
``.npy`` memmaps) with ``across_processes=True``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys

N, P, SEED = 100_003, 5, 20261204


def data():
    import numpy as np

    rng = np.random.default_rng(SEED)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, P - 1))])
    beta = np.array([0.3, -0.2, 0.1, 0.05, 0.25])
    exposure = rng.uniform(0.5, 2.0, N)
    return rng.poisson(exposure * np.exp(X @ beta)).astype(float), X, exposure


def part(num_processes: int, process_id: int):
    """This process's rows: a contiguous share, in process order."""
    y, X, exposure = data()
    bounds = [round(i * N / num_processes) for i in range(num_processes + 1)]
    rows = slice(bounds[process_id], bounds[process_id + 1])
    return y[rows], X[rows], exposure[rows]


def worker(args) -> dict:
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=args.coordinator,
                               num_processes=args.num_processes, process_id=args.process_id)
    import bayesglm as bg

    y, X, exposure = part(args.num_processes, args.process_id)
    model = bg.ChunkedGLM(y, X, family="poisson", exposure=exposure, across_processes=True,
                          names=["const", "x1", "x2", "x3", "x4"])
    mle = model.fit_mle(progress=False)
    return {"process": jax.process_index(), "processes": jax.process_count(),
            "local_rows": len(y), "nobs": mle.nobs, "n_iter": mle.n_iter,
            "params": mle.params.tolist(), "bse": mle.bse.tolist(), "deviance": mle.deviance,
            "llf": mle.llf, "null_deviance": mle.null_deviance}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(num_processes: int, timeout: float = 300.0) -> list[dict]:
    """Start the processes on this machine, return each one's result."""
    coordinator = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, BAYESGLM_HOST_DEVICES="1", JAX_PLATFORMS="cpu")
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--num-processes",
                               str(num_processes), "--process-id", str(i), "--coordinator",
                               coordinator], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
             for i in range(num_processes)]
    results = []
    for i, proc in enumerate(procs):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise RuntimeError(f"process {i} did not finish in {timeout:.0f} s")
        if proc.returncode != 0:
            for p in procs:
                p.kill()
            raise RuntimeError(f"process {i} failed (exit {proc.returncode}):\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-processes", type=int, default=2)
    ap.add_argument("--process-id", type=int)
    ap.add_argument("--coordinator", default="127.0.0.1:12355")
    args = ap.parse_args(argv)
    if args.process_id is not None:
        print(json.dumps(worker(args)))
        return
    import numpy as np

    import bayesglm as bg

    results = launch(args.num_processes)
    y, X, exposure = data()
    ref = bg.GLM(y, X, family="poisson", exposure=exposure).fit_mle()
    for r in results:
        diff = float(np.max(np.abs(np.subtract(r["params"], ref.params.to_numpy()))))
        print(f"process {r['process']} of {r['processes']}: {r['local_rows']} of {r['nobs']} "
              f"rows, {r['n_iter']} IRLS iterations, max |coef - one-process fit| {diff:.1e}")
    print("estimates:", ", ".join(f"{v:.6f}" for v in results[0]["params"]))


if __name__ == "__main__":
    main()
