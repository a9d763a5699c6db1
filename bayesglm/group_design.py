"""Group-level effects without a dense design: each term keeps its columns and a level index.

A term ``(1 + x | g)`` with q columns and L levels contributes ``Z b`` to the linear predictor,
where the dense Z would be n x (L q) with one non-zero block per row. It is never formed. Each
term keeps its n x q columns ``Z`` and the (n,) integer ``index`` of every row's level, so that

* ``Z b`` is a gather: ``sum_k Z[i, k] * b[index[i], k]`` (:func:`group_effects`);
* ``Z' g`` is a segment sum over the levels (:func:`transpose_effects`), what the gradient needs;
* the per-level blocks of ``Z' W Z`` (L x q x q) are a segment sum of the rows' outer products
  (:func:`level_crossprods`), what penalised IRLS needs for a term's conditional modes.

Memory is O(n q) per term, whatever the number of levels (:mod:`bayesglm.group_solve` solves
the penalised system with them; :func:`dense_z` is for small problems and the tests). Pure
NumPy/JAX (either array type): no formulaic (the columns come from :mod:`bayesglm.formula`), no
NumPyro.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["GroupFactor", "GroupRows", "factorize", "group_effects", "transpose_effects",
           "level_crossprods", "segment_sum_np", "dense_z", "term_labels", "level_label"]


class GroupFactor(NamedTuple):
    """The static description of one term (hashable: part of a compiled model's key)."""

    group: str  # the grouping factor's name: "herd", "batch:cask"
    terms: tuple[str, ...]  # the term's column names, in the fixed effects' naming
    levels: tuple[str, ...]  # the level labels, in index order
    correlated: bool  # False: a diagonal covariance (lme4's ||)

    @property
    def n_levels(self) -> int:
        return len(self.levels)


class GroupRows(NamedTuple):
    """One term's per-row arrays (a pytree: NumPy or device arrays)."""

    Z: Any  # (n, q) the term's columns; None: one column of ones (the sampler's layout)
    index: Any  # (n,) int32: the row's level, 0 <= index < n_levels


def level_label(v) -> str:
    """A grouping value's level label."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))  # R prints a level 3.0 of a numeric factor as "3"
    return str(v)


def term_labels(factors) -> list[str]:
    """A unique label per term: its group, then ``group.1``, ``group.2`` for further terms of the
    same group (as lme4's VarCorr names them)."""
    seen: dict[str, int] = {}
    out = []
    for f in factors:
        k = seen.get(f.group, 0)
        out.append(f.group if k == 0 else f"{f.group}.{k}")
        seen[f.group] = k + 1
    return out


def factorize(columns) -> tuple[np.ndarray, tuple[str, ...]]:
    """(index, levels) of the grouping factor made of ``columns`` (their interaction).

    One column: its distinct values, sorted (numbers numerically, others as text), as R's
    ``factor``; several (``g1:g2``): the observed combinations, labelled ``"a:b"`` as lme4's
    ``g1:g2``, sorted by the first column's level, then the next (R's ``interaction`` order,
    keeping only the combinations present). Missing values must have been dealt with before.
    """
    codes, labels = [], []
    for col in columns:
        values = np.asarray(col)
        uniq, inv = np.unique(values, return_inverse=True)
        codes.append(inv.reshape(-1))
        labels.append([level_label(u) for u in uniq])
    if len(codes) == 1:
        return codes[0].astype(np.int32), tuple(labels[0])
    combo = np.stack(codes, axis=1)
    uniq, inv = np.unique(combo, axis=0, return_inverse=True)
    levels = tuple(":".join(labels[j][u[j]] for j in range(len(codes))) for u in uniq)
    return inv.reshape(-1).astype(np.int32), levels


def segment_sum_np(values: np.ndarray, index: np.ndarray, n_segments: int) -> np.ndarray:
    """NumPy's ``segment_sum``: ``out[s] = sum of values[i] over index[i] == s``, (n_segments,
    *values.shape[1:]). One ``bincount`` per trailing element (``np.add.at`` is ~10x slower)."""
    flat = values.reshape(len(index), -1)
    out = np.empty((n_segments, flat.shape[1]), dtype=float)
    for k in range(flat.shape[1]):
        out[:, k] = np.bincount(index, weights=flat[:, k], minlength=n_segments)
    return out.reshape((n_segments,) + values.shape[1:])


def group_effects(rows: GroupRows, b):
    """``Z b`` of one term: (n,) from its level effects ``b`` (L, q); NumPy or JAX. A term
    whose ``Z`` is None (a column of ones) is a gather alone."""
    if rows.Z is None:
        return b[:, 0][rows.index]
    return (rows.Z * b[rows.index]).sum(axis=-1)


def transpose_effects(rows: GroupRows, g, n_levels: int):
    """``Z' g`` of one term, as (L, q): every row's ``g_i z_i`` summed into its level."""
    contrib = rows.Z * g[:, None]
    if isinstance(contrib, np.ndarray):
        return segment_sum_np(contrib, np.asarray(rows.index), n_levels)
    import jax

    return jax.ops.segment_sum(contrib, rows.index, num_segments=n_levels)


def level_crossprods(rows: GroupRows, w, n_levels: int):
    """The diagonal blocks of ``Z' W Z`` of one term: (L, q, q), sum of w_i z_i z_i' by level."""
    outer = (rows.Z * w[:, None])[:, :, None] * rows.Z[:, None, :]
    if isinstance(outer, np.ndarray):
        return segment_sum_np(outer, np.asarray(rows.index), n_levels)
    import jax

    return jax.ops.segment_sum(outer, rows.index, num_segments=n_levels)


def dense_z(rows: GroupRows, n_levels: int) -> np.ndarray:
    """The dense n x (L q) design of one term (level-major: level l's q columns together).

    What the first, dense solvers (:mod:`bayesglm.lmm`, :mod:`bayesglm.glmm`) still build, and
    the tests' reference; the gathers and segment sums above are for the solver that will not.
    """
    Z = np.asarray(rows.Z)
    n, q = Z.shape
    out = np.zeros((n, n_levels * q))
    idx = np.asarray(rows.index)
    for k in range(q):
        out[np.arange(n), idx * q + k] = Z[:, k]
    return out
