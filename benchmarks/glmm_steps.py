"""Where the posterior's time goes on a large group-level model: leapfrog steps per iteration, time
per step, and the log density's value and gradient alone in each data layout.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/glmm_steps.py                     # n = 1e6, 1e5 levels (~6 min)
    .venv/bin/python benchmarks/glmm_steps.py --rows 1e5 --levels 1e4

The model and data are ``benchmarks/glmm.py``'s ``big`` problem (``y ~ x1 + x2 + (1 | g)``,
logistic, seed 20261201), scaled by ``--rows`` and ``--levels``. It reports

* a short run, ``fit(warmup=..., draws=..., chains=1)``: wall time, leapfrog steps per
  iteration (warmup and draws), the final step size and mean acceptance, seconds per step;
* the value and gradient of the sampler's log density at the start, timed alone (median of 5
  x 10 calls, until the result exists) in three layouts: float64 with the term's column of ones
  (the layout before 2026-12-01), float64 without it, and the sampler's own
  (``bayesglm.problem.for_sampler``: without it, float32 per row from
  ``bayesglm.sampling.FLOAT32_ROWS_MIN`` rows).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from glmm import simulate_big  # the same data as benchmarks/glmm.py's ``big`` problem


def gradient_times(model, fit) -> dict:
    """Milliseconds per value-and-gradient of the log density at the Laplace start, by layout."""
    import jax

    from bayesglm import problem as pb
    from bayesglm._x64 import float64
    from bayesglm.mixed_bayes import laplace_start, term_priors
    from bayesglm.sampling import FLOAT32_ROWS_MIN, compiled_model

    groups = list(model.groups)
    lays, weights, start = laplace_start(model, fit.mle, {"beta": len(model.names)})
    structure, arrays = term_priors(model, lays, weights)
    _, pot_gen = compiled_model(model.family, structure)
    point = {k: np.asarray(v, dtype=float) for k, v in start.values.items()}
    plain = pb.with_groups(pb.from_design(model.design, device=False), groups, device=False)
    with_ones = pb.for_sampler(plain)._replace(groups=plain.groups)
    layouts = {
        "float64, column of ones": with_ones,
        "float64": pb.for_sampler(plain),
        "sampler's": pb.for_sampler(plain, float32=model.design.nobs >= FLOAT32_ROWS_MIN
                                    and model.family.sampler_float32(model.design.trials)),
    }

    @float64
    def timed(data):
        data = jax.device_put(data)
        f = jax.jit(jax.value_and_grad(lambda p, d: pot_gen(data=d, priors=arrays)(p)))
        jax.block_until_ready(f(point, data))
        reps = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(10):
                out = f(point, data)
            jax.block_until_ready(out)
            reps.append((time.perf_counter() - t0) / 10 * 1e3)
        return float(np.median(reps))

    return {name: timed(data) for name, data in layouts.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=float, default=1e6)
    ap.add_argument("--levels", type=float, default=1e5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--draws", type=int, default=60)
    args = ap.parse_args()
    import warnings

    import bayesglm as bg

    n, L = int(args.rows), int(args.levels)
    df = simulate_big(n, L)
    df["g"] = df["g"].astype(str)
    model = bg.glm("y ~ x1 + x2 + (1 | g)", df, family="binomial")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.SamplingWarning)  # a short run: low ESS by design
        fit = model.fit(warmup=args.warmup, draws=args.draws, chains=1)
    wall = time.perf_counter() - t0
    run = fit.sampler_run
    steps = np.asarray(run.steps_all)[0]
    ss = fit.idata.sample_stats
    sampling_s = float(np.sum(run.chunk_seconds[1:]))  # the first chunk compiles
    later_steps = steps[run.chunk_length:].sum()
    print(f"n = {n:,}, {L:,} levels; fit(warmup={args.warmup}, draws={args.draws}, chains=1): "
          f"{wall:.1f} s, the classical fit and compilation included")
    print(f"leapfrog steps per iteration: warmup {steps[:args.warmup].mean():.1f}, "
          f"draws {steps[args.warmup:args.warmup + args.draws].mean():.1f}")
    print(f"final step size {float(ss.step_size.values[0, -1]):.4f}, "
          f"mean acceptance {float(ss.acceptance_rate.mean()):.3f}")
    print(f"ms per leapfrog step (chunks after the first): {1e3 * sampling_s / later_steps:.2f}")
    for name, ms in gradient_times(model, fit).items():
        print(f"value and gradient of the log density, {name}: {ms:.2f} ms")


if __name__ == "__main__":
    main()
