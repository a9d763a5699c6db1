"""The penalised system solved level by level (bayesglm.group_solve.BlockSystem) against the
dense one (DenseSystem): the same products, solves, log-determinant and diagonal blocks of the
inverse, for one term, nested and crossed terms, with two columns per level. Deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from bayesglm.group_design import GroupFactor, GroupRows, factorize
from bayesglm.group_solve import BlockSystem, DenseSystem, system


def _terms(rng, n, spec):
    """Terms from (levels, q, correlated) specs, each level seen at least once."""
    out = []
    for k, (L, q) in enumerate(spec):
        idx = np.concatenate([np.arange(L), rng.integers(0, L, n - L)])
        rng.shuffle(idx)
        index, levels = factorize([idx])
        Z = np.column_stack([np.ones(n)] + [rng.normal(size=n) for _ in range(q - 1)])
        out.append((GroupFactor(f"g{k}", tuple(f"t{j}" for j in range(q)), levels, True),
                    GroupRows(Z, index)))
    return out


def _factors(rng, spec):
    Ts = []
    for _, q in spec:
        A = rng.normal(size=(q, q))
        T = np.tril(A)
        np.fill_diagonal(T, np.abs(np.diag(T)) + 0.3)
        Ts.append(T)
    return Ts


@pytest.mark.parametrize("spec", [[(12, 1)], [(9, 2)], [(30, 1), (5, 1)],
                                  [(4, 2), (25, 2), (3, 1)]])
def test_block_system_is_the_dense_one(spec):
    rng = np.random.default_rng(len(spec) * 10 + spec[0][0])
    n = 200
    terms = _terms(rng, n, spec)
    Ts = _factors(rng, spec)
    dense, block = DenseSystem(terms, Ts), BlockSystem(terms, Ts)
    size = dense.size
    assert block.size == size
    u, g = rng.normal(size=size), rng.normal(size=n)
    np.testing.assert_allclose(block.matvec(u), dense.matvec(u), atol=1e-12)
    np.testing.assert_allclose(block.rmatvec(g), dense.rmatvec(g), atol=1e-12)
    w = rng.uniform(0.1, 2.0, n)
    fd, fb = dense.factor(w), block.factor(w)
    r = rng.normal(size=size)
    np.testing.assert_allclose(fb.solve(r), fd.solve(r), rtol=1e-10, atol=1e-12)
    assert fb.logdet() == pytest.approx(fd.logdet(), rel=1e-12)
    for a, b in zip(fb.inverse_blocks(), fd.inverse_blocks()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_the_dense_system_is_used_while_small():
    rng = np.random.default_rng(0)
    small = _terms(rng, 60, [(10, 1)])
    big = _terms(rng, 400, [(120, 1)])
    assert isinstance(system(small, [np.eye(1)]), DenseSystem)
    assert isinstance(system(big, [np.eye(1)]), BlockSystem)
    assert isinstance(system(small, [np.eye(1)], dense=False), BlockSystem)


@pytest.mark.parametrize("spec", [[(12, 1)], [(30, 1), (5, 1)], [(4, 2), (25, 2), (3, 1)]])
def test_the_system_with_unpenalised_fixed_columns(spec):
    # glmer's first stage: M = [Z Lambda, X], H = M'WM + diag(1, .., 1, 0, .., 0). Both
    # systems against H formed from the dense M by hand; logdet is that of the group block alone
    rng = np.random.default_rng(7 + len(spec))
    n, p = 200, 3
    terms = _terms(rng, n, spec)
    Ts = _factors(rng, spec)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    M = np.hstack([DenseSystem(terms, Ts).M, X])
    q = M.shape[1] - p
    w = rng.uniform(0.1, 2.0, n)
    H = M.T @ (M * w[:, None]) + np.diag(np.r_[np.ones(q), np.zeros(p)])
    r, v = rng.normal(size=q + p), rng.normal(size=q + p)
    for sysm in (DenseSystem(terms, Ts, X), BlockSystem(terms, Ts, X)):
        assert sysm.size == q + p
        np.testing.assert_array_equal(sysm.penalty, np.r_[np.ones(q), np.zeros(p)])
        np.testing.assert_allclose(sysm.matvec(v), M @ v, atol=1e-12)
        np.testing.assert_allclose(sysm.rmatvec(w), M.T @ w, atol=1e-12)
        F = sysm.factor(w)
        np.testing.assert_allclose(F.solve(r), np.linalg.solve(H, r), rtol=1e-9, atol=1e-11)
        assert F.logdet() == pytest.approx(np.linalg.slogdet(H[:q, :q])[1], rel=1e-12)
