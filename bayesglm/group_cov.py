"""The group terms' covariance parameters in the sampler's coordinates, and back.

Each term ``(terms | group)`` with q columns has the covariance Sigma = C C' of its effects per
level, C = diag(sd) L with L the Cholesky factor of the correlation matrix. The sampler's
coordinates of a term (a slice of the model's ``theta`` site) are

* the q log sd's, then
* for a correlated term with q > 1, the q (q - 1) / 2 unconstrained values of L in NumPyro's
  ``CorrCholeskyTransform`` layout (the strictly lower triangle by rows, through tanh and a
  signed stick-breaking of each row).

The group effects of a term are non-centred, b_l = C z_l with z_l ~ N(0, I) for level l, or
centred, z_l = b_l ~ N(0, C C') (``TermLayout.centred``), or, for an uncorrelated term (C =
diag(sd)), partially non-centred, b_lk = sd_k^w_lk z_lk with a weight per level and column
(``TermLayout.partial``; the weights are numbers of the model, 0 centred, 1 non-centred). The
model's ``z`` site holds every term's (levels, q) block, flattened. lme4's relative factor is T = C (GLMM) or C / sigma
(LMM), so lme4's spherical modes are u = C^-1 b (times sigma for the LMM).

The JAX side (the model) uses NumPyro's transform; the NumPy functions here are its twin for the
host (starts, draws), checked against it in the tests.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TermLayout", "layouts", "corr_cholesky", "corr_unconstrained", "term_theta",
           "theta_draws", "lme4_theta"]


class TermLayout(NamedTuple):
    """Where one term's parameters sit in ``theta`` and ``z`` (hashable: a compiled model's
    key holds it)."""

    q: int
    n_levels: int
    correlated: bool  # False for ||, and for q = 1
    theta_span: tuple  # (start, stop) in theta
    z_span: tuple  # (start, stop) in z
    centred: bool = False  # z holds the effects b themselves (else b_l = C z_l)
    #: an uncorrelated term's b_lk = sd_k^w_lk z_lk, the weights w (levels, q) in its numbers
    partial: bool = False

    @property
    def theta(self) -> slice:
        return slice(*self.theta_span)

    @property
    def z(self) -> slice:
        return slice(*self.z_span)

    @property
    def n_corr(self) -> int:
        return self.q * (self.q - 1) // 2 if self.correlated else 0


def layouts(groups, centred=None, partial=None) -> tuple[TermLayout, ...]:
    """The layout of every term of ``groups`` ((GroupFactor, GroupRows) pairs, or factors);
    ``centred``, ``partial``: a flag per term (default: every term non-centred)."""
    out, t, z = [], 0, 0
    from .group_design import GroupFactor

    flags = list(centred) if centred is not None else [False] * len(groups)
    partial = list(partial) if partial is not None else [False] * len(groups)
    for g, flag, part in zip(groups, flags, partial):
        factor = g if isinstance(g, GroupFactor) else g[0]
        q, L = len(factor.terms), factor.n_levels
        corr = factor.correlated and q > 1
        k = q + (q * (q - 1) // 2 if corr else 0)
        if part and corr:
            raise ValueError("a correlated term cannot be partially non-centred")
        out.append(TermLayout(q, L, corr, (t, t + k), (z, z + L * q), bool(flag) and not part,
                              bool(part)))
        t, z = t + k, z + L * q
    return tuple(out)


def corr_cholesky(x: np.ndarray, q: int) -> np.ndarray:
    """L (..., q, q) from the unconstrained (..., q (q - 1) / 2), as NumPyro's transform."""
    x = np.asarray(x, dtype=float)
    t = np.tanh(x)
    L = np.zeros(x.shape[:-1] + (q, q))
    L[..., 0, 0] = 1.0
    k = 0
    for i in range(1, q):
        rest = np.ones(x.shape[:-1])
        for j in range(i):
            L[..., i, j] = t[..., k] * np.sqrt(rest)
            rest = rest - L[..., i, j] ** 2
            k += 1
        L[..., i, i] = np.sqrt(np.clip(rest, 0.0, None))
    return L


def corr_unconstrained(L: np.ndarray, clip: float = 1 - 1e-6) -> np.ndarray:
    """The inverse of :func:`corr_cholesky`; correlations of +-1 are pulled in to ``clip``."""
    L = np.asarray(L, dtype=float)
    q = L.shape[-1]
    out = []
    for i in range(1, q):
        rest = np.ones(L.shape[:-2])
        for j in range(i):
            t = L[..., i, j] / np.sqrt(np.clip(rest, 1e-300, None))
            out.append(np.arctanh(np.clip(t, -clip, clip)))
            rest = rest - L[..., i, j] ** 2
    return np.stack(out, axis=-1) if out else np.zeros(L.shape[:-2] + (0,))


def term_theta(cov: np.ndarray, lay: TermLayout, sd_floor: float) -> np.ndarray:
    """A term's sampler coordinates from its covariance matrix (sd's floored at ``sd_floor``)."""
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sd_start = np.maximum(sd, sd_floor)
    parts = [np.log(sd_start)]
    if lay.correlated:
        safe = np.where(sd > 0, sd, 1.0)
        corr = cov / np.outer(safe, safe)
        corr[np.ix_(sd == 0, range(lay.q))] = 0.0
        corr[np.ix_(range(lay.q), sd == 0)] = 0.0
        np.fill_diagonal(corr, 1.0)
        w, V = np.linalg.eigh((corr + corr.T) / 2)  # nearest correlation matrix with room
        corr = V @ np.diag(np.clip(w, 1e-6, None)) @ V.T
        d = np.sqrt(np.diag(corr))
        corr = corr / np.outer(d, d)
        parts.append(corr_unconstrained(np.linalg.cholesky(corr)))
    return np.concatenate(parts)


class TermDraws(NamedTuple):
    sd: np.ndarray  # (..., q)
    chol: np.ndarray  # (..., q, q): C = diag(sd) L


def theta_draws(theta: np.ndarray, lay: TermLayout) -> TermDraws:
    """sd's and C of a term from draws (..., k) of its sampler coordinates."""
    theta = np.asarray(theta, dtype=float)
    sd = np.exp(theta[..., :lay.q])
    if lay.correlated:
        L = corr_cholesky(theta[..., lay.q:], lay.q)
    else:
        L = np.broadcast_to(np.eye(lay.q), theta.shape[:-1] + (lay.q, lay.q))
    return TermDraws(sd, sd[..., :, None] * L)


def lme4_theta(theta: np.ndarray, lays, factors, unit: float = 1.0) -> np.ndarray:
    """lme4's theta (the relative factors' lower triangles by column) from sampler coordinates;
    ``unit`` is sigma for a linear mixed model (T = C / sigma), 1 for a GLMM."""
    from .lmm import theta_layout

    out = []
    for lay, factor in zip(lays, factors):
        C = theta_draws(theta[lay.theta], lay).chol / unit
        out += [C[i, j] for i, j in theta_layout(factor)]
    return np.asarray(out)
