"""NUTS warm-started from the classical fit, and the posterior mode.

The sampler is NumPyro's NUTS kernel (``numpyro.infer.hmc.hmc``) driven by a loop of our own:

* every chain starts at the MLE (or the MAP), jittered by a draw from the normal approximation
  N(0, Sigma), so chains start apart and R-hat stays meaningful;
* the inverse mass matrix is Sigma, the covariance of that normal approximation (the inverse
  Fisher information): dense while the number of parameters is at most ``DENSE_MAX``, its
  diagonal beyond. It is held fixed and only the step size is adapted, so a short warmup is
  enough (PERFORMANCE-NOTES: re-adapting the mass matrix from a few hundred draws made it worse);
* a mixed model's start has a structured covariance (:class:`BlockCovariance`: a dense block,
  small blocks for the group effects, and their coupling read from the log density's curvature);
  NUTS then runs on the coordinates u that whiten it, x = start + A u (:class:`LinearMap`);
* iterations run in compiled chunks of ``chunk`` steps (``lax.scan``); between chunks a progress
  bar (tqdm.auto: terminal and notebook) advances. The first chunk also initialises the chain,
  so a fit compiles one sampling program. The data are arguments of the compiled chunk, so
  refitting a model of the same shape compiles nothing;
* chains run in parallel (``shard_map`` over a mesh of devices, a chain on each) when JAX has a
  device per chain (bayesglm asks for host devices at import), else on one device with the same
  compiled chunk, each chain a chunk per round (so that ``NUTSConfig.ess`` can check all chains
  between rounds): as many chains at once as there are cores, in threads (XLA releases the GIL;
  a group-level model's gradient, gathers and segment sums, runs on one core), or one after
  another;
* what a run needs before its start is known (data, settings, the compiled program) is its
  :class:`Plan`; ``fit()`` compiles the plan for a start at the MLE in a background thread
  (:func:`compile_in_background`) while the MLE is being fitted;
* the gradient of the log density is the bulk of the work: the families' canonical-link
  likelihoods have their derivative written out, and the sampler computes ``X beta`` and
  ``X' g`` from a row-major copy of X' alone (:func:`bayesglm.problem.for_sampler`), about
  halving the time per leapfrog step of a logistic regression (benchmarks/nuts.py); from
  ``FLOAT32_ROWS_MIN`` rows a family that allows it (the logit kernel) is evaluated per row in
  float32 and summed in float64; a Gaussian identity-link model without group terms reads its
  rows' sufficient statistics instead (:class:`bayesglm.problem.Gram`, ``Family.sampler_gram``):
  a gradient in O(p^2), and one program for every n.

The pieces are pure functions of NamedTuples (:class:`Settings`, :class:`ChainStart`,
:class:`IterationOutput`); the compiled programs are kept in bounded caches keyed by the model
and the settings, so refits reuse them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import os
import threading
import time
from functools import lru_cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import jax.flatten_util
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc import hmc
from numpyro.infer.util import potential_energy

from ._cache import enable as enable_cache
from ._progress import progress_bar
from ._x64 import float64
from ._xla import jit
from .model import REAL_SITES, PriorArrays, build_model
from . import subsample as SS
from .problem import Problem, for_sampler
from .sharding import sampler_devices

__all__ = ["NUTSConfig", "Draws", "Plan", "BlockCovariance", "Layout", "LinearMap", "Ahead",
           "Settings", "ChainStart", "IterationOutput", "make_plan", "block_layout", "linear_map", "from_whitened", "compile_ahead", "compile_in_background", "run_nuts", "find_mode",
           "compiled_model", "DENSE_MAX", "CACHE_SIZE"]

#: up to this many parameters the mass matrix is dense
DENSE_MAX = 250
#: a model with group-level terms on more rows than this runs its chains on one device under
#: ``chain_method="auto"`` (in threads, :func:`chain_threads` at once): its gradient is gathers
#: and segment sums over the rows, which ran ~3x slower as four host devices on this machine's
#: 2 cores than one chain at a time (a random intercept, 1e5 rows, 1e4 levels: 276 s parallel,
#: 98 s sequential for 4 x 200 iterations, the same draws; 202 s and 71 s for the whole fit()
#: with the sampler's layout of 2026-12-01) and ~1.6x faster two at a time in threads than one
#: at a time (the whole fit(warmup=200, draws=200): 30-33 s against 48-49 s, 2026-12-02), while
#: at VerbAgg's 7,584 rows parallel chains were faster (38.6 s against 60.1 s sequential).
#: Plain GLMs keep parallel chains (logistic, n = 1e5, p = 20: 51-60 s parallel, 66 s sequential;
#: the default fit() 7.4-7.6 s parallel, 7.4-7.5 s in threads, 9.4-10.7 s sequential).
GROUPED_PARALLEL_ROWS_MAX = 30_000
#: from this many rows the sampler evaluates the per-row log density in float32 (summed in
#: float64) for the families that allow it (``Family.sampler_float32``: the logit kernel of 0/1
#: responses, the Poisson log kernel of small counts); the leapfrog positions, the priors and the accept step stay float64. The value
#: and gradient of a logistic model's log density at n = 1e6 with 1e5 group levels took 12.9 ms
#: in float64 and 11.2 ms so (``benchmarks/glmm_steps.py``); ``tests/unit/test_sampler_layout.py``
#: checks the density against float64's and the posterior within MCSE.
FLOAT32_ROWS_MIN = 100_000
#: a whitened run's dense block of the mass matrix: its first site (the second, "rest", is
#: diagonal)
WHITE_DENSE = ("dense",)
#: ``NUTSConfig.ess``: ESS is first checked once each chain has this many draws (fewer give
#: estimates too noisy to stop on; ArviZ's ESS needs a few autocorrelation lags per chain)
ESS_MIN_DRAWS = 100
#: ``NUTSConfig.ess``: chunks of at most this many iterations (the ESS is checked between
#: chunks): a logistic fit(ess=1000) at n = 1e6 reached the target between 300 and 400 draws
#: and, checked every 100, ran the 100 after it (~10 s there)
ESS_CHUNK_MAX = 50
#: a model of more than this many parameters warms up on trees of at most
#: ``WARMUP_TREE_DEPTH`` (NumPyro's (warmup, sampling) tree depths). Its trajectories need
#: ~pi / step leapfrog steps (the step falls as d^(-1/4)): at n = 1e6 with 1e5 group levels, 63
#: per iteration after warmup and 86 during it (small steps early on), while the step size's
#: adaptation needs only the acceptance along a trajectory, reached within about a quarter of its
#: period. Measured there (one chain, 150 warmup iterations, then 150 draws): see
#: benchmarks/README.md.
SHALLOW_WARMUP_DIM = 10_000
WARMUP_TREE_DEPTH = 5
#: compiled models and sampler programs kept per process (least recently used dropped)
CACHE_SIZE = 32


class NUTSConfig(NamedTuple):
    draws: int = 1000
    warmup: int = 200
    chains: int = 4
    seed: int = 0
    target_accept: float = 0.8
    max_tree_depth: int = 10
    progress: bool = True
    adapt_mass_matrix: bool = False
    chain_method: str = "auto"  # "parallel", "threads", "sequential" or "auto"
    #: stop sampling (``draws`` then a maximum per chain) once every checked parameter
    #: (:func:`ess_sites`) has bulk and tail ESS of at least this and R-hat of at most
    #: ``diagnostics.RHAT_MAX``, checked after each chunk from ``ESS_MIN_DRAWS`` draws per chain on
    ess: float | None = None
    #: the devices each chain's rows are split over (:func:`bayesglm.sharding.sampler_devices`:
    #: None is automatic, an int that many devices, or a list of devices)
    devices: object = None


class Draws(NamedTuple):
    """Posterior draws, (chains, draws, ...) per site, and the sampler statistics."""

    samples: dict
    stats: dict
    chain_method: str
    #: leapfrog steps of every iteration run, warmup included: (chains, iterations), the
    #: iterations warmup + draws rounded up to whole chunks (the last chunk's extra ones are run
    #: and dropped), or fewer where ``NUTSConfig.ess`` stopped the run
    steps_all: np.ndarray | None = None
    #: seconds of each compiled chunk (the first one of a chain also initialises it, and
    #: compiles it unless it was compiled ahead), round by round: all chains at once
    #: (parallel) or each chain's, in chain order (sequential; threads: those of a round ran
    #: at the same time, as many at once as :func:`chain_threads`)
    chunk_seconds: tuple = ()
    chunk_length: int = 0  # iterations per chunk


class IterationOutput(NamedTuple):
    """What each NUTS iteration of a compiled chunk returns (stacked over the chunk)."""

    z: dict
    diverging: object
    num_steps: object
    step_size: object
    energy: object
    potential_energy: object
    accept_prob: object
    #: a subsampled run's acceptance probability of the subsample's update (else None)
    subsample_accept: object = None


@lru_cache(maxsize=CACHE_SIZE)
def compiled_model(family, structure):
    """(model, potential_fn_gen) for a family and prior structure, built once per process.

    The potential (negative log joint on the unconstrained space: beta as is, the dispersion's
    log) is NumPyro's ``potential_energy`` of the model, traced only inside the compiled
    sampler (no eager model run, which costs dozens of tiny compilations). The same function
    objects are returned for the same key, so JAX's compilation caches (keyed on them) are
    reused across fits.
    """
    model = build_model(family, structure)

    def potential_fn_gen(*args, **kwargs):
        return partial(potential_energy, model, args, kwargs)

    return model, potential_fn_gen


def _site_sizes(init: dict, site_order: list[str]) -> dict:
    return {name: int(np.size(init[name])) for name in site_order}


def _to_unconstrained(init: dict, site_order: list[str]) -> dict:
    """The real sites (``model.REAL_SITES``: beta, theta, z) stay, the (positive) dispersion
    goes to its log (NumPyro's transform of positive).

    Host arrays: an eager JAX operation would compile a tiny program of its own.
    """
    return {
        k: np.asarray(init[k], dtype=float) if k in REAL_SITES
        else np.log(np.asarray(init[k], dtype=float))
        for k in site_order
    }


def _ravel(z: dict):
    """(flat vector, unravel) in ravel_pytree's layout (sites by sorted name), on the host."""
    names = sorted(z)
    shapes = [np.shape(z[k]) for k in names]
    flat = np.concatenate([np.ravel(z[k]) for k in names])
    bounds = np.cumsum([0] + [int(np.prod(sh)) for sh in shapes])

    def unravel(x):
        return {k: np.reshape(x[a:b], sh) for k, sh, a, b in zip(names, shapes, bounds, bounds[1:])}

    return flat, unravel


def _to_constrained(z: dict) -> dict:
    return {k: (v if k in REAL_SITES else np.exp(v)) for k, v in z.items()}


def _permutation(sizes: dict, site_order: list[str]) -> np.ndarray:
    """Index map from site_order's flat layout to ravel_pytree's (sorted keys)."""
    offsets, pos = {}, 0
    for name in site_order:
        offsets[name] = np.arange(pos, pos + sizes[name])
        pos += sizes[name]
    return np.concatenate([offsets[name] for name in sorted(site_order)])


def _chunk_size(warmup: int, draws: int, ess: float | None = None) -> int:
    """Iterations per compiled chunk: the largest divisor of warmup and draws up to 100 (up to
    :data:`ESS_CHUNK_MAX` where ``fit(ess=...)`` checks the draws after every chunk, so that
    it stops within that many draws of where the target was reached), else 50."""
    g = math.gcd(warmup, draws) if warmup else draws
    top = ESS_CHUNK_MAX if ess is not None else 100
    best = max((d for d in range(1, min(g, top) + 1) if g % d == 0), default=1)
    return best if best >= 10 else 50


class Settings(NamedTuple):
    """The static sampler settings a compiled program is specialised to (hashable: a cache key)."""

    warmup: int
    #: dense inverse mass matrix (else its diagonal), or, for a whitened run
    #: (:class:`BlockCovariance`), ``WHITE_DENSE``: dense over the whitened coordinates of the
    #: dense block, diagonal over the others' (NumPyro's ``dense_mass=[sites]``)
    dense: bool | tuple
    target_accept: float
    #: the NUTS tree's maximum depth, or (during warmup, after it): :data:`WARMUP_TREE_DEPTH`
    max_tree_depth: int | tuple
    adapt_mass: bool
    length: int  # iterations per compiled chunk
    #: energy-conserving subsampling (:mod:`bayesglm.subsample`): its subsample is updated in
    #: this many blocks (0: the sampler reads all rows)
    subsample_blocks: int = 0


@lru_cache(maxsize=CACHE_SIZE)
def _kernels(potential_fn_gen, settings: Settings):
    """(chunk, chunk over devices, init) for one model and sampler settings, built once.

    ``chunk over devices`` is a function of the number of chains giving (compiled function,
    sharding of its chain-stacked arguments).

    One compiled program per settings does everything: ``chunk(state, start, model_kwargs)``
    first initialises the chain when ``start.first`` is set (``lax.cond``; ``state`` is then a
    placeholder of the right structure, see :func:`_placeholder`), then runs ``length`` NUTS
    iterations. Initialising inside the sampling program rather than in a program of its own
    saves a compilation (~1 s of a first fit; the log density is traced once less).

    NumPyro's functional ``hmc`` keeps the warmup schedule and tree depth in its closure, set
    when ``init_kernel`` is first traced, so each settings tuple gets its own kernel pair.
    """
    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")
    blocks = settings.subsample_blocks

    def init(z, center, key_data, inv_mass, model_kwargs):
        rng_key = jax.random.wrap_key_data(key_data)  # the chain's key, from its raw bits
        if blocks:  # a subsampled run: the chain's first subsample, and its updates' key
            rng_key, key_index, key_gibbs = jax.random.split(rng_key, 3)
            index = SS.initial_index(key_index, model_kwargs["data"].subsample)
            model_kwargs = SS.with_index(model_kwargs, index)
        z = _finite_start(potential_fn_gen(**model_kwargs), z, center)
        # With the posterior covariance as the mass matrix the optimal step size is about
        # d^(-1/4) (Beskos et al. 2013), a start dual averaging refines in a few iterations. (The
        # heuristic search would keep this trace's data in the kernel's closure: a tracer leak.)
        d = jax.flatten_util.ravel_pytree(z)[0].shape[0]
        state = init_kernel(
            z,
            settings.warmup,
            step_size=float(d) ** -0.25,
            inverse_mass_matrix=inv_mass,
            adapt_mass_matrix=settings.adapt_mass,
            dense_mass=[settings.dense] if isinstance(settings.dense, tuple) else settings.dense,
            target_accept_prob=settings.target_accept,
            max_tree_depth=settings.max_tree_depth,
            find_heuristic_step_size=False,
            model_kwargs=model_kwargs,
            rng_key=rng_key,
        )
        return (state, SS.GibbsState(index, key_gibbs)) if blocks else state

    # jitted so that its trace for the placeholder's shapes is reused inside ``chunk``
    enable_cache()  # JAX's persistent compilation cache (bayesglm._cache), once
    init = jax.jit(init)

    def chunk(state, start: ChainStart, model_kwargs):
        state = lax.cond(
            start.first,
            lambda: init(start.z, start.center, start.rng_key, start.inv_mass, model_kwargs),
            lambda: state)

        def body(carry, _):
            if blocks:  # the subsample's Metropolis update, then NUTS given it
                s, gibbs = carry
                pe, grad, gibbs, u_accept = SS.gibbs_step(
                    potential_fn_gen, model_kwargs, s.z, s.potential_energy, s.z_grad, gibbs,
                    blocks)
                s = sample_kernel(s._replace(potential_energy=pe, z_grad=grad),
                                  model_kwargs=SS.with_index(model_kwargs, gibbs.index))
                carry = (s, gibbs)
            else:
                s = carry = sample_kernel(carry, model_kwargs=model_kwargs)
                u_accept = None
            out = IterationOutput(s.z, s.diverging, s.num_steps, s.adapt_state.step_size,
                                  s.energy, s.potential_energy, s.accept_prob, u_accept)
            return carry, out

        state, outs = lax.scan(body, state, None, length=settings.length)
        # strongly typed like the placeholder, so the next chunk's call reuses this compilation
        return jax.tree_util.tree_map(_strongly_typed, state), outs

    def sharded(chains):
        """``chunk`` over ``chains`` devices, a chain on each (jit of shard_map)."""
        mesh = Mesh(np.array(jax.local_devices()[:chains]), ("chain",))

        def per_device(state, start, model_kwargs):
            one = partial(jax.tree_util.tree_map, lambda x: x[0])  # this device's chain
            start = ChainStart(start.first, one(start.z), start.center, one(start.rng_key),
                               start.inv_mass)
            out = chunk(one(state), start, model_kwargs)
            return jax.tree_util.tree_map(lambda x: x[None], out)

        spec = P("chain")
        fn = jit(jax.shard_map(
            per_device, mesh=mesh, in_specs=(spec, ChainStart(P(), spec, P(), spec, P()), P()),
            out_specs=spec, check_vma=False,
        ))
        return fn, NamedSharding(mesh, spec)

    return jit(chunk), functools.cache(sharded), init


def _is_key(x) -> bool:
    return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _strongly_typed(x):
    return x if _is_key(x) else lax.convert_element_type(x, x.dtype)


class ChainStart(NamedTuple):
    """What the first chunk initialises a chain from (later chunks carry ``first=False``)."""

    first: object
    z: object  # the jittered start (unconstrained)
    center: object  # the point it was jittered from (MLE or MAP): shrunk towards if not finite
    rng_key: object  # raw key data (uint32, JAX's threefry layout), made a key in ``init``
    inv_mass: object


def _finite_start(potential, z, center, max_halvings: int = 60):
    """``z`` moved halfway back to ``center`` until the log density there is finite.

    A jittered start can leave the support of the likelihood (an inverse link's domain, say
    eta <= 0 for the inverse Gaussian's canonical link): NUTS would never move from there.
    """
    def bad(c):
        zz, k = c
        return (~jnp.isfinite(potential(zz))) & (k < max_halvings)

    def halve(c):
        zz, k = c
        return jax.tree_util.tree_map(lambda a, b: b + (a - b) / 2, zz, center), k + 1

    return lax.while_loop(bad, halve, (z, 0))[0]


def _placeholder(init, z, rng_key, inv_mass, model_kwargs, chains=None):
    """Zeros shaped like the sampler state (host arrays: nothing compiles), for the first chunk;
    its PRNG key is the all-zero key (``jax.random.wrap_key_data``, which only relabels bits)."""
    shapes = jax.eval_shape(init, z, z, rng_key, inv_mass, model_kwargs)
    lead = () if chains is None else (chains,)

    def zeros(a):
        if _is_key(a):
            raw = jax.eval_shape(jax.random.key_data, a)
            return jax.random.wrap_key_data(np.zeros(lead + raw.shape, raw.dtype))
        return np.zeros(lead + a.shape, a.dtype)

    return jax.tree_util.tree_map(zeros, shapes)


@functools.cache
def _tracing_lock() -> threading.RLock:
    """NumPyro's effect handlers keep a process-wide stack, so two threads must not trace
    NumPyro models at once (the sampler may be compiled ahead in a thread while the main thread
    works). Made at the first fit: a process that never fits holds no lock and no thread."""
    return threading.RLock()


class Plan(NamedTuple):
    """Everything about a NUTS run that is fixed before its starting point is known."""

    pot_gen: object
    settings: Settings
    method: str  # "parallel", "threads" or "sequential"
    chains: int
    sizes: tuple  # ((site, size), ...), in site order
    data: Problem  # the rows as device arrays, in the sampler's layout (X' for the gradient)
    priors: PriorArrays
    #: a whitened run's :class:`Layout` (the start's covariance a :class:`BlockCovariance`)
    layout: object = None

    @property
    def dim(self) -> int:
        return sum(size for _, size in self.sizes)

    @property
    def model_kwargs(self) -> dict:
        """The model's arguments, as NumPyro's kernels pass them on."""
        return {"data": self.data, "priors": self.priors}

    def same_run(self, other) -> bool:
        """Whether ``other`` plans the same program on the same data (the same device arrays)."""
        return other is not None and other.data is self.data and (
            (self.pot_gen, self.settings, self.method, self.chains, self.sizes, self.layout)
            == (other.pot_gen, other.settings, other.method, other.chains, other.sizes,
                other.layout)
        )


def chain_threads(chains: int) -> int:
    """How many chains ``chain_method="threads"`` runs at once: one per core this process may
    use, at most ``chains``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(chains, cores))


def auto_chain_method(data: Problem, chains: int) -> str:
    """``chain_method="auto"``: parallel when JAX has a device per chain, except for a model with
    group-level terms on more than :data:`GROUPED_PARALLEL_ROWS_MAX` rows; otherwise threads
    where there is more than one core (and chain), else sequential."""
    parallel = jax.local_device_count() >= chains > 1
    if data.groups and data.nobs > GROUPED_PARALLEL_ROWS_MAX:
        parallel = False
    if parallel:
        return "parallel"
    return "threads" if chain_threads(chains) > 1 else "sequential"


def _tree_depth(depth: int, d: int):
    """The tree depth a plan runs with: capped at :data:`WARMUP_TREE_DEPTH` during the warmup
    of a model of more than :data:`SHALLOW_WARMUP_DIM` parameters."""
    if d > SHALLOW_WARMUP_DIM and depth > WARMUP_TREE_DEPTH:
        return (WARMUP_TREE_DEPTH, depth)
    return depth


def make_plan(family, structure, data: Problem, priors: PriorArrays, sizes: dict,
              config: NUTSConfig, block: BlockCovariance | None = None) -> Plan:
    """The plan of a run of ``config`` for parameters of ``sizes`` (site -> size, in site order).

    ``data`` in any layout (it is put in the sampler's, :func:`bayesglm.problem.for_sampler`).
    ``block``: the start's covariance is this :class:`BlockCovariance` (its shapes are what
    the plan needs), and the sampler runs in the coordinates it whitens; else the mass matrix
    is dense while there are at most ``DENSE_MAX`` parameters, diagonal beyond.
    """
    _, pot_gen = compiled_model(family, structure)
    subsampled = data.subsample is not None
    float32 = not subsampled and data.nobs >= FLOAT32_ROWS_MIN and family.sampler_float32(
        None if data.trials is None else np.asarray(data.trials),
        None if data.y is None else np.asarray(data.y))
    gram = (not subsampled and family.sampler_gram() and not structure.terms
            and data.aux is None and data.nobs > structure.n_coef)
    rows = None
    if not (subsampled or gram or structure.terms or data.aux is not None or data.gram is not None):
        rows = sampler_devices(data.nobs, int(config.chains), config.devices)
    elif config.devices is not None and (structure.terms or data.aux is not None):
        raise ValueError("devices: the sampler splits the rows over devices for GLMs without "
                         "group-level terms; leave devices=None")
    data = for_sampler(data, float32=float32, gram=gram, devices=rows)
    d = sum(sizes.values())
    dense = WHITE_DENSE if block is not None else d <= DENSE_MAX
    settings = Settings(int(config.warmup), dense, float(config.target_accept),
                        _tree_depth(int(config.max_tree_depth), d), bool(config.adapt_mass_matrix),
                        _chunk_size(config.warmup, config.draws, config.ess),
                        SS.BLOCKS if subsampled else 0)
    method = config.chain_method
    if rows is not None and method == "parallel":
        raise ValueError(f"chain_method='parallel' puts each chain on a device of its own, while "
                         f"devices= splits every chain's rows over {len(rows)} devices; use "
                         "'threads' or 'sequential'")
    if method == "auto":
        method = auto_chain_method(data, int(config.chains)) if rows is None else (
            "threads" if chain_threads(int(config.chains)) > 1 else "sequential")
    if method == "parallel" and jax.local_device_count() < config.chains:
        raise ValueError(
            f"chain_method='parallel' needs {config.chains} devices, JAX has "
            f"{jax.local_device_count()}; use 'threads' or 'sequential'"
        )
    layout = None if block is None else block_layout(block, sizes)
    return Plan(pot_gen, settings, method, int(config.chains), tuple(sizes.items()), data,
                priors, layout)


def _program(plan: Plan):
    """(compiled chunk, sharding of chain-stacked arguments or None, init) of a plan."""
    pot_gen = plan.pot_gen if plan.layout is None else _whitened(plan.pot_gen, plan.layout)
    chunk_jit, chunk_par, init_fn = _kernels(pot_gen, plan.settings)
    if plan.method == "parallel":
        return (*chunk_par(plan.chains), init_fn)
    return chunk_jit, None, init_fn


def _first_args(plan: Plan, kw: dict, z_starts: list, center: dict, keys: np.ndarray,
                inv_mass: np.ndarray, chain=None):
    """(placeholder state, ChainStart) of a first chunk: of all chains (parallel) or of ``chain``.

    Used for the real first call and for compiling ahead, so that both have the same types.
    ``kw``: the sampler's data (:func:`_sampler_kwargs`).
    """
    _, sharding, init_fn = _program(plan)
    if plan.method == "parallel":
        z = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *z_starts)
        state = _placeholder(init_fn, z_starts[0], keys[0], inv_mass, kw, plan.chains)
        return jax.device_put(state, sharding), ChainStart(np.bool_(True), z, center, keys, inv_mass)
    state = _placeholder(init_fn, z_starts[chain], keys[chain], inv_mass, kw)
    return state, ChainStart(np.bool_(True), z_starts[chain], center, keys[chain], inv_mass)


def _sampler_kwargs(plan: Plan, sharding, linear=None) -> dict:
    """The model's arguments as the compiled sampler takes them (a whitened run's
    :class:`LinearMap` too), put on every device once (parallel chains)."""
    kw = plan.model_kwargs if plan.layout is None else {**plan.model_kwargs, "linear": linear}
    if sharding is not None:
        kw = jax.device_put(kw, NamedSharding(sharding.mesh, P()))
    return kw


def _inverse_mass_placeholder(plan: Plan):
    """Zeros shaped as the inverse mass matrix the plan's program takes."""
    d = plan.dim
    if plan.layout is not None:
        k = plan.layout.k
        return {WHITE_DENSE: np.zeros((k, k)), ("rest",): np.zeros(d - k)}
    return np.zeros((d, d) if plan.settings.dense else (d,))


class BlockCovariance(NamedTuple):
    """A start's covariance: dense over some sites, block diagonal over the others given them.

    ``dense`` is the covariance of the dense block's sites; ``blocks`` gives, for every other
    site, the covariance of its entries given the dense block, as small blocks along them (a
    mixed model's z: each level's q x q block, term after term). How the others depend on the
    dense block (their conditional mean's slope, -V H_{other, dense}) is read from the log
    density's curvature at the start (:func:`_coupling`), so that the sampler whitens by the
    joint normal approximation: x = start + A u with A A' that covariance, NUTS on u with a
    unit (diagonal, adaptable) mass matrix. This is NUTS on x with the inverse mass matrix
    A A' (HMC is affine invariant), which NumPyro's dense/diagonal mass matrices cannot hold
    at 1e5 group effects: the fixed effects and the sd's are coupled to all of them.
    """

    sites: tuple  # the dense block's sites, in this order
    dense: np.ndarray  # their covariance
    blocks: dict  # every other site -> tuple of (groups, q, q) arrays, covering it in order


class Layout(NamedTuple):
    """The static shape of a whitened run (hashable): the dense block's sites with their
    shapes, then each other site with its blocks' (groups, q)."""

    dense: tuple  # ((site, shape), ...)
    rest: tuple  # ((site, ((groups, q), ...)), ...)

    @property
    def k(self) -> int:
        return sum(math.prod(shape) for _, shape in self.dense)

    @property
    def block_shapes(self) -> tuple:
        return tuple(gq for _, blocks in self.rest for gq in blocks)


class LinearMap(NamedTuple):
    """x = center + A u, A = [[chol, 0], [coupling' chol, blockdiag(factors)]] (arrays only:
    an argument of the compiled sampler)."""

    center_dense: object  # (k,) the start, unconstrained: the dense block's sites
    center_rest: object  # (m,) the others
    chol: object  # (k, k): chol chol' = the dense block's covariance
    #: (k, m): the others' conditional mean's slope on the dense block, a row per dense
    #: coordinate (``du @ coupling``: rows of m contiguous numbers, which the CPU streams; the
    #: (m, k) layout's product cost ~5 ms per gradient at m = 1e5)
    coupling: object
    factors: tuple  # (groups, q, q) per block: F F' = the block's conditional covariance


def block_layout(cov: BlockCovariance, sizes: dict) -> Layout:
    dense = tuple((name, (sizes[name],) if name in REAL_SITES else ()) for name in cov.sites)
    rest = []
    for name in sizes:
        if name in cov.sites:
            continue
        blocks = tuple((int(b.shape[0]), int(b.shape[1])) for b in cov.blocks[name])
        if sum(g * q for g, q in blocks) != sizes[name]:
            raise ValueError(f"the blocks of {name!r} cover {sum(g * q for g, q in blocks)} "
                             f"entries, the site has {sizes[name]}")
        rest.append((name, blocks))
    return Layout(dense, tuple(rest))


def from_whitened(u: dict, lin: LinearMap, layout: Layout, xp=jnp) -> dict:
    """The sites (unconstrained) at whitened coordinates ``u`` ({"dense": (..., k), "rest":
    (..., m)}): jnp inside the sampler, numpy for the draws."""
    ur = u["rest"]
    lead = ur.shape[:-1]
    du = u["dense"] @ lin.chol.T
    parts, pos = [], 0
    for F, (g, q) in zip(lin.factors, layout.block_shapes):
        seg = ur[..., pos:pos + g * q].reshape(lead + (g, q))
        # F @ seg per group, as q elementwise products (a batched dot of 1e5 1 x 1 blocks
        # is slow on the CPU)
        part = sum(F[:, :, j] * seg[..., j, None] for j in range(q))
        parts.append(part.reshape(lead + (g * q,)))
        pos += g * q
    noise = parts[0] if len(parts) == 1 else xp.concatenate(parts, axis=-1)
    rest = lin.center_rest + du @ lin.coupling + noise
    dense = lin.center_dense + du
    out, pos = {}, 0
    for name, shape in layout.dense:
        size = math.prod(shape)
        out[name] = dense[..., pos:pos + size].reshape(lead + shape)
        pos += size
    pos = 0
    for name, blocks in layout.rest:
        size = sum(g * q for g, q in blocks)
        out[name] = rest[..., pos:pos + size] if len(layout.rest) > 1 else rest
        pos += size
    return out


@lru_cache(maxsize=CACHE_SIZE)
def _whitened(pot_gen, layout: Layout):
    """The potential of the whitened coordinates (``{"dense": ..., "rest": ...}``), from the
    model's."""
    def gen(*, data, priors, linear):
        pot = pot_gen(data=data, priors=priors)
        return lambda u: pot(from_whitened(u, linear, layout))

    return gen


def _block_factor(V: np.ndarray) -> np.ndarray:
    """F with F F' = V for each (q, q) block of V (groups, q, q): the symmetric square root,
    which a block that is only semi-definite by rounding does not break."""
    w, Q = np.linalg.eigh((V + np.swapaxes(V, 1, 2)) / 2)
    return (Q * np.sqrt(np.clip(w, 0.0, None))[:, None, :]) @ np.swapaxes(Q, 1, 2)


@jit(static_argnames=("pot_gen",))
def _curvature_columns(pot_gen, z, tangents, model_kwargs):
    """H t for each tangent (a leading axis): Hessian-vector products of the potential at z."""
    grad = jax.grad(pot_gen(**model_kwargs))

    def hvp(t):  # reverse over reverse: the sampler's X' product has a custom VJP, no JVP
        return jax.grad(lambda x: sum(jnp.vdot(a, b) for a, b in zip(
            jax.tree_util.tree_leaves(grad(x)), jax.tree_util.tree_leaves(t))))(z)

    return jax.vmap(hvp)(tangents)


def _coupling(plan: Plan, z0: dict, cov: BlockCovariance) -> np.ndarray:
    """(k, m): the conditional mean's slope of the other sites on the dense block, -V H_od,
    with H_od the potential's curvature at the start between them (k Hessian-vector products)
    and V each block's conditional covariance."""
    layout = plan.layout
    k = layout.k
    tangents = {name: np.zeros((k,) + np.shape(v)) for name, v in z0.items()}
    j = 0
    for name, shape in layout.dense:
        for i in range(math.prod(shape)):
            tangents[name].reshape(k, -1)[j, i] = 1.0
            j += 1
    with _tracing_lock():
        cols = jax.device_get(_curvature_columns(plan.pot_gen, z0, tangents, plan.model_kwargs))
    H = np.concatenate([np.asarray(cols[name]).reshape(k, -1) for name, _ in layout.rest],
                       axis=1).T  # (m, k)
    out, pos = [], 0
    for V, (g, q) in zip((b for name, _ in layout.rest for b in cov.blocks[name]),
                         layout.block_shapes):
        Hb = H[pos:pos + g * q].reshape(g, q, k)
        out.append(-np.einsum("gij,gjk->gik", V, Hb).reshape(g * q, k))
        pos += g * q
    return np.ascontiguousarray(np.concatenate(out, axis=0).T)


def linear_map(plan: Plan, init: dict, cov: BlockCovariance, site_order: list[str]) -> LinearMap:
    """The whitening of a run from ``init`` (constrained values by site) with covariance
    ``cov``."""
    z0 = {k: np.asarray(v) for k, v in _to_unconstrained(init, site_order).items()}

    def center(part):
        return np.concatenate([np.ravel(z0[name]) for name, _ in part])

    factors = tuple(_block_factor(np.asarray(b, dtype=float))
                    for name, _ in plan.layout.rest for b in cov.blocks[name])
    return LinearMap(center(plan.layout.dense), center(plan.layout.rest),
                     jitter_factor(cov.dense), _coupling(plan, z0, cov), factors)


def _linear_placeholder(plan: Plan) -> LinearMap:
    layout = plan.layout
    k = layout.k
    m = plan.dim - k
    return LinearMap(np.zeros(k), np.zeros(m), np.zeros((k, k)), np.zeros((k, m)),
                     tuple(np.zeros((g, q, q)) for g, q in layout.block_shapes))


@float64  # runs in a thread of its own: JAX's x64 setting is per thread
def compile_ahead(plan: Plan) -> None:
    """Compile ``plan``'s sampling program now, as its first call will need it (blocking)."""
    fn, sharding, _ = _program(plan)
    if plan.layout is None:
        z = {name: np.zeros((size,) if name in REAL_SITES else ()) for name, size in plan.sizes}
    else:
        z = {"dense": np.zeros(plan.layout.k), "rest": np.zeros(plan.dim - plan.layout.k)}
    z_starts = [z] * plan.chains
    keys = np.zeros((plan.chains, 2), np.uint32)
    with _tracing_lock():
        kw = _sampler_kwargs(plan, sharding,
                             None if plan.layout is None else _linear_placeholder(plan))
        state, start = _first_args(plan, kw, z_starts, z, keys, _inverse_mass_placeholder(plan),
                                   0)
        lowered = fn.lower(state, start, kw)
    lowered.compile()  # XLA releases the GIL: the caller's thread goes on meanwhile


@functools.cache
def _compiler() -> concurrent.futures.ThreadPoolExecutor:
    """The one background thread that compiles ahead, started at the first fit."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bayesglm")


class Ahead(NamedTuple):
    """A plan being compiled in a background thread."""

    plan: Plan
    future: concurrent.futures.Future


def compile_in_background(plan: Plan) -> Ahead:
    """Start compiling ``plan``'s program in a thread (the MLE is fitted meanwhile).

    On 2 cores this measured ~0.7 s off a first fit: XLA's compilation of the sampler and the
    tracing and compilation of the IRLS use the cores in turns.
    """
    return Ahead(plan, _compiler().submit(compile_ahead, plan))


def run_nuts(plan: Plan, init: dict, cov: np.ndarray, config: NUTSConfig,
             site_order: list[str], ahead: Ahead | None = None) -> Draws:
    """Sample by NUTS, as planned, from ``init`` with inverse mass matrix ``cov``.

    ``init`` holds the constrained starting values by site; ``cov`` is the covariance of the
    unconstrained parameters in ``site_order`` (each site's entries contiguous): the
    coefficients, then the log of the dispersion (then the group terms' ``theta`` and ``z``);
    a vector is a diagonal covariance (models with too many parameters for a dense one). ``ahead``: the same plan compiled ahead
    (waited for here); another plan's compilation is left to finish on its own.
    """
    if ahead is not None and plan.same_run(ahead.plan):
        plan = ahead.plan
        try:
            ahead.future.result()
        except Exception:  # noqa: BLE001 - an optimisation only: the first call compiles instead
            pass
    flat0, unravel = _ravel(_to_unconstrained(init, site_order))
    d = flat0.shape[0]
    perm = _permutation(_site_sizes(init, site_order), site_order)
    linear, to_sites = None, lambda out: out  # noqa: E731
    if isinstance(cov, BlockCovariance):
        if plan.layout is None:
            raise ValueError("a BlockCovariance start needs a plan made with it (make_plan(block=))")
        # the sampler's coordinates u whiten the start's covariance: x = start + A u
        linear = linear_map(plan, init, cov, site_order)
        k = plan.layout.k
        flat0 = np.zeros(d)
        unravel = lambda x: {"dense": x[:k], "rest": x[k:]}  # noqa: E731
        inv_mass = {WHITE_DENSE: np.eye(k), ("rest",): np.ones(d - k)}
        jitter = lambda eps: eps  # noqa: E731

        def to_sites(out):
            return out._replace(z=from_whitened(
                {key: np.asarray(v) for key, v in out.z.items()}, linear, plan.layout, np))
    elif np.ndim(cov) == 1:  # a diagonal covariance, given as its diagonal (many parameters)
        cov = np.asarray(cov)[perm]
        inv_mass = cov if not plan.settings.dense else np.diag(cov)
        sd = np.sqrt(np.clip(cov, 0.0, None))
        jitter = lambda eps: eps * sd[None, :]  # noqa: E731
    else:
        cov = np.asarray(cov)[np.ix_(perm, perm)]
        inv_mass = cov if plan.settings.dense else np.diag(cov)
        chol = jitter_factor(cov)
        jitter = lambda eps: eps @ chol.T  # noqa: E731

    # Host-side randomness for the set-up (eager jax.random calls would each compile): the
    # jitter from numpy's generator, one threefry key's raw bits per chain (made a JAX key inside
    # the compiled program), all from the seed.
    rng = np.random.default_rng(config.seed)
    eps = rng.standard_normal((config.chains, d))
    starts = np.asarray(flat0)[None, :] + jitter(eps)
    keys = rng.integers(0, 2**32, size=(config.chains, 2), dtype=np.uint32)
    total = config.warmup + config.draws
    length = plan.settings.length
    n_chunks = -(-total // length)
    fn, sharding, _ = _program(plan)
    kw = _sampler_kwargs(plan, sharding, linear)
    method = plan.method

    bar = progress_bar(config.progress, total * (1 if method == "parallel" else config.chains),
                    f"NUTS ({config.chains} chains, {method})")
    z_starts = [unravel(starts[c]) for c in range(config.chains)]

    # one runner for all chains (parallel: the state stays sharded) or one per chain, each
    # advanced a chunk per round (chain after chain, or several at once in threads), so that the
    # draws of all chains can be checked between rounds (``config.ess``)
    runners = [None] if method == "parallel" else list(range(config.chains))
    states, later, outs = {}, {}, {r: [] for r in runners}

    @float64  # a thread of its own: JAX's x64 setting is per thread
    def advance(r, first: bool) -> float:
        """Run runner ``r``'s next chunk; its seconds until the outputs are on the host."""
        t = time.perf_counter()
        if first:
            with _tracing_lock():  # the first call may trace (a plan not compiled ahead)
                state, start = _first_args(plan, kw, z_starts, unravel(flat0), keys,
                                           inv_mass, r)
                states[r], out = fn(state, start, kw)
            later[r] = start._replace(first=np.bool_(False))
        else:
            states[r], out = fn(states[r], later[r], kw)
        outs[r].append(to_sites(jax.device_get(out)))
        return time.perf_counter() - t

    workers = chain_threads(len(runners)) if method == "threads" else 1
    pool = (concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="bayesglm-chain")
            if workers > 1 else None)
    chunk_seconds = []  # each compiled chunk's call until its outputs are on the host
    checked = ess_sites(plan, isinstance(cov, BlockCovariance))
    draws = config.draws
    try:
        for i in range(n_chunks):
            # a round: chain after chain, or in the pool (results in chain order)
            for seconds in (map if pool is None else pool.map)(
                    partial(advance, first=i == 0), runners):
                chunk_seconds.append(seconds)
                bar.update(length)
            kept = (i + 1) * length - config.warmup
            if config.ess is not None and ESS_MIN_DRAWS <= kept < draws and _reached(
                    outs, runners, config.warmup, checked, config.ess):
                draws = kept
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
    per_runner = [_concat(outs[r], axis=0 if r is not None else 1) for r in runners]
    out = per_runner[0] if method == "parallel" else jax.tree_util.tree_map(
        lambda *xs: np.stack(xs), *per_runner)

    steps_all = np.asarray(out.num_steps).astype(np.int64)  # every iteration run
    keep = slice(config.warmup, config.warmup + draws)
    out = jax.tree_util.tree_map(lambda x: np.asarray(x)[:, keep], out)
    samples = _to_constrained({k: np.asarray(v) for k, v in out.z.items()})
    stats = {
        "diverging": out.diverging.astype(bool),
        "n_steps": out.num_steps.astype(np.int64),
        "tree_depth": np.ceil(np.log2(out.num_steps.astype(float) + 1)).astype(np.int64),
        "step_size": out.step_size,
        "energy": out.energy,
        "lp": -out.potential_energy,
        "acceptance_rate": out.accept_prob,
    }
    if out.subsample_accept is not None:
        stats["subsample_acceptance"] = out.subsample_accept
    return Draws(samples, stats, method, steps_all, tuple(chunk_seconds), length)


def ess_sites(plan: Plan, whitened: bool) -> tuple:
    """The sites whose draws ``NUTSConfig.ess`` is checked on: every site of a plain model; a
    whitened one's dense block (a mixed model's fixed effects, dispersion and covariance
    parameters: the rows of its summary, not the group effects)."""
    if whitened:
        return tuple(name for name, _ in plan.layout.dense)
    return tuple(name for name, _ in plan.sizes)


def _reached(outs: dict, runners: list, warmup: int, sites: tuple, target: float) -> bool:
    """Whether every scalar of ``sites`` has bulk and tail ESS of at least ``target``, and
    (with 2 or more chains) rank-normalised R-hat of at most ``RHAT_MAX``, in the draws kept so
    far (ArviZ's, :mod:`bayesglm.diagnostics`; monotone transforms leave all three unchanged,
    so the unconstrained draws serve)."""
    from .diagnostics import RHAT_MAX, ess_bulk, ess_tail, rhat

    cols = []
    for name in sites:
        per = [np.concatenate([np.asarray(o.z[name]) for o in outs[r]],
                              axis=0 if r is not None else 1) for r in runners]
        x = per[0] if runners == [None] else np.stack(per)  # (chains, iterations, ...)
        x = x[:, warmup:]
        cols.append(x.reshape(x.shape[0], x.shape[1], -1))
    x = np.concatenate(cols, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = min(np.nanmin(ess_bulk(x)), np.nanmin(ess_tail(x)))
        agree = x.shape[0] < 2 or bool(np.nanmax(rhat(x)) <= RHAT_MAX)
    return bool(low >= target) and agree


def jitter_factor(cov: np.ndarray) -> np.ndarray:
    """A lower-triangular L with L L' = ``cov`` (regularised in each parameter's own scale).

    The chains' starts are the centre plus L times a standard normal draw. The covariance is
    scaled to a correlation matrix first, so the regularisation (a relative 1e-10 on the
    diagonal, for a near-singular covariance) never mixes the scales of parameters that are
    orders of magnitude apart, e.g. a coefficient of sd 1e10 and a log-dispersion of sd 0.01.
    """
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sd = np.where(sd > 0, sd, 1.0)
    corr = cov / np.outer(sd, sd)
    corr = (corr + corr.T) / 2
    ridge = 10 * np.finfo(float).eps * len(sd)
    for _ in range(20):
        try:
            chol = np.linalg.cholesky(corr + ridge * np.eye(len(sd)))
            break
        except np.linalg.LinAlgError:
            ridge *= 10
    else:  # not even a covariance: jitter each parameter on its own
        chol = np.eye(len(sd))
    return sd[:, None] * chol


def _concat(parts, axis):
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=axis), *parts)


def find_mode(family, structure, data: Problem, priors: PriorArrays, init: dict,
              site_order: list[str], maxiter: int = 200):
    """Posterior mode in the unconstrained space by damped Newton, and the Hessian there.

    Returns ``(values, cov, converged)``: the mode on the constrained scale (a dict by site), the
    inverse Hessian of the negative log posterior in ``site_order`` (unconstrained: log of the
    dispersion), and whether the gradient vanished.
    """
    _, pot_gen = compiled_model(family, structure)
    z0 = _to_unconstrained(init, site_order)
    with _tracing_lock():
        z, hess, converged = _newton(pot_gen, z0, {"data": data, "priors": priors}, maxiter)
    values = _to_constrained({k: np.asarray(v) for k, v in z.items()})
    perm = _permutation(_site_sizes(init, site_order), site_order)
    inv = np.argsort(perm)
    hess = np.asarray(hess)[np.ix_(inv, inv)]
    cov = np.linalg.inv(hess)
    return values, (cov + cov.T) / 2, bool(converged)


@jit(static_argnames=("pot_gen", "maxiter"))
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

