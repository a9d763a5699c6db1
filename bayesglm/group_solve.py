"""The penalised system of the group effects, solved without a dense group design.

Penalised IRLS for the conditional modes needs, at each step, ``M u`` and ``M' g`` for
M = Z Lambda_theta, and the factor of H = M' W M + I (its solves and its log-determinant; the
Laplace deviance has log|H|). With the terms ordered so that the first has the most effects,

    H = [[D, B], [B', C]]

where D is block diagonal (one q x q block per level of the first term: rows of one level touch
only that level's effects), B couples the first term with the others and C is the (dense) rest.
The solve eliminates D level by level (a batched Cholesky) and factors the Schur complement
S = C - B' D^-1 B, of the size of the other terms' effects; log|H| = log|D| + log|S|. Memory is
O(n q + L_1 q_1 m) with m the other terms' effects: for one term (or a large term crossed with
small ones, as subjects and items) the work is linear in the levels.

Every product is a gather or a segment sum over the rows (:mod:`bayesglm.group_design`); NumPy.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .group_design import GroupRows, level_crossprods, segment_sum_np, transpose_effects

__all__ = ["BlockSystem", "DenseSystem", "system", "DENSE_EFFECTS_MAX", "modes_and_sds"]

#: up to this many group effects the system is formed densely (M, n x q, and a dense Cholesky
#: factor of H: exact and quick); beyond, :class:`BlockSystem`
DENSE_EFFECTS_MAX = 50


def system(terms, Ts, dense: bool | None = None, fixed=None):
    """The system of ``terms`` with relative factors ``Ts``: dense while small (``dense=None``).

    ``fixed``: unpenalised columns (n x p, the fixed effects' X) appended after the group
    effects, for penalised IRLS in (u, beta) jointly (glmer's first stage, ``nAGQ = 0``): then
    H = M'WM + diag(1, .., 1, 0, .., 0) with M = [Z Lambda, X], and ``logdet`` is still that of
    the group effects' block Lambda'Z'WZ Lambda + I (the leading block: X is eliminated last).
    """
    size = sum(f.n_levels * len(f.terms) for f, _ in terms)
    if dense is None:
        dense = size <= DENSE_EFFECTS_MAX
    return DenseSystem(terms, Ts, fixed) if dense else BlockSystem(terms, Ts, fixed)


def modes_and_sds(terms, Ts, u, factor, scale2: float = 1.0):
    """Per term the conditional modes b_l = T u_l (levels, q) and their sds (lme4's condVar:
    scale2 T (H^-1)_ll T')."""
    modes, sds, k = [], [], 0
    for (f, _), T, Hinv in zip(terms, Ts, factor.inverse_blocks()):
        q, L = len(f.terms), f.n_levels
        modes.append(u[k:k + L * q].reshape(L, q) @ np.asarray(T).T)
        V = np.einsum("ij,ljk,mk->lim", T, Hinv, T)
        sds.append(np.sqrt(scale2 * np.clip(np.diagonal(V, axis1=1, axis2=2), 0.0, None)))
        k += L * q
    return tuple(modes), tuple(sds)


class DenseSystem:
    """M = Z Lambda (and ``fixed``) formed densely (n x q): the small problems' system."""

    def __init__(self, terms, Ts, fixed=None):
        from .group_design import dense_z

        self.sizes = [(f.n_levels, len(f.terms)) for f, _ in terms]
        blocks = [dense_z(rows, f.n_levels) @ np.kron(np.eye(f.n_levels), T)
                  for (f, rows), T in zip(terms, Ts)]
        self.n_random = sum(b.shape[1] for b in blocks)
        if fixed is not None:
            blocks.append(np.asarray(fixed, dtype=float))
        self.M = np.hstack(blocks)
        self.size = self.M.shape[1]
        self.penalty = (np.arange(self.size) < self.n_random).astype(float)

    def matvec(self, u):
        return self.M @ u

    def rmatvec(self, g):
        return self.M.T @ g

    def factor(self, w) -> DenseFactor:
        return DenseFactor(self, np.asarray(w, dtype=float))


class DenseFactor:
    def __init__(self, system: DenseSystem, w):
        M = system.M
        self.sizes, self.n_random = system.sizes, system.n_random
        self.L = linalg.cholesky(M.T @ (M * w[:, None]) + np.diag(system.penalty), lower=True)

    def solve(self, r):
        return linalg.cho_solve((self.L, True), r)

    def logdet(self) -> float:
        """log|Lambda'Z'WZ Lambda + I| (the group effects' block)."""
        return 2.0 * float(np.sum(np.log(np.diag(self.L)[:self.n_random])))

    def inverse_blocks(self):
        Hinv = linalg.cho_solve((self.L, True), np.eye(self.L.shape[0]))
        out, k = [], 0
        for L, q in self.sizes:
            out.append(np.stack([Hinv[k + l * q:k + (l + 1) * q, k + l * q:k + (l + 1) * q]
                                 for l in range(L)]))
            k += L * q
        return out


class BlockSystem:
    """M = Z Lambda for given relative factors (and the unpenalised ``fixed`` columns after it,
    see :func:`system`); ``factor(w)`` gives the solver of H = M'WM + P, P = ``penalty``.

    ``terms``: ((GroupFactor, GroupRows), ...); ``Ts``: each term's q x q relative factor T
    (b_l = T u_l). The effects u are stacked term by term, level-major, as lme4's.
    """

    def __init__(self, terms, Ts, fixed=None):
        sizes = [f.n_levels * len(f.terms) for f, _ in terms]
        # the largest term first (its levels' blocks are eliminated one by one); ``perm`` maps
        # the internal layout to the caller's (terms in their order)
        self.order = list(np.argsort([-k for k in sizes], kind="stable"))
        self.rows = [terms[j][1] for j in self.order]
        self.L = [terms[j][0].n_levels for j in self.order]
        self.q = [len(terms[j][0].terms) for j in self.order]
        self.Ts = [np.asarray(Ts[j], dtype=float) for j in self.order]
        self.n_random = int(sum(sizes))
        if fixed is not None:  # X as one more (unpenalised) term of one level, eliminated last
            fixed = np.asarray(fixed, dtype=float)
            self.order.append(len(sizes))
            sizes.append(fixed.shape[1])
            self.rows.append(GroupRows(fixed, np.zeros(len(fixed), dtype=np.int32)))
            self.L.append(1)
            self.q.append(fixed.shape[1])
            self.Ts.append(np.eye(fixed.shape[1]))
        ext = np.cumsum([0] + sizes)
        self.perm = np.concatenate([np.arange(ext[j], ext[j + 1]) for j in self.order])
        self.bounds = np.cumsum([0] + [sizes[j] for j in self.order])
        self.size = int(self.bounds[-1])
        self.n = len(self.rows[0].index)
        self.penalty = (np.arange(self.size) < self.n_random).astype(float)  # caller's layout
        # the rows' columns times T (n, q_j): M's non-zeros, term by term
        self.ZT = [np.asarray(r.Z, dtype=float) @ T for r, T in zip(self.rows, self.Ts)]

    def _parts(self, u_int):
        return [u_int[a:b].reshape(L, q) for a, b, L, q in
                zip(self.bounds, self.bounds[1:], self.L, self.q)]

    def to_internal(self, v):
        return np.asarray(v)[self.perm]

    def to_external(self, v):
        out = np.empty_like(v)
        out[self.perm] = v
        return out

    def matvec(self, u) -> np.ndarray:
        """M u (n,)."""
        out = np.zeros(self.n)
        for zt, r, uj in zip(self.ZT, self.rows, self._parts(self.to_internal(u))):
            out += (zt * uj[r.index]).sum(axis=1)
        return out

    def rmatvec(self, g) -> np.ndarray:
        """M' g (size,)."""
        return self.to_external(np.concatenate(
            [transpose_effects(GroupRows(zt, r.index), g, L).reshape(-1)
             for zt, r, L in zip(self.ZT, self.rows, self.L)]))

    def factor(self, w) -> BlockFactor:
        return BlockFactor(self, np.asarray(w, dtype=float))


class BlockFactor:
    """The factor of H = M'WM + P (see the module docstring)."""

    def __init__(self, system: BlockSystem, w):
        s = system
        self.s = s
        q1, L1 = s.q[0], s.L[0]
        r1 = GroupRows(s.ZT[0], s.rows[0].index)
        D = level_crossprods(r1, w, L1) + np.eye(q1)  # (L1, q1, q1)
        self.cD = np.linalg.cholesky(D)
        self.Dinv = np.linalg.inv(D)  # (L1, q1, q1): D^-1 level by level
        self.m1 = L1 * q1
        m = s.size - self.m1
        self.m = m
        if m:
            # B (m1 x m): column block of each other term; C (m x m): the other terms
            cols = []
            for j in range(1, len(s.ZT)):
                cols.append(self._cross(s.ZT[0], s.rows[0].index, L1, s.ZT[j], s.rows[j].index,
                                        s.L[j], w))
            self.B = np.hstack(cols)
            C = np.zeros((m, m))
            off = np.cumsum([0] + [s.L[j] * s.q[j] for j in range(1, len(s.ZT))])
            for a in range(1, len(s.ZT)):
                for b in range(a, len(s.ZT)):
                    blk = self._cross(s.ZT[a], s.rows[a].index, s.L[a], s.ZT[b],
                                      s.rows[b].index, s.L[b], w)
                    C[off[a - 1]:off[a], off[b - 1]:off[b]] = blk
                    C[off[b - 1]:off[b], off[a - 1]:off[a]] = blk.T
            C += np.diag(s.to_internal(s.penalty)[self.m1:])
            self.DinvB = self._dsolve(self.B)  # (m1, m)
            S = C - self.B.T @ self.DinvB
            self.cS = linalg.cholesky((S + S.T) / 2, lower=True)

    @staticmethod
    def _cross(Za, ia, La, Zb, ib, Lb, w):
        """sum_i w_i (a-row of level ia_i) (b-row of level ib_i)': (La qa, Lb qb)."""
        qa, qb = Za.shape[1], Zb.shape[1]
        if La == 1 and Lb == 1:  # the fixed effects' X'WX: a product (36 segment sums of
            return (Za * w[:, None]).T @ Zb  # the (n, p, p) products took 80x as long)
        prod = (Za * w[:, None])[:, :, None] * Zb[:, None, :]  # (n, qa, qb)
        out = segment_sum_np(prod, np.asarray(ia, dtype=np.int64) * Lb + ib, La * Lb)
        return out.reshape(La, Lb, qa, qb).transpose(0, 2, 1, 3).reshape(La * qa, Lb * qb)

    def _dsolve(self, R):
        """D^-1 R for R (m1,) or (m1, k), level by level."""
        q1 = self.s.q[0]
        vec = R.ndim == 1
        Rb = R.reshape(self.s.L[0], q1, -1)
        x = np.matmul(self.Dinv, Rb).reshape(self.m1, -1)
        return x[:, 0] if vec else x

    def solve(self, r) -> np.ndarray:
        """H^-1 r."""
        r = self.s.to_internal(r)
        r1, r2 = r[:self.m1], r[self.m1:]
        if not self.m:
            return self.s.to_external(self._dsolve(r1))
        x2 = linalg.cho_solve((self.cS, True), r2 - self.DinvB.T @ r1)
        x1 = self._dsolve(r1 - self.B @ x2)
        return self.s.to_external(np.concatenate([x1, x2]))

    def logdet(self) -> float:
        """log|Lambda'Z'WZ Lambda + I| (the group effects' block: log|H| without fixed)."""
        ld = 2.0 * float(np.sum(np.log(np.diagonal(self.cD, axis1=1, axis2=2))))
        if self.m:
            ld += 2.0 * float(np.sum(np.log(np.diag(self.cS)[:self.s.n_random - self.m1])))
        return ld

    def inverse_blocks(self) -> list[np.ndarray]:
        """Per term (the caller's order), the (levels, q, q) diagonal blocks of H^-1."""
        s = self.s
        q1, L1 = s.q[0], s.L[0]
        Dinv = self.Dinv
        out = [Dinv]
        if self.m:
            Sinv = linalg.cho_solve((self.cS, True), np.eye(self.m))
            E = self.DinvB.reshape(L1, q1, self.m)
            out[0] = Dinv + np.einsum("lik,kj,lmj->lim", E, Sinv, E)
            off = 0
            for j in range(1, len(s.ZT)):
                L, q = s.L[j], s.q[j]
                blk = Sinv[off:off + L * q, off:off + L * q].reshape(L, q, L, q)
                out.append(np.stack([blk[lv, :, lv, :] for lv in range(L)]))
                off += L * q
        back = [None] * len(out)
        for internal, j in enumerate(s.order):
            back[j] = out[internal]
        return back
