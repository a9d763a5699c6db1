"""Energy-conserving subsampling (HMCECS; Dang, Quiroz, Kohn, Tran and Villani 2019): NUTS on a
subsample's estimate of the log-likelihood, with control variates from a Taylor expansion at
the start (the MLE or the posterior mode), for data in the millions of rows.

A GLM's log-likelihood is a sum over rows of a function of two numbers, the row's linear
predictor eta_i = x_i' beta + offset_i and (where the family has one) the log of the
dispersion parameter s: l_i(eta_i, s), frequency weights included. Its second-order Taylor
expansion about the centre (eta*_i, s*),

    q_i = a_i + b_i de_i + e_i ds + (c_i de_i^2 + 2 f_i de_i ds + h_i ds^2) / 2,

with de_i = x_i' (beta - beta*) and ds = s - s*, needs six numbers per row (three without a
dispersion), and its sum over all rows is a quadratic form in (beta, s) whose coefficients are
computed once (:func:`make_proxy`): sum a, X'b, X' diag(c) X, and the dispersion's sum e, X'f,
sum h. A subsample u of m row indices (drawn with replacement) then estimates the
log-likelihood by the difference estimator (:func:`loglike`)

    l_hat(theta; u) = sum_i q_i(theta) + (n / m) sum_{j in u} (l_j - q_j)(theta),

unbiased for l(theta), at a cost of O(m p + p^2) per gradient instead of O(n p). Its variance
sigma^2(theta) = n^2 / m var_i(l_i - q_i) is tiny near the centre: the residuals are third
order in theta - theta*, whose posterior spread shrinks as 1 / sqrt(n). The sampler targets
the perturbed posterior exp(l_hat - sigma_hat^2 / 2) p(theta) p(u) (the "perturbed" estimator
of Dang et al., sigma_hat^2 the subsample's estimate), whose theta-marginal is the posterior
up to an error that vanishes with sigma^2. It alternates (the sampler's loop, :mod:`.sampling`):

1. a Metropolis update of u given theta (:func:`gibbs_step`): one of :data:`BLOCKS` blocks of u
   is drawn afresh, so u moves gradually (correlation 1 - 1 / BLOCKS) and the acceptance
   exp(l_hat(theta; u') - l_hat(theta; u)) stays high even where sigma^2 is of order 1;
2. a NUTS transition of theta given u, on the fixed estimate: energy is conserved along the
   trajectory (Betancourt 2015: subsampling inside a trajectory is what breaks HMC).

How large m must be is read from the data (:func:`choose_size`, ``fit(subsample="auto")``):
sigma^2 over all rows at draws from the normal approximation at the start, and m the smallest
that keeps it at most :data:`VARIANCE_TARGET`. After sampling, :func:`check` measures sigma^2
at posterior draws and warns where it exceeds :data:`VARIANCE_WARN` (the draws may then be
biased or mix poorly).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._warnings import SamplingWarning, warn
from ._xla import jit
from .problem import Problem

__all__ = ["Proxy", "GibbsState", "make_proxy", "loglike", "with_index", "initial_index",
           "gibbs_step", "residual_variance", "choose_size", "check", "check_size",
           "BLOCKS", "MIN_ROWS", "VARIANCE_TARGET", "VARIANCE_WARN", "CHECK_DRAWS"]

#: the subsample is updated a block at a time: one of this many blocks of its indices is drawn
#: afresh per iteration (m is a multiple of it)
BLOCKS = 20
#: ``subsample="auto"`` uses at least this many rows (the estimate's variance is then tiny for
#: a well-fitting GLM at n in the millions: the time per gradient is the sampler's overhead,
#: not the rows)
MIN_ROWS = 1000
#: ``subsample="auto"``: the largest estimate variance sigma^2 it allows at the start's normal
#: approximation
VARIANCE_TARGET = 0.1
#: warn when the estimate's variance at the posterior draws exceeds this (on average)
VARIANCE_WARN = 1.0
#: posterior draws (or normal-approximation draws) at which sigma^2 is measured over all rows
CHECK_DRAWS = 16


class Proxy(NamedTuple):
    """The rows and the Taylor expansion of their log-likelihood at the centre (a pytree of
    arrays: an argument of the compiled sampler), with the current subsample ``index``."""

    X: Any  # (n, p) all rows
    y: Any  # (n,)
    offset: Any  # (n,) or None
    weights: Any  # (n,) or None
    trials: Any  # (n,) or None
    index: Any  # (m,) int32: the subsample (the sampler's state; a placeholder in the plan)
    terms: Any  # (n, 3): a, b, c per row, or (n, 6): a, b, c, e, f, h (with a dispersion)
    beta0: Any  # (p,) the centre's coefficients
    s0: Any  # () the centre's log dispersion, or None
    const: Any  # () sum a
    g: Any  # (p,) X'b
    H: Any  # (p, p) X' diag(c) X
    gs: Any = None  # () sum e
    Hbs: Any = None  # (p,) X'f
    Hss: Any = None  # () sum h

    @property
    def rows(self) -> int:
        return self.X.shape[0]

    @property
    def size(self) -> int:
        return self.index.shape[0]


class GibbsState(NamedTuple):
    """The subsample's part of a chain's state."""

    index: Any  # (m,) int32
    key: Any  # PRNG key of its updates


def _row_loglike(family, y, eta, s, trials, weights):
    """Each row's log-likelihood (weighted) at eta and log dispersion s (None: fixed phi)."""
    phi = family.fixed_scale() if s is None else family.scale_from_dispersion(jnp.exp(s))
    ll = family.loglike_eta(y, eta, phi, trials)
    return ll if weights is None else weights * ll


def _eta(X, beta, offset):
    eta = X @ beta
    return eta if offset is None else eta + offset


@jit(static_argnames=("family",))
def _expansion(family, X, y, offset, weights, trials, beta0, s0):
    """The per-row Taylor coefficients at (beta0, s0) and their sums over the rows."""
    eta0 = _eta(X, beta0, offset)

    def value(eta, s):
        return _row_loglike(family, y, eta, s, trials, weights)

    def slope(eta, s):  # b_i = dl_i / deta_i (each row's term depends on its own eta only)
        return jax.grad(lambda e: jnp.sum(value(e, s)))(eta)

    ones = jnp.ones_like(eta0)
    a = value(eta0, s0)
    b, c = jax.jvp(lambda e: slope(e, s0), (eta0,), (ones,))
    out = dict(const=jnp.sum(a), g=X.T @ b, H=X.T @ (X * c[:, None]))
    if s0 is None:
        return jnp.stack([a, b, c], axis=1), out
    one = jnp.ones_like(s0)
    e, h = jax.jvp(lambda s: jax.jvp(lambda t: value(eta0, t), (s,), (one,))[1], (s0,), (one,))
    f = jax.jvp(lambda s: slope(eta0, s), (s0,), (one,))[1]
    out.update(gs=jnp.sum(e), Hbs=X.T @ f, Hss=jnp.sum(h))
    return jnp.stack([a, b, c, e, f, h], axis=1), out


def make_proxy(family, problem: Problem, beta0, dispersion0=None, size: int = MIN_ROWS) -> Proxy:
    """The :class:`Proxy` of ``problem``'s rows (with X, float64) about ``beta0`` and the
    dispersion parameter's value ``dispersion0`` (None for a family without one), with a
    placeholder subsample of ``size`` rows."""
    X = problem.X
    s0 = None if dispersion0 is None else np.float64(np.log(dispersion0))
    beta0 = np.asarray(beta0, dtype=np.float64)
    terms, sums = _expansion(family, X, problem.y, problem.offset, problem.weights,
                             problem.trials, beta0, s0)
    return Proxy(X, problem.y, problem.offset, problem.weights, problem.trials,
                 np.zeros(size, np.int32), terms, beta0, s0, **sums)


def with_size(proxy: Proxy, size: int) -> Proxy:
    """``proxy`` with a placeholder subsample of ``size`` rows."""
    return proxy._replace(index=np.zeros(int(size), np.int32))


def _quadratic(proxy: Proxy, db, ds):
    """sum_i q_i: the Taylor expansion of all rows' log-likelihood at (beta0 + db, s0 + ds)."""
    total = proxy.const + jnp.dot(proxy.g, db) + 0.5 * jnp.dot(db, proxy.H @ db)
    if ds is not None:
        total = total + proxy.gs * ds + ds * jnp.dot(proxy.Hbs, db) + 0.5 * proxy.Hss * ds * ds
    return total


def _residuals(family, proxy: Proxy, rows, beta, s):
    """l_j - q_j at (beta, s) for the rows ``rows`` (an index array, or None: all rows)."""
    def pick(a):
        return a if a is None or rows is None else a[rows]

    X, t = pick(proxy.X), pick(proxy.terms)
    db = beta - proxy.beta0
    de = X @ db
    ll = _row_loglike(family, pick(proxy.y), _eta(X, beta, pick(proxy.offset)), s,
                      pick(proxy.trials), pick(proxy.weights))
    q = t[:, 0] + t[:, 1] * de + 0.5 * t[:, 2] * de * de
    if s is not None:
        ds = s - proxy.s0
        q = q + t[:, 3] * ds + t[:, 4] * de * ds + 0.5 * t[:, 5] * ds * ds
    return ll - q


def loglike(family, proxy: Proxy, beta, dispersion=None):
    """The perturbed estimate of the log-likelihood from the subsample ``proxy.index`` (JAX):
    l_hat - sigma_hat^2 / 2, with sigma_hat^2 = n^2 / m times the residuals' sample variance.

    ``dispersion``: the dispersion parameter's value (None for a family without one)."""
    s = None if dispersion is None else jnp.log(dispersion)
    n, m = proxy.rows, proxy.size
    r = _residuals(family, proxy, proxy.index, beta, s)
    mean = jnp.mean(r)
    var = jnp.sum(jnp.square(r - mean)) / (m - 1)
    ds = None if s is None else s - proxy.s0
    return _quadratic(proxy, beta - proxy.beta0, ds) + n * mean - 0.5 * (n * n / m) * var


def with_index(model_kwargs: dict, index) -> dict:
    """The model's arguments with the subsample ``index``."""
    data = model_kwargs["data"]
    return {**model_kwargs, "data": data._replace(subsample=data.subsample._replace(index=index))}


def initial_index(key, proxy: Proxy):
    """m row indices drawn uniformly with replacement."""
    return jax.random.randint(key, (proxy.size,), 0, proxy.rows, dtype=jnp.int32)


def gibbs_step(potential_fn_gen, model_kwargs: dict, z, potential, grad, state: GibbsState,
               blocks: int = BLOCKS):
    """The Metropolis update of the subsample given the parameters ``z``: one block of its
    indices drawn afresh, accepted with probability exp(potential - potential').

    ``potential``/``grad``: the potential energy and its gradient at ``z`` under the current
    subsample. Returns (potential, grad, GibbsState, acceptance probability) after the update:
    with a new subsample, its potential and gradient at ``z`` (the start of the next NUTS
    trajectory)."""
    proxy = model_kwargs["data"].subsample
    key, k_block, k_rows, k_accept = jax.random.split(state.key, 4)
    size = proxy.size // blocks
    block = jax.random.randint(k_block, (), 0, blocks)
    rows = jax.random.randint(k_rows, (size,), 0, proxy.rows, dtype=jnp.int32)
    index = jax.lax.dynamic_update_slice(state.index, rows, (block * size,))
    pe, g = jax.value_and_grad(potential_fn_gen(**with_index(model_kwargs, index)))(z)
    prob = jnp.minimum(1.0, jnp.exp(potential - pe))
    prob = jnp.where(jnp.isnan(prob), 0.0, prob)
    accept = jax.random.uniform(k_accept, dtype=prob.dtype) < prob

    def pick(new, old):
        return jnp.where(accept, new, old)

    return (pick(pe, potential), jax.tree_util.tree_map(pick, g, grad),
            GibbsState(pick(index, state.index), key), prob)


@jit(static_argnames=("family",))
def _variances(family, proxy: Proxy, betas, ss):
    """var_i(l_i - q_i) over all rows at each draw (one draw at a time: O(n) memory)."""
    def one(args):
        beta, s = args
        r = _residuals(family, proxy, None, beta, s)
        return jnp.mean(jnp.square(r - jnp.mean(r)))

    return jax.lax.map(one, (betas, ss))


def residual_variance(family, proxy: Proxy, betas, dispersions=None) -> np.ndarray:
    """The population variance of the rows' residuals l_i - q_i at each of the draws ``betas``
    ((k, p); ``dispersions`` (k,) or None): sigma^2 = n^2 / m times it."""
    ss = None if dispersions is None else np.log(np.asarray(dispersions, dtype=np.float64))
    return np.asarray(_variances(family, proxy, np.asarray(betas, dtype=np.float64), ss))


def round_size(m: float, blocks: int = BLOCKS) -> int:
    """m rounded up to a multiple of ``blocks``, at least ``2 blocks``."""
    m = max(int(math.ceil(m)), 2 * blocks)
    return int(-(-m // blocks) * blocks)


def check_size(value, n: int) -> int | str | None:
    """``fit(subsample=...)``: None, "auto" or a number of rows (an int from 2 x BLOCKS to the
    number of rows), checked; a number is rounded up to a multiple of :data:`BLOCKS`."""
    if value is None or (isinstance(value, str) and value == "auto"):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"subsample must be None, 'auto' or a number of rows (an int), got "
                        f"{value!r}")
    if not 2 * BLOCKS <= value <= n:
        raise ValueError(f"subsample must be between {2 * BLOCKS} and the number of rows "
                         f"({n}), got {value}")
    return round_size(value)


def choose_size(family, proxy: Proxy, draws_beta, draws_dispersion=None,
                target: float = VARIANCE_TARGET) -> int:
    """The smallest m (a multiple of :data:`BLOCKS`, at least :data:`MIN_ROWS`, at most n) for
    which sigma^2 = n^2 / m var(l_i - q_i) stays at most ``target`` at every given draw (draws
    from the start's normal approximation)."""
    n = proxy.rows
    v = float(np.max(residual_variance(family, proxy, draws_beta, draws_dispersion)))
    need = n * n * v / target if np.isfinite(v) else n
    return min(round_size(max(need, MIN_ROWS)), max(2 * BLOCKS, n // BLOCKS * BLOCKS))


def check(family, proxy: Proxy, size: int, draws_beta, draws_dispersion=None) -> float:
    """sigma^2 (n^2 / m var(l_i - q_i), all rows) averaged over posterior draws; warns
    (SamplingWarning) above :data:`VARIANCE_WARN`, with the subsample size that would bring it to
    :data:`VARIANCE_TARGET`. Returns the average."""
    n = proxy.rows
    v = residual_variance(family, proxy, draws_beta, draws_dispersion)
    sigma2 = float(np.mean(v) * n * n / size)
    if not np.isfinite(sigma2) or sigma2 > VARIANCE_WARN:
        better = round_size(min(n, size * sigma2 / VARIANCE_TARGET)) if np.isfinite(
            sigma2) else n
        warn(f"the subsampled log-likelihood is noisy at the posterior draws: its variance "
             f"sigma^2 is {sigma2:.3g} (> {VARIANCE_WARN:g}) with subsample={size}; the draws "
             "may be biased and mix poorly. Use a larger subsample (about "
             f"fit(subsample={better}) for sigma^2 of {VARIANCE_TARGET:g}), "
             "subsample='auto', or the full data (subsample=None).", SamplingWarning)
    return sigma2
