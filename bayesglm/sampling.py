"""NUTS warm-started from the classical fit, and the posterior mode.

The sampler is NumPyro's NUTS kernel (``numpyro.infer.hmc.hmc``) driven by a loop of our own:

* every chain starts at the MLE (or the MAP), jittered by a draw from the normal approximation
  N(0, Sigma), so chains start apart and R-hat stays meaningful;
* the inverse mass matrix is Sigma, the covariance of that normal approximation (the inverse
  Fisher information): dense while the number of parameters is at most ``DENSE_MAX``, its
  diagonal beyond. It is held fixed and only the step size is adapted, so a short warmup is
  enough (PERFORMANCE-NOTES: re-adapting the mass matrix from a few hundred draws made it worse);
* iterations run in compiled chunks of ``chunk`` steps (``lax.scan``); between chunks a progress
  bar (tqdm.auto: terminal and notebook) advances. The data are arguments of the compiled chunk,
  so refitting a model of the same shape compiles nothing;
* chains run in parallel (``pmap``) when JAX has a device per chain (bayesglm asks for host
  devices at import), else one after another with the same compiled chunk.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
import jax.flatten_util
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc import hmc
from numpyro.infer.util import potential_energy

from .model import build_model

__all__ = ["NUTSConfig", "Draws", "run_nuts", "find_mode", "compiled_model", "DENSE_MAX"]

#: up to this many parameters the mass matrix is dense
DENSE_MAX = 250


class NUTSConfig(NamedTuple):
    draws: int = 1000
    warmup: int = 200
    chains: int = 4
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    progress: bool = True
    adapt_mass_matrix: bool = False
    chain_method: str = "auto"  # "parallel", "sequential" or "auto"


class Draws(NamedTuple):
    """Posterior draws, (chains, draws, ...) per site, and the sampler statistics."""

    samples: dict
    stats: dict
    chain_method: str


_MODELS: dict = {}


def compiled_model(family, structure, model_kwargs=None):
    """(model, potential_fn_gen) for a family and prior structure, built once per process.

    The potential (negative log joint on the unconstrained space: beta as is, the dispersion's
    log) is NumPyro's ``potential_energy`` of the model, traced only inside the compiled
    sampler (no eager model run, which costs dozens of tiny compilations). The same function
    objects are returned for the same key, so JAX's compilation caches (keyed on them) are
    reused across fits.
    """
    key = (family, structure)
    if key not in _MODELS:
        model = build_model(family, structure)

        def potential_fn_gen(*args, **kwargs):
            return partial(potential_energy, model, args, kwargs)

        _MODELS[key] = (model, potential_fn_gen)
    return _MODELS[key]


def _site_sizes(init: dict, site_order: list[str]) -> dict:
    return {name: int(np.size(init[name])) for name in site_order}


def _to_unconstrained(init: dict, site_order: list[str]) -> dict:
    """beta stays, the (positive) dispersion goes to its log (NumPyro's transform of positive)."""
    return {
        k: jnp.asarray(init[k], dtype=float) if k == "beta" else jnp.log(jnp.asarray(init[k], dtype=float))
        for k in site_order
    }


def _to_constrained(z: dict) -> dict:
    return {k: (v if k == "beta" else np.exp(v)) for k, v in z.items()}


def _permutation(sizes: dict, site_order: list[str]) -> np.ndarray:
    """Index map from site_order's flat layout to ravel_pytree's (sorted keys)."""
    offsets, pos = {}, 0
    for name in site_order:
        offsets[name] = np.arange(pos, pos + sizes[name])
        pos += sizes[name]
    return np.concatenate([offsets[name] for name in sorted(site_order)])


def _chunk_size(warmup: int, draws: int) -> int:
    g = math.gcd(warmup, draws) if warmup else draws
    best = max((d for d in range(1, min(g, 100) + 1) if g % d == 0), default=1)
    return best if best >= 10 else 50


_KERNELS: dict = {}


def _kernels(potential_fn_gen, settings):
    """(init, chunk, pmapped chunk) for one model and sampler settings, built once and reused.

    NumPyro's functional ``hmc`` keeps the warmup schedule and tree depth in its closure, set
    when ``init_kernel`` is first traced, so each settings tuple gets its own kernel pair.
    """
    key = (potential_fn_gen, settings)
    if key in _KERNELS:
        return _KERNELS[key]
    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")
    warmup, dense, target, depth, adapt_mass, length = settings

    @jax.jit
    def init(z, rng_key, inv_mass, model_kwargs):
        # With the posterior covariance as the mass matrix the optimal step size is about
        # d^(-1/4) (Beskos et al. 2013), a start dual averaging refines in a few iterations. (The
        # heuristic search would keep this trace's data in the kernel's closure: a tracer leak.)
        d = jax.flatten_util.ravel_pytree(z)[0].shape[0]
        return init_kernel(
            z,
            warmup,
            step_size=float(d) ** -0.25,
            inverse_mass_matrix=inv_mass,
            adapt_mass_matrix=adapt_mass,
            dense_mass=dense,
            target_accept_prob=target,
            max_tree_depth=depth,
            find_heuristic_step_size=False,
            model_kwargs=model_kwargs,
            rng_key=rng_key,
        )

    def chunk(state, model_kwargs):
        def body(s, _):
            s = sample_kernel(s, model_kwargs=model_kwargs)
            out = (s.z, s.diverging, s.num_steps, s.adapt_state.step_size, s.energy,
                   s.potential_energy, s.accept_prob)
            return s, out

        return lax.scan(body, state, None, length=length)

    _KERNELS[key] = (
        init,
        jax.pmap(init, in_axes=(0, 0, None, None)),
        jax.jit(chunk),
        jax.pmap(chunk, in_axes=(0, None)),
    )
    return _KERNELS[key]


def run_nuts(family, structure, model_kwargs: dict, init: dict, cov: np.ndarray,
             config: NUTSConfig, site_order: list[str]) -> Draws:
    """Sample the model by NUTS from ``init`` with inverse mass matrix ``cov``.

    ``init`` holds the constrained starting values by site; ``cov`` is the covariance of the
    unconstrained parameters in ``site_order`` (each site's entries contiguous): the
    coefficients, then the log of the dispersion.
    """
    _, pot_gen = compiled_model(family, structure, model_kwargs)
    z0 = _to_unconstrained(init, site_order)
    flat0, unravel = ravel_pytree(z0)
    d = flat0.shape[0]
    perm = _permutation(_site_sizes(init, site_order), site_order)
    cov = np.asarray(cov)[np.ix_(perm, perm)]
    dense = d <= DENSE_MAX
    inv_mass = jnp.asarray(cov if dense else np.diag(cov))

    # Host-side randomness for the set-up (eager jax.random calls would each compile): the
    # jitter from numpy's generator, one raw threefry key per chain, all from the seed.
    rng = np.random.default_rng(config.seed)
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(d) * np.max(np.diag(cov)))
    eps = rng.standard_normal((config.chains, d))
    starts = np.asarray(flat0)[None, :] + eps @ chol.T
    keys = jnp.asarray(rng.integers(0, 2**32, size=(config.chains, 2), dtype=np.uint32))
    total = config.warmup + config.draws
    length = _chunk_size(config.warmup, config.draws)
    n_chunks = -(-total // length)
    settings = (config.warmup, dense, float(config.target_accept), int(config.max_tree_depth),
                bool(config.adapt_mass_matrix), length)
    init_jit, init_pmap, chunk_jit, chunk_pmap = _kernels(pot_gen, settings)

    method = config.chain_method
    if method == "auto":
        method = "parallel" if jax.local_device_count() >= config.chains > 1 else "sequential"
    if method == "parallel" and jax.local_device_count() < config.chains:
        raise ValueError(
            f"chain_method='parallel' needs {config.chains} devices, JAX has "
            f"{jax.local_device_count()}; use 'sequential'"
        )

    bar = _progress(config.progress, total * (1 if method == "parallel" else config.chains),
                    f"NUTS ({config.chains} chains, {method})")
    if method == "parallel":
        # init and chunks both pmapped: the state stays sharded, one compilation each
        z_start = jax.vmap(unravel)(jnp.asarray(starts))
        state = init_pmap(z_start, keys, inv_mass, model_kwargs)
        outs = []
        for _ in range(n_chunks):
            state, out = chunk_pmap(state, model_kwargs)
            outs.append(jax.device_get(out))
            bar.update(length)
        chain_outs = [_concat([o[k] for o in outs], axis=1) for k in range(7)]
    else:
        per_chain = []
        for c in range(config.chains):
            state = init_jit(unravel(jnp.asarray(starts[c])), keys[c], inv_mass, model_kwargs)
            outs = []
            for _ in range(n_chunks):
                state, out = chunk_jit(state, model_kwargs)
                outs.append(jax.device_get(out))
                bar.update(length)
            per_chain.append([_concat([o[k] for o in outs], axis=0) for k in range(7)])
        chain_outs = [
            jax.tree_util.tree_map(lambda *xs: np.stack(xs), *[pc[k] for pc in per_chain])
            for k in range(7)
        ]
    bar.close()

    keep = slice(config.warmup, config.warmup + config.draws)
    z_draws, diverging, num_steps, step_size, energy, potential, accept = (
        jax.tree_util.tree_map(lambda x: x[:, keep], x) for x in chain_outs
    )
    samples = _to_constrained({k: np.asarray(v) for k, v in z_draws.items()})
    stats = {
        "diverging": diverging.astype(bool),
        "n_steps": num_steps.astype(np.int64),
        "tree_depth": np.ceil(np.log2(num_steps.astype(float) + 1)).astype(np.int64),
        "step_size": step_size,
        "energy": energy,
        "lp": -potential,
        "acceptance_rate": accept,
    }
    return Draws(samples, stats, method)


def _concat(parts, axis):
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=axis), *parts)


def _progress(enabled: bool, total: int, desc: str):
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit="it", leave=True)
        except ImportError:  # pragma: no cover - tqdm comes with numpyro
            pass

    class _Null:
        def update(self, n):
            pass

        def close(self):
            pass

    return _Null()


def find_mode(family, structure, model_kwargs: dict, init: dict, site_order: list[str],
              maxiter: int = 200):
    """Posterior mode in the unconstrained space by damped Newton, and the Hessian there.

    Returns ``(values, cov, converged)``: the mode on the constrained scale (a dict by site), the
    inverse Hessian of the negative log posterior in ``site_order`` (unconstrained: log of the
    dispersion), and whether the gradient vanished.
    """
    _, pot_gen = compiled_model(family, structure, model_kwargs)
    z0 = _to_unconstrained(init, site_order)
    z, hess, converged = _newton(pot_gen, z0, model_kwargs, maxiter)
    values = _to_constrained({k: np.asarray(v) for k, v in z.items()})
    perm = _permutation(_site_sizes(init, site_order), site_order)
    inv = np.argsort(perm)
    hess = np.asarray(hess)[np.ix_(inv, inv)]
    cov = np.linalg.inv(hess)
    return values, (cov + cov.T) / 2, bool(converged)


@partial(jax.jit, static_argnames=("pot_gen", "maxiter"))
def _newton(pot_gen, z0, model_kwargs, maxiter):
    pot = pot_gen(**model_kwargs)
    x0, unravel = ravel_pytree(z0)

    def f(x):
        return pot(unravel(x))

    grad, hess = jax.grad(f), jax.hessian(f)

    def step(c):
        x, _, k = c
        g, h = grad(x), hess(x)
        # Levenberg damping until the Hessian is positive definite
        lam = jnp.maximum(0.0, -jnp.min(jnp.linalg.eigvalsh(h)) * 1.1 + 1e-10)
        delta = jnp.linalg.solve(h + lam * jnp.eye(x.shape[0]), g)
        fx = f(x)

        def shrink(c2):
            t, _ = c2
            return t / 2, f(x - t / 2 * delta)

        t, _ = lax.while_loop(
            lambda c2: ~(c2[1] <= fx) & (c2[0] > 1e-10), shrink, (jnp.asarray(1.0), f(x - delta))
        )
        x_new = x - t * delta
        return x_new, jnp.max(jnp.abs(grad(x_new))), k + 1

    def cond(c):
        _, gmax, k = c
        return (gmax > 1e-9) & (k < maxiter)

    x, gmax, _ = lax.while_loop(cond, step, (x0, jnp.max(jnp.abs(grad(x0))), 0))
    return unravel(x), hess(x), gmax <= 1e-6
