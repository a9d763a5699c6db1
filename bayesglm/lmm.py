"""The linear mixed model's maximum likelihood (and REML), as ``lme4::lmer``.

The profiled deviance of Bates, Maechler, Bolker & Walker (2015, "Fitting linear mixed-effects
models using lme4", J. Stat. Softw. 67(1), sections 3.1-3.6). The group effects are
b = Lambda_theta u with u ~ N(0, sigma^2 I); Lambda_theta is block diagonal, for each term the
lower-triangular q x q factor T (its entries theta, by column, lme4's order) repeated over the
term's levels (diagonal for ``||`` terms). For a given theta the penalised least-squares problem

    min_{u, beta} ||y - X beta - Z Lambda u||^2 + ||u||^2

is solved exactly (Cholesky factors L of Lambda'Z'Z Lambda + I and R_X of the Schur complement in
beta), and the deviance is profiled over beta and sigma:

    ML:   -2 l = log|L|^2 + n (1 + log(2 pi r^2 / n))
    REML: -2 l_R = log|L|^2 + log|R_X|^2 + (n - p) (1 + log(2 pi r^2 / (n - p)))

(lme4's REML criterion, without the 1/2 log|X'X| term). theta is found by a bounded
quasi-Newton search (the diagonal of each T is >= 0), then beta, sigma, the covariance of beta
(sigma^2 (R_X'R_X)^-1, lmer's ``vcov``) and the conditional modes follow.

Z Lambda is formed densely for up to ``DENSE_EFFECTS_MAX`` group effects, else handled level by
level (:mod:`bayesglm.group_solve`, as for the GLMM). Terms are given as
:class:`~bayesglm.group_design.GroupFactor` / :class:`~bayesglm.group_design.GroupRows` pairs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import linalg, optimize

from .group_design import GroupFactor, GroupRows
from .group_solve import modes_and_sds, system

__all__ = ["LMMFit", "fit_lmm", "theta_layout", "relative_factors", "marginal_deviance",
           "off_the_bound", "BOUND_PROBES"]


class LMMFit(NamedTuple):
    """The numbers of a linear mixed-model fit (NumPy)."""

    params: np.ndarray  # (p,) fixed effects
    cov_params: np.ndarray  # (p, p) sigma^2 (R_X'R_X)^-1
    theta: np.ndarray  # the relative covariance factors' entries, lme4's order
    sigma: float  # residual sd
    covariances: tuple  # per term: sigma^2 T T' (q_j, q_j)
    modes: tuple  # per term: (L_j, q_j) conditional modes of b
    cond_sd: tuple  # per term: (L_j, q_j) conditional sds (lme4's condVar)
    deviance: float  # -2 logLik (ML) or the REML criterion
    llf: float  # lme4's logLik (REML: -REMLcrit / 2)
    reml: bool
    n_params: int  # p + number of theta + 1 (sigma): lme4's logLik df
    converged: bool
    n_evals: int


def theta_layout(factor: GroupFactor) -> list[tuple[int, int]]:
    """(row, col) of each theta entry of a term's factor T: the lower triangle by column."""
    q = len(factor.terms)
    if not factor.correlated:
        return [(k, k) for k in range(q)]
    return [(i, j) for j in range(q) for i in range(j, q)]


def relative_factors(terms, theta):
    """The T matrices of the terms from the flat theta."""
    out, k = [], 0
    for factor, _ in terms:
        q = len(factor.terms)
        T = np.zeros((q, q))
        for i, j in theta_layout(factor):
            T[i, j] = theta[k]
            k += 1
        out.append(T)
    return out


def _solve(X, y, sysm, reml: bool, w=None):
    """The penalised least squares at one theta: (deviance, beta, u, r2, factor, RX).

    ``sysm``: the system of M = Z Lambda (:func:`bayesglm.group_solve.system`), dense or by
    levels. ``w``: frequency weights (row i counted w_i times: n is their sum).
    """
    p = X.shape[1]
    w = np.ones(len(y)) if w is None else w
    n = float(w.sum())
    F = sysm.factor(w)  # M'WM + I
    MX = np.column_stack([sysm.rmatvec(w * X[:, j]) for j in range(p)])
    My = sysm.rmatvec(w * y)
    cx = F.solve(MX)
    cy = F.solve(My)
    S = X.T @ (w[:, None] * X) - MX.T @ cx
    RX = linalg.cholesky((S + S.T) / 2, lower=False)
    beta = linalg.cho_solve((RX, False), X.T @ (w * y) - MX.T @ cy)
    u = cy - cx @ beta
    resid = y - X @ beta - sysm.matvec(u)
    r2 = float(resid @ (w * resid) + u @ u)
    logdet = F.logdet()
    if reml:
        dof = n - p
        dev = logdet + 2.0 * float(np.sum(np.log(np.abs(np.diag(RX))))) + dof * (
            1.0 + math.log(2.0 * math.pi * r2 / dof))
    else:
        dev = logdet + n * (1.0 + math.log(2.0 * math.pi * r2 / n))
    return dev, beta, u, r2, F, RX


#: a diagonal theta that a search leaves on its bound 0 is probed at these values: the deviance
#: (lmer's profiled one, glmer's Laplace one) is even in each such theta, so 0 is a stationary
#: point where a gradient search can stop after a step that overshot onto the bound, with a lower
#: deviance further out (an ordinal model's group sd, 0.5 in the simulation, and a linear mixed
#: model's, 0.26 with -2 log L 3.6 lower, both first ended at 0 with a singular-fit warning)
BOUND_PROBES = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])


def off_the_bound(fun, x, f, bounds):
    """Where to restart a search that ended at ``x`` (value ``f``) with diagonal thetas on
    their bound 0 (``bounds``: theta's): the best of :data:`BOUND_PROBES` in each such
    coordinate where one is lower than ``f``; None where none is (a singular fit)."""
    best, best_f = None, f - 1e-8 * (abs(f) + 1.0)
    for k, (lo, _) in enumerate(bounds):
        if lo == 0.0 and x[k] <= 1e-8:
            for v in BOUND_PROBES:
                cand = np.array(x, dtype=float)
                cand[k] = v
                fv = fun(cand)
                if np.isfinite(fv) and fv < best_f:
                    best, best_f = cand, fv
    return best


def fit_lmm(X: np.ndarray, y: np.ndarray, terms: list[tuple[GroupFactor, GroupRows]], *,
            reml: bool = False, tol: float = 1e-12, maxiter: int = 1000,
            dense: bool | None = None, weights=None) -> LMMFit:
    """ML (or REML) fit of y = X beta + sum_j Z_j b_j + e, b_j ~ N(0, Sigma_j) per level.
    ``weights``: frequency weights (the likelihood of the data with row i repeated w_i
    times)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)
    p = X.shape[1]
    n = len(y) if w is None else float(w.sum())
    layout = [theta_layout(f) for f, _ in terms]
    start = np.array([1.0 if i == j else 0.0 for lay in layout for i, j in lay])
    bounds = [(0.0, None) if i == j else (None, None) for lay in layout for i, j in lay]

    def deviance(theta):
        return _solve(X, y, system(terms, relative_factors(terms, theta), dense), reml, w)[0]

    opts = {"ftol": tol, "gtol": 1e-10, "maxiter": maxiter, "maxfun": 20 * maxiter}
    res = optimize.minimize(deviance, start, method="L-BFGS-B", bounds=bounds, options=opts)
    restart = off_the_bound(deviance, res.x, res.fun, bounds)
    if restart is not None:
        nfev = res.nfev
        res = optimize.minimize(deviance, restart, method="L-BFGS-B", bounds=bounds,
                                options=opts)
        res.nfev += nfev + BOUND_PROBES.size
    theta = res.x
    Ts = relative_factors(terms, theta)
    dev, beta, u, r2, F, RX = _solve(X, y, system(terms, Ts, dense), reml, w)
    sigma2 = r2 / ((n - p) if reml else n)
    cov_params = sigma2 * linalg.cho_solve((RX, False), np.eye(p))
    modes, cond_sd = modes_and_sds(terms, Ts, u, F, sigma2)
    covariances = tuple(sigma2 * T @ T.T for T in Ts)
    return LMMFit(
        params=beta, cov_params=(cov_params + cov_params.T) / 2, theta=theta,
        sigma=math.sqrt(sigma2), covariances=covariances, modes=modes,
        cond_sd=cond_sd, deviance=float(dev), llf=-float(dev) / 2.0, reml=reml,
        n_params=p + len(theta) + 1, converged=bool(res.success), n_evals=int(res.nfev),
    )


def marginal_deviance(X, y, terms, weights=None):
    """``f(theta, beta, sigma)``: -2 log p(y | theta, beta, sigma) of the linear mixed model, not
    profiled (the Bayesian fit's start takes its curvature in the covariance parameters).

    With M = Z Lambda_theta and u ~ N(0, sigma^2 I), y ~ N(X beta, sigma^2 (M M' + I)), so
    -2 log p = n log(2 pi sigma^2) + log|M'M + I| + min_u (||r - M u||^2 + ||u||^2) / sigma^2,
    r = y - X beta (``weights``: frequency weights, W in M'WM and the squares, n their sum).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    n = float(w.sum())

    def f(theta, beta, sigma):
        sysm = system(terms, relative_factors(terms, theta))
        r = y - X @ beta
        F = sysm.factor(w)
        u = F.solve(sysm.rmatvec(w * r))
        e = r - sysm.matvec(u)
        pen = float(e @ (w * e) + u @ u)
        return n * math.log(2 * math.pi * sigma**2) + F.logdet() + pen / sigma**2

    return f
