"""Does the maximum-likelihood estimate exist? Exact checks by linear programming.

The MLE of a GLM fails to exist when the likelihood keeps increasing along a direction ``b``
of the coefficients, so that IRLS drifts off to infinity while the deviance creeps towards its
infimum and R's relative-deviance rule eventually calls it "converged":

* **separation** (Binomial, any link): ``x_i'b >= 0`` wherever every trial succeeded,
  ``x_i'b <= 0`` wherever every trial failed, and ``x_i'b = 0`` on the other rows, with at least
  one inequality strict (Albert and Anderson 1984; the linear program of Konis 2007, as in R's
  ``detectseparation``);
* **zero-count directions** (Poisson and negative binomial with the log link, the count
  analogue): ``x_i'b = 0`` wherever ``y_i > 0`` and ``x_i'b <= 0`` wherever ``y_i = 0``, at least
  one strictly: a factor level whose counts are all zero, an all-zero response. R warns "fitted
  rates numerically 0".

Both are one linear program: maximise the sum of the allowed one-sided margins over a box
``|b_j| <= 1`` (columns scaled to unit maximum); the MLE exists iff the maximum is 0. The
program is only solved when the fit shows a hint of it (fitted means near the boundary), so a
regular fit pays nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["boundary_hint", "divergent_direction", "direction_names"]

#: the largest design (rows x columns) the linear program is solved for (HiGHS: ~0.3 s at
#: 10,000 x 20, ~30 s at 1e6 x 20); beyond, the cheaper test on IRLS's last step decides
#: (:func:`step_is_divergent`)
LP_MAX_CELLS = 200_000

#: rows per block of the checks over all rows (their temporaries stay small at any n)
BLOCK_ROWS = 1 << 16


def boundary_hint(mu: np.ndarray, deviance: float, tol: float, *, binomial: bool,
                  weights: np.ndarray | None = None, cap: float = np.inf) -> bool:
    """Whether some fitted mean is close enough to the boundary (0, or 1 for Binomial) to be
    a row IRLS was still pushing there when it stopped.

    A row drifting to the boundary adds about ``2 w_i m_i`` to the deviance, ``m_i`` its mean's
    distance from the boundary, which IRLS shrinks by a constant factor per iteration; it stops
    once the deviance changes by less than ``tol (|dev| + 0.1)``. Rows within 100 times that
    (at most ``cap``) are candidates (the linear program then decides).
    """
    thresh = max(min(100.0 * tol * (abs(deviance) + 0.1), cap), np.sqrt(np.finfo(float).eps))
    for i in range(0, len(mu), BLOCK_ROWS):  # by row blocks: no n-vector temporaries
        m = mu[i:i + BLOCK_ROWS]
        dist = np.minimum(m, 1.0 - m) if binomial else np.abs(m)
        if weights is not None:
            w = weights[i:i + BLOCK_ROWS]
            dist = dist * np.where(w > 0, w, np.inf)
        if np.any(dist < thresh):
            return True
    return False


def _signs(y: np.ndarray, *, binomial: bool) -> np.ndarray:
    """+1 where x'b may be >= 0, -1 where it may be <= 0, 0 where it must be 0."""
    if binomial:
        return np.where(y >= 1.0, 1, np.where(y <= 0.0, -1, 0))
    return np.where(y <= 0.0, -1, 0)


def divergent_direction(X: np.ndarray, y: np.ndarray, *, binomial: bool,
                        weights: np.ndarray | None = None) -> np.ndarray | None:
    """A direction ``b`` along which the likelihood increases without bound, or None.

    ``y`` is the response on the mean scale (Binomial: the proportion of successes); rows with
    zero weight are left out. Returns ``b`` on the original scale of the columns of ``X``.
    """
    from scipy.optimize import linprog

    keep = np.ones(len(y), bool) if weights is None else weights > 0
    X, y = X[keep], y[keep]
    sign = _signs(y, binomial=binomial)
    if not np.any(sign != 0):
        return None
    const = np.flatnonzero(np.all(X == X[:1], axis=0) & (X[0] != 0))
    if const.size and np.all(sign == sign[0]):
        # an all-0 / all-1 (all-zero count) response: the intercept alone runs off
        b = np.zeros(X.shape[1])
        b[const[0]] = sign[0] / X[0, const[0]]
        return b
    scale = np.max(np.abs(X), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Xs = X / scale
    # duplicate rows (factor designs) give the same constraint: keep one of each
    _, first = np.unique(np.column_stack([Xs, sign]), axis=0, return_index=True)
    Xs, sign = Xs[first], sign[first]
    p = Xs.shape[1]
    ineq, eq = sign != 0, sign == 0
    # maximise sum_i sign_i x_i'b  <=>  minimise -(sign' Xs) b
    c = -(sign[ineq][:, None] * Xs[ineq]).sum(axis=0)
    a_ub = -(sign[ineq][:, None] * Xs[ineq])  # sign_i x_i'b >= 0
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(a_ub.shape[0]),
        A_eq=Xs[eq] if eq.any() else None,
        b_eq=np.zeros(int(eq.sum())) if eq.any() else None,
        bounds=[(-1.0, 1.0)] * p,
        method="highs",
    )
    if res.status != 0:
        return None
    margin = -res.fun
    if not np.isfinite(margin) or margin <= 1e-7 * max(1.0, np.abs(c).sum()):
        return None
    b = np.asarray(res.x)
    b = np.where(np.abs(b) > 1e-9, b, 0.0)
    return b / scale


def step_is_divergent(X: np.ndarray, y: np.ndarray, step: np.ndarray, *, binomial: bool) -> bool:
    """The cheap test for designs too big for the linear program: does IRLS's last step ``s``
    satisfy the divergence's sign pattern (:func:`divergent_direction`)?"""
    blocks = range(0, len(y), BLOCK_ROWS)  # by row blocks: no n-vector temporaries
    scale = max((float(np.max(np.abs(X[i:i + BLOCK_ROWS] @ step), initial=0.0))
                 for i in blocks), default=0.0)
    if not np.isfinite(scale) or scale < 1e-3:
        return False
    tol = 1e-3 * scale
    for i in blocks:
        s = X[i:i + BLOCK_ROWS] @ step
        sign = _signs(y[i:i + BLOCK_ROWS], binomial=binomial)
        if not (np.all(s[sign > 0] >= -tol) and np.all(s[sign < 0] <= tol)
                and np.all(np.abs(s[sign == 0]) <= tol)):
            return False
    return True


def direction_names(X: np.ndarray, b: np.ndarray, names) -> list[str]:
    """The coefficients that move along the divergent direction ``b``: slopes (in units of
    their column's sd) within 5% of the largest move; the intercept only when nothing else
    moves (an all-0/all-1 or all-zero response)."""
    sd = X.std(axis=0)
    const = sd == 0
    load = np.abs(b) * np.where(const, 1.0, sd)
    idx = [j for j in range(len(b)) if not const[j] and load[j] > 0.05 * load[~const].max(initial=0)]
    if not idx or load[idx].max() == 0:
        idx = [j for j in range(len(b)) if const[j] and load[j] > 0] or [int(np.argmax(load))]
    return [names[j] for j in idx]
