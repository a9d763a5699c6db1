"""The data of a fit as every numerical consumer reads them: one typed pytree, built once.

:class:`Problem` is what the NumPyro model, the posterior mode, the sampler and the pointwise
log-likelihood (LOO/WAIC) take: the design matrix (or its transpose, see
:func:`for_sampler`), ``y`` on the mean's scale (Binomial: the proportion of ``trials``, as
the MLE side), the total offset, the frequency weights, the binomial trials and the group-level
terms' rows (:class:`~bayesglm.group_design.GroupRows`: each term's columns and level index);
a sharded likelihood shards its rows.

This module also owns the linear predictor ``X @ beta + offset + sum_j Z_j b_j``
(:func:`linear_predictor` in JAX, :func:`eta_draws` for many draws in NumPy), the group
effects ``b_j`` given as one (levels, q) array per term (``effects``), and the X' layout policy.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .group_design import GroupRows, group_effects
from .likelihood_mle import unpack

__all__ = ["Problem", "Gram", "from_design", "with_groups", "for_sampler", "to_gram",
           "shard_rows",
           "linear_predictor", "eta_draws", "rows", "pad_rows", "loglik_rows",
           "TRANSPOSE_MAX_BYTES"]

#: the sampler works from a copy of X' (:func:`linear_predictor`) while X is at most this big
#: (beyond, it uses X itself rather than double the design's memory)
TRANSPOSE_MAX_BYTES = 512 * 2**20


class Gram(NamedTuple):
    """The rows of a Gaussian identity-link likelihood as its sufficient statistics, about a
    centre ``beta0`` (the weighted least-squares fit): with r = y - offset,

        RSS(beta) = sum_i w_i (r_i - x_i' beta)^2
                  = rss0 + 2 (beta - beta0)' g0 + (beta - beta0)' A (beta - beta0),

    ``A`` = X'WX, ``g0`` = X'W(X beta0 - r) (~0), ``rss0`` = RSS(beta0), exactly for any
    beta0; about the fit, every term stays of the residuals' size, so nothing cancels (about
    0 it would be y'Wy - 2 beta'X'Wy + beta'X'WX beta, whose terms can be orders of magnitude
    larger than their sum). ``sum_w``: the total weight (n without weights); ``rows``: n."""

    A: Any  # (p, p)
    g0: Any  # (p,)
    beta0: Any  # (p,)
    rss0: Any  # ()
    sum_w: Any  # ()
    rows: Any  # () the number of rows


class Problem(NamedTuple):
    """The rows of a fit (device or host arrays; None where the model has none), or, in the
    sampler's layout of a Gaussian identity-link model, their sufficient statistics
    (``gram``, :func:`to_gram`; X, y, offset and weights are then None)."""

    X: Any  # (n, p), or None when only XT is carried
    XT: Any  # (p, n), row-major X transposed, or None
    y: Any  # (n,) on the mean's scale (Binomial: proportions)
    offset: Any = None  # (n,) the total offset (offset + log exposure)
    weights: Any = None  # (n,) frequency weights
    trials: Any = None  # (n,) binomial trials (None: 0/1 responses)
    groups: tuple = ()  # one GroupRows (Z (n, q), index (n,)) per group-level term
    aux: Any = None  # a likelihood family's extra design matrices by name (its zero model's)
    gram: Any = None  # Gram: the rows as sufficient statistics (to_gram)
    #: the rows with their log-likelihood's Taylor expansion and a subsample of them
    #: (:class:`bayesglm.subsample.Proxy`; X, y, offset and weights are then None)
    subsample: Any = None

    @property
    def nobs(self) -> int:
        if self.subsample is not None:
            return self.subsample.rows
        if self.X is None and self.XT is None:
            return int(self.gram.rows)
        # XT's shape, not XT.T's: transposing a device array eagerly runs (and the first time
        # compiles) a program of its own
        return self.X.shape[0] if self.X is not None else self.XT.shape[1]


def from_design(design, *, device: bool = True) -> Problem:
    """The problem of a validated ``Design`` (device arrays unless ``device=False``).

    ``jax.device_put``, not ``jnp.asarray``: the latter compiles a small program per new shape.
    """
    put = jax.device_put if device else (lambda a: a)
    opt = lambda a: None if a is None else put(a)  # noqa: E731
    aux = None if design.aux is None else {k: put(v) for k, v in design.aux.items()}
    return Problem(X=put(design.X), XT=None, y=put(design.y), offset=opt(design.total_offset),
                   weights=opt(design.weights), trials=opt(design.trials), aux=aux)


def _ones_dropped(rows: GroupRows) -> GroupRows:
    """A term of one column of ones (``(1 | g)``) without its column: ``Z b`` is then a gather
    alone. With the column, XLA on CPU split the logistic gradient into more passes over the
    rows (n = 1e6, 1e5 levels, the log density's value and gradient in float64: 24.3 ms with
    it, 12.9 ms without; ``benchmarks/glmm_steps.py``)."""
    Z = rows.Z
    if Z is not None and Z.shape[1] == 1 and bool(np.all(np.asarray(Z) == 1)):
        return rows._replace(Z=None)
    return rows


def for_sampler(problem: Problem, float32: bool = False, gram: bool = False,
                devices=None) -> Problem:
    """The layout the sampler's gradient is fastest with: X' alone while X is small enough, and
    group terms of one column of ones without it (:func:`_ones_dropped`); a problem already in
    that layout is returned as it is. ``float32``: the rows' numbers (X, y, offsets, trials,
    the terms' columns) in float32, so that :func:`linear_predictor` and the family's per-row
    density are computed in float32 (the model sums the density in float64); the sampler's
    copy of X is then half the size of a float64 one.

    XLA on CPU forms both ``beta @ XT`` and the gradient's ``XT @ g`` from a row-major X' about
    twice as fast as ``X @ beta`` and (much) faster than the ``g @ X`` that autodiff makes of
    it (measured at n = 1e4, p = 11: 12 and 15 µs vs 21 and 45 µs), and one matrix of n x p
    instead of two stays in cache.

    ``gram``: the rows as their sufficient statistics instead (:func:`to_gram`; a Gaussian
    identity-link model without group terms: a gradient then costs O(p^2), not O(n p)).

    ``devices``: the rows split over these devices (:func:`shard_rows`; a model without group
    terms or extra designs), X kept as it is (the compiled program sums each device's rows and
    adds the sums across the devices).
    """
    if problem.gram is not None or problem.subsample is not None:
        return problem
    if gram:
        return to_gram(problem)
    groups = tuple(_ones_dropped(r) for r in problem.groups)
    if any(a is not b for a, b in zip(groups, problem.groups)):
        problem = problem._replace(groups=groups)
    if float32:
        problem = _float32(problem)
    if devices is not None:
        on = problem.X if problem.X is not None else problem.XT
        if isinstance(on, jax.Array) and on.sharding.device_set == set(devices):
            return problem  # already split over them (a plan made again)
        return shard_rows(problem, devices)
    X = problem.X
    if problem.XT is not None or X.size * X.dtype.itemsize > TRANSPOSE_MAX_BYTES:
        return problem
    XT = jax.device_put(np.ascontiguousarray(np.asarray(X).T))
    return problem._replace(X=None, XT=XT)


def shard_rows(problem: Problem, devices) -> Problem:
    """``problem`` (no group terms or extra designs) with its rows split over ``devices``
    (:class:`bayesglm.sharding.RowShards`): X (not X'), y, the offset, the weights and the
    trials sharded by rows; the rows padding the last shards have weight 0 (the weights are
    then 1 elsewhere where there were none), so every sum over rows is unchanged."""
    from .sharding import RowShards, put_rows

    if problem.groups or problem.aux is not None:
        raise ValueError("the rows of a model with group-level terms or extra designs are not "
                         "split over devices")

    def host(a):
        return None if a is None else np.asarray(a)

    X = host(problem.X) if problem.X is not None else np.ascontiguousarray(host(problem.XT).T)
    shards = RowShards(X.shape[0], tuple(devices))
    X, y, offset, weights = put_rows(shards, X, host(problem.y), host(problem.offset),
                                     host(problem.weights))
    trials = None if problem.trials is None else shards.put(host(problem.trials))
    return Problem(X=X, XT=None, y=y, offset=offset, weights=weights, trials=trials)


def to_gram(problem: Problem) -> Problem:
    """``problem`` (no group terms) with its rows replaced by their :class:`Gram` (computed on
    the host in float64, one pass over X for X'WX and one for the residuals; device arrays)."""
    if problem.groups:
        raise ValueError("sufficient statistics need a model without group-level terms")
    X = np.asarray(problem.X if problem.X is not None else np.asarray(problem.XT).T,
                   dtype=float)
    n = X.shape[0]
    w = np.ones(n) if problem.weights is None else np.asarray(problem.weights, dtype=float)
    r = np.asarray(problem.y, dtype=float)
    if problem.offset is not None:
        r = r - np.asarray(problem.offset, dtype=float)
    A = X.T @ (X * w[:, None])
    beta0 = np.linalg.lstsq(A, X.T @ (w * r), rcond=None)[0]
    e = r - X @ beta0
    stats = Gram(A, -(X.T @ (w * e)), beta0, np.dot(w, e * e), w.sum(), np.asarray(n))
    return Problem(X=None, XT=None, y=None, gram=jax.device_put(stats))


def _float32(problem: Problem) -> Problem:
    """The rows' numbers in float32 (the same object when they are already: a plan built on
    the sampler's layout again keeps its data, ``Plan.same_run``)."""
    arrays = [problem.X, problem.XT, problem.y, problem.offset, problem.trials,
              *(r.Z for r in problem.groups)]
    if all(a is None or a.dtype == np.float32 for a in arrays):
        return problem

    def f32(a):
        return None if a is None else jax.device_put(np.asarray(a, dtype=np.float32))

    return problem._replace(
        X=f32(problem.X), XT=f32(problem.XT), y=f32(problem.y), offset=f32(problem.offset),
        trials=f32(problem.trials),
        groups=tuple(r._replace(Z=f32(r.Z)) for r in problem.groups))


@jax.custom_vjp
def _matvec_t(XT, beta):
    """``beta @ XT`` in X's precision (float32 when the sampler's layout is)."""
    return beta.astype(XT.dtype) @ XT


def _matvec_t_fwd(XT, beta):
    return _matvec_t(XT, beta), (XT, beta)


def _matvec_t_bwd(res, g):
    XT, beta = res
    return None, (XT @ g.astype(XT.dtype)).astype(beta.dtype)


_matvec_t.defvjp(_matvec_t_fwd, _matvec_t_bwd)


def with_groups(problem: Problem, groups, *, device: bool = True) -> Problem:
    """``problem`` with the group terms' rows (``((GroupFactor, GroupRows), ...)``)."""
    put = jax.device_put if device else (lambda a: a)
    return problem._replace(groups=tuple(GroupRows(put(r.Z), put(r.index)) for _, r in groups))


def linear_predictor(problem: Problem, beta, effects=()):
    """eta = ``X @ beta + offset + sum_j Z_j b_j`` (JAX); from X' alone when the problem
    carries it. ``effects``: the group terms' (levels, q) effects, in ``problem.groups`` order.

    With X' it is reverse-mode differentiable only (``custom_vjp``), as the sampler needs.
    """
    if problem.X is None:
        eta = _matvec_t(problem.XT, beta)
    else:
        eta = problem.X @ beta.astype(problem.X.dtype)
    for rows_j, b in zip(problem.groups, effects):
        eta = eta + group_effects(rows_j, b.astype(eta.dtype))
    return eta if problem.offset is None else eta + problem.offset


def eta_draws(beta, X, offset, groups=(), effects=()):
    """eta for many draws: (draws, p) x (rows, p) -> (draws, rows); NumPy or JAX arrays.

    ``groups``: the rows' GroupRows; ``effects``: per term the draws' (draws, levels, q) effects.
    """
    eta = beta @ X.T
    for rows_j, b in zip(groups, effects):
        eta = eta + (rows_j.Z[None] * b[:, rows_j.index]).sum(axis=-1)
    return eta if offset is None else eta + offset


def pad_rows(a, start: int, stop: int, size: int):
    """``a[start:stop]`` padded to ``size`` rows by repeating its last row (one program shape),
    on the device; None stays None."""
    if a is None:
        return None
    from .sharding import padded

    return jax.device_put(np.ascontiguousarray(padded(np.asarray(a[start:stop]), size)))


def rows(problem: Problem, start: int, stop: int, size: int) -> Problem:
    """Rows ``start:stop`` of a problem with X (not X'), padded to ``size`` (:func:`pad_rows`)."""
    def part(a):
        return pad_rows(a, start, stop, size)

    return Problem(X=part(problem.X), XT=None, y=part(problem.y), offset=part(problem.offset),
                   weights=part(problem.weights), trials=part(problem.trials),
                   groups=tuple(GroupRows(part(g.Z), part(g.index)) for g in problem.groups),
                   aux=None if problem.aux is None else {k: part(v)
                                                         for k, v in problem.aux.items()})


def loglik_rows(family, problem: Problem, beta, dispersion=None, effects=()):
    """log p(y_i | beta, dispersion, group effects) of every row, unweighted (JAX).

    ``dispersion`` is the Bayesian dispersion parameter (None: the family's fixed phi). The
    NumPyro model's likelihood evaluates this same ``family.loglike_eta``. For a likelihood
    family (``exact_likelihood``: Beta, ordinal, zero-inflated, ...) ``dispersion`` is the
    vector u of its extra parameters on the real line (:mod:`bayesglm.transforms`) and the
    family's ``loglike`` is evaluated, with its fixed parameters and the rows' extra designs.
    """
    eta = linear_predictor(problem, beta, effects)
    if getattr(family, "exact_likelihood", False):
        return family.loglike(problem.y, eta, unpack(family, dispersion, jnp), problem.trials,
                              problem.aux)
    phi = family.fixed_scale() if dispersion is None else family.scale_from_dispersion(dispersion)
    return family.loglike_eta(problem.y, eta, phi, problem.trials)
