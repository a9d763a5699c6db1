"""Group-level effects without a dense design (bayesglm.group_design): the gather, its transpose
and the per-level blocks against the dense Z they replace, in NumPy and in JAX; factor levels as
R orders and labels them. Deterministic."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesglm.group_design import (GroupRows, dense_z, factorize, group_effects,
                                   level_crossprods, transpose_effects)

pytestmark = pytest.mark.usefixtures("jax_float64")


@pytest.fixture(scope="module")
def term():
    rng = np.random.default_rng(2)
    n, q, L = 300, 3, 17
    Z = np.column_stack([np.ones(n), rng.normal(size=(n, q - 1))])
    index = rng.integers(0, L, n).astype(np.int32)
    index[:L] = np.arange(L)  # every level observed
    return GroupRows(Z, index), L, rng


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_gather_transpose_and_blocks_match_the_dense_design(term, backend):
    rows, L, rng = term
    n, q = rows.Z.shape
    b = rng.normal(size=(L, q))
    g, w = rng.normal(size=n), rng.uniform(0.1, 2.0, size=n)
    D = dense_z(rows, L)
    if backend == "jax":
        rows = GroupRows(jnp.asarray(rows.Z), jnp.asarray(rows.index))
        b, g, w = jnp.asarray(b), jnp.asarray(g), jnp.asarray(w)
    np.testing.assert_allclose(np.asarray(group_effects(rows, b)), D @ np.asarray(b).ravel(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(transpose_effects(rows, g, L)).ravel(),
                               D.T @ np.asarray(g), rtol=1e-12, atol=1e-12)
    blocks = np.asarray(level_crossprods(rows, w, L))
    full = D.T @ (D * np.asarray(w)[:, None])  # block diagonal: one q x q block per level
    for lev in range(L):
        sl = slice(lev * q, (lev + 1) * q)
        np.testing.assert_allclose(blocks[lev], full[sl, sl], rtol=1e-12, atol=1e-12)
    off = full.copy()
    for lev in range(L):
        off[lev * q:(lev + 1) * q, lev * q:(lev + 1) * q] = 0.0
    assert np.all(off == 0.0)  # one factor: no cross-level terms


def test_jax_transpose_is_the_gradient_of_the_gather(term):
    rows, L, rng = term
    rows = GroupRows(jnp.asarray(rows.Z), jnp.asarray(rows.index))
    g = jnp.asarray(rng.normal(size=rows.Z.shape[0]))
    grad = jax.grad(lambda b: jnp.dot(group_effects(rows, b), g))(jnp.zeros((L, 3)))
    np.testing.assert_allclose(grad, transpose_effects(rows, g, L), rtol=1e-12, atol=1e-12)


def test_factor_levels_as_r_orders_them():
    # R: levels(factor(c(10, 9, 10, 2))) is "2" "9" "10" (numeric order), and
    # levels(factor(c("b", "a", "b"))) is "a" "b"
    idx, levels = factorize([np.array([10.0, 9.0, 10.0, 2.0])])
    assert levels == ("2", "9", "10") and idx.tolist() == [2, 1, 2, 0]
    idx, levels = factorize([np.array(["b", "a", "b"], dtype=object)])
    assert levels == ("a", "b") and idx.dtype == np.int32
    # lme4's g1:g2 (nested): the observed combinations, labelled "a:b"; Pastes has 10 batches of
    # 3 casks, so (1 | batch/cask) has ngrps 30 for cask:batch and 10 for batch
    batch = np.repeat(list("ABCDEFGHIJ"), 6)
    cask = np.tile(np.repeat(list("abc"), 2), 10)
    idx, levels = factorize([batch, cask])
    assert len(levels) == 30 and levels[:4] == ("A:a", "A:b", "A:c", "B:a")
    assert [levels[i] for i in idx[:6]] == ["A:a", "A:a", "A:b", "A:b", "A:c", "A:c"]
    assert len(factorize([batch])[1]) == 10
