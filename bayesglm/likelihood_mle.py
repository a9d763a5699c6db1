"""Maximum likelihood of a :class:`~bayesglm.families.LikelihoodFamily`: Newton's method in JAX.

The parameters are theta = (beta, u): the coefficients and the extra parameters on the real
line (:mod:`bayesglm.transforms`, NumPyro's coordinates). The objective is the exact negative
log-likelihood, frequency weights counting rows; its gradient and Hessian come from JAX's
autodiff, so that the standard errors are those of the observed information, as glmmTMB's
(TMB's automatic Hessian) and the ones the references compute.

Newton's method, a host loop around two compiled programs: each step solves with the Hessian whose
eigenvalues are made positive (|lambda|, floored relative to the largest), so a step is always
a descent direction; the step is capped and halved until the Armijo condition holds. It stops
when the Newton decrement g' H^-1 g / 2 falls below ``tol**2`` (the step then moves theta by
about ``tol`` standard errors), after that last step is taken. The start: the coefficients of an
IRLS fit of the family's ``start_family`` (which also catches rank deficiency, naming the
columns, and separation) and the family's moment estimates of the extra parameters. Where
Newton's method ends unconverged or on a flat Hessian, the flattest direction is walked out: if
the log-likelihood keeps rising along it, the MLE does not exist (a separation in a part of the
model IRLS does not see, such as the zero model of a zero-inflated family) and the coordinates
running off are named.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import transforms as T
from ._warnings import ConvergenceWarning, SeparationWarning, warn
from ._xla import jit
from .design import Design
from .families.likelihood import FAR, LikelihoodFamily

__all__ = ["LikelihoodFit", "fit_likelihood", "natural_scale", "pack", "unpack", "at_limits",
           "start_values"]

#: a Newton step moves no coordinate of theta by more than this (a start far from the top, or a
#: parameter running off to its limit, would otherwise jump to where the density underflows)
MAX_STEP = 5.0
#: eigenvalues of the Hessian are floored at this fraction of the largest one
EIG_FLOOR = 1e-10
#: step halvings before the line search gives up
MAX_HALVINGS = 50


class LikelihoodFit(NamedTuple):
    """The numbers of an exact-likelihood fit (NumPy, host side)."""

    names: tuple  # params' names: the coefficients, then the extra parameters' entries
    params: np.ndarray  # beta, then the extra parameters' constrained values
    theta: np.ndarray  # beta, then u (unconstrained)
    cov_theta: np.ndarray  # inverse observed information in theta
    cov: np.ndarray  # covariance of params (delta method), of cov_type
    cov_type: str
    extra: dict  # name -> constrained value (float, or an array for a vector parameter)
    eta: np.ndarray
    mu: np.ndarray
    llf: float
    n_iter: int
    converged: bool
    max_grad: float  # largest |gradient| entry at the estimate
    k_params: int
    limits: tuple = ()  # the extra parameters that ran off to a limit (warned about)
    separated: bool = False  # no MLE along a direction of theta: by the start's IRLS, or a
    # direction of recession at the end of Newton's method (warned about)


def natural_scale(family: LikelihoodFamily, theta: np.ndarray, cov_theta: np.ndarray,
                  p: int) -> tuple[np.ndarray, np.ndarray]:
    """(the parameters on their natural scale, their covariance by the delta method) from
    theta = (beta, u) with covariance ``cov_theta``; ``p`` coefficients come first."""
    J = np.eye(theta.size)
    pos = p
    values = [theta[:p]]
    for q in family.extra_params():
        u = theta[pos:pos + q.size]
        J[pos:pos + q.size, pos:pos + q.size] = T.jacobian(q, u)
        values.append(np.atleast_1d(T.to_constrained(q, u)))
        pos += q.size
    return np.concatenate(values), J @ cov_theta @ J.T


def pack(family: LikelihoodFamily, extra: dict, xp=np):
    """The unconstrained vector u of the (estimated) extra parameters' values."""
    return T.pack(family.extra_params(), extra, xp)


def unpack(family: LikelihoodFamily, u, xp=np) -> dict:
    """Constrained values by name from u (scalars as 0-d), the fixed ones added."""
    return {**T.unpack(family.extra_params(), u, xp), **family.fixed_extra()}


def _negloglik(family, p, X, y, offset, weights, trials, aux):
    def f(theta):
        eta = X @ theta[:p]
        if offset is not None:
            eta = eta + offset
        ll = family.loglike(y, eta, unpack(family, theta[p:], jnp), trials, aux)
        return -jnp.sum(ll if weights is None else weights * ll)
    return f


class _Rows(NamedTuple):
    """The rows as the compiled objective takes them (device arrays; None where absent)."""

    X: jax.Array
    y: jax.Array
    offset: object
    weights: object
    trials: object
    aux: object  # the family's extra design matrices by name, or None


@jit(static_argnames=("family",))
def _value(family, rows: _Rows, theta):
    return _negloglik(family, rows.X.shape[1], *rows)(theta)


@jit(static_argnames=("family",))
def _derivatives(family, rows: _Rows, theta):
    """(value, gradient, Hessian) of the negative log-likelihood at theta."""
    f = _negloglik(family, rows.X.shape[1], *rows)
    value, g = jax.value_and_grad(f)(theta)
    return value, g, jax.hessian(f)(theta)


def _newton(family, rows: _Rows, theta0: np.ndarray, maxiter: int, tol: float):
    """Newton's method (see the module): (theta, f, iterations, converged, g, H, moved), with
    ``moved`` theta's change over the last (up to) ten iterations.

    The loop runs on the host around two compiled programs, the objective and its derivatives:
    one compilation of each per (family, shape), a few dispatches per iteration (a loop
    compiled whole took ~2x as long to compile, the Hessian's program traced twice in it).
    """
    eps = np.finfo(float).eps
    theta = np.asarray(theta0, dtype=float)
    f, g, H = (np.asarray(a) for a in _derivatives(family, rows, theta))
    converged, it = False, 0
    recent = [theta]
    while it < maxiter:
        it += 1
        lam, V = np.linalg.eigh(0.5 * (H + H.T)) if np.all(np.isfinite(H)) else (None, None)
        if lam is None or not np.all(np.isfinite(g)):
            break
        lam = np.maximum(np.abs(lam), max(EIG_FLOOR * np.max(np.abs(lam)), np.finfo(float).tiny))
        d = -V @ ((V.T @ g) / lam)
        dec = -0.5 * float(g @ d)
        d = d * min(1.0, MAX_STEP / max(float(np.max(np.abs(d))), MAX_STEP * eps))
        slope = float(g @ d)
        near = dec < 1e-8  # steps below f's rounding: accept what does not rise beyond it
        t, accepted = 1.0, False
        for _ in range(MAX_HALVINGS):
            fn = float(_value(family, rows, theta + t * d))
            if np.isfinite(fn) and (fn <= f + 1e-4 * t * slope
                                    or (near and fn <= f + 16 * eps * (abs(f) + 1.0))):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            converged = near
            break
        theta = theta + t * d
        recent = (recent + [theta])[-11:]
        f, g, H = (np.asarray(a) for a in _derivatives(family, rows, theta))
        if dec < tol * tol:
            converged = True
            break
    return theta, f, it, converged, g, H, theta - recent[0]


#: a direction of recession: the objective falls (beyond rounding) at each of the first
#: RECEDE_STEPS doublings of the step along it, by less than RECEDE_GAIN in all
RECEDE_STEPS = 4
RECEDE_GAIN = 1e-4


def _recession(family, rows: _Rows, theta: np.ndarray, f: float, H: np.ndarray,
               moved: np.ndarray, names: list) -> list[tuple[str, float]]:
    """The coordinates along which the log-likelihood keeps rising toward a limit at infinity
    (the MLE does not exist), as (name, direction +1/-1), or [] where there is no such
    direction.

    Two directions are tried: where Newton's last iterations were heading (``moved``), and the
    flattest direction of the Hessian, each way, scaled so that the largest coordinate moves 1.
    Each is walked in doubling steps (1, 2, 4, ... up to 2**10, until the objective rises): it
    is a direction of recession where the objective keeps falling, beyond rounding, over the
    first RECEDE_STEPS doublings (a finite maximum that Newton is converging to lies within
    about one step of its last moves) while all it gains is below RECEDE_GAIN (the log-
    likelihood is flat there: what is left lies at infinity, not at a far finite point). The
    coordinates that carry at least a fifth of the direction are named."""
    directions = []
    if np.all(np.isfinite(moved)) and np.max(np.abs(moved)) > 0:
        directions.append(moved / np.max(np.abs(moved)))
    if np.all(np.isfinite(H)):
        lam, V = np.linalg.eigh(0.5 * (H + H.T))
        v = V[:, int(np.argmin(np.abs(lam)))]
        directions += [v / np.max(np.abs(v)), -v / np.max(np.abs(v))]
    rounding = 16 * np.finfo(float).eps * (abs(f) + 1.0)
    for v in directions:
        last, falls = f, 0
        for t in 2.0 ** np.arange(11):
            ft = float(_value(family, rows, theta + t * v))
            if not (np.isfinite(ft) and ft < last - rounding):
                break
            last, falls = ft, falls + 1
        if falls >= RECEDE_STEPS and f - last < RECEDE_GAIN:
            return [(names[j], float(np.sign(v[j]))) for j in np.flatnonzero(np.abs(v) >= 0.2)]
    return []


@jit(static_argnames=("family",))
def _row_scores(family, rows_: _Rows, theta):
    """Each row's score in theta, (n, p + k): x_i dl_i/deta_i and dl_i/du."""
    X, y, offset, _, trials, aux = rows_
    p = X.shape[1]
    eta = X @ theta[:p] + (0.0 if offset is None else offset)

    def rows(eta_, u):
        return family.loglike(y, eta_, unpack(family, u, jnp), trials, aux)

    d_eta = jax.grad(lambda e: jnp.sum(rows(e, theta[p:])))(eta)
    d_u = jax.jacfwd(lambda u: rows(eta, u))(theta[p:])
    return jnp.concatenate([X * d_eta[:, None], d_u], axis=1)


def at_limits(family: LikelihoodFamily, extra: dict, *, warn_each: bool = False) -> list:
    """The scalar extra parameters whose estimate (``extra``: constrained values by name) ran
    off to a limit of their support (beyond :data:`~bayesglm.families.likelihood.FAR`, or
    within 1 / FAR of 0 or of a probability's 1) and that say what that means: (Param, value,
    the text), the likelihood still rising toward the limit. ``warn_each``: a
    ConvergenceWarning for each (the plain fit's and the mixed fit's)."""
    out = []
    for q in family.extra_params():
        if q.size != 1 or q.support not in ("positive", "unit") or q.name not in extra:
            continue
        v = float(extra[q.name])
        high = v > FAR if q.support == "positive" else v > 1.0 - 1.0 / FAR
        low = v < 1.0 / FAR
        text = q.limit if high else q.limit_low if low else None
        if text is not None:
            out.append((q, v, text))
            if warn_each:
                warn(f"{family.name}: {text} (its maximum-likelihood estimate is {v:.3g}); the "
                     "estimate and its standard error are meaningless.", ConvergenceWarning)
    return out


def start_values(design: Design, family: LikelihoodFamily) -> tuple[np.ndarray, bool]:
    """(theta's start, separated): the start family's IRLS coefficients and the family's moment
    estimates; separated where that IRLS fit found the data separated (its warning is passed
    on: the coefficients diverge in this likelihood too)."""
    from .mle import check_full_rank, fit_mle  # IRLS, its rank and separation checks

    start = family.start_family()
    if start is None:
        check_full_rank(design.X, design.names)
        beta = np.zeros(design.X.shape[1])
        extra = family.start_extra(design.y, None, design.trials, design.weights, design.aux)
        return np.concatenate([beta, pack(family, extra)]), False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_mle(design, start)
    separated = False
    for w in caught:  # separation applies to this likelihood too; IRLS's own convergence not
        if issubclass(w.category, SeparationWarning):
            warn(w.message, w.category)
            separated = True
    beta = np.asarray(fit.params, dtype=float)
    if not np.all(np.isfinite(beta)):
        beta = np.zeros_like(beta)
    mu = np.asarray(fit.mu, dtype=float)
    extra = family.start_extra(design.y, mu, design.trials, design.weights, design.aux)
    return np.concatenate([beta, pack(family, extra)]), separated


def fit_likelihood(design: Design, family: LikelihoodFamily, *, maxiter: int = 100,
                   tol: float = 1e-8, cov_type: str = "nonrobust") -> LikelihoodFit:
    """Maximum likelihood of ``family`` on ``design`` by Newton's method (see the module)."""
    if cov_type not in ("nonrobust", "HC0", "HC1"):
        raise ValueError(f"cov_type: the {family.name} family has 'nonrobust', 'HC0' and 'HC1' "
                         f"(a sandwich of the observed information and the rows' scores; HC2 "
                         f"and HC3 need IRLS's hat values); got {cov_type!r}")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    theta0, separated = start_values(design, family)
    put = jax.device_put
    opt = lambda a: None if a is None else put(a)  # noqa: E731
    X, y = put(design.X), put(design.y)
    off, w, trials = opt(design.total_offset), opt(design.weights), opt(design.trials)
    aux = None if design.aux is None else {k: put(v) for k, v in design.aux.items()}
    rows = _Rows(X, y, off, w, trials, aux)
    theta, f, n_iter, converged, g, H, moved = _newton(family, rows, theta0, maxiter, tol)
    p = design.X.shape[1]
    params_spec = family.extra_params()

    H = 0.5 * (H + H.T)
    lam = np.linalg.eigvalsh(H) if np.all(np.isfinite(H)) else np.array([-1.0])
    extra = unpack(family, theta[p:])
    far = at_limits(family, extra, warn_each=True)
    if not np.isfinite(f):
        raise FloatingPointError(
            f"the {family.name} log-likelihood is not finite at the start or along Newton's "
            "steps: check the response against the family's domain and the link")
    labels = list(design.names) + [lab for q in params_spec for lab in q.labels()]
    runaway = [] if (converged and lam[0] > 0) or far or separated else \
        _recession(family, rows, theta, float(f), H, moved, labels)
    if runaway:
        which = ", ".join(f"{n} to {'+' if d > 0 else '-'}inf" for n, d in runaway)
        warn(f"{family.name}: the maximum-likelihood estimate does not exist: the log-likelihood "
             f"keeps rising as {which} (a separation: the fitted probabilities or means of some "
             "rows go to 0 or 1 along it). Those estimates and their standard errors are "
             "meaningless; fit() is unaffected (its priors keep them finite), or drop or merge "
             "the predictors involved.", SeparationWarning)
        separated, converged = True, False
    elif lam[0] <= 0 and not far:
        warn(f"{family.name}: the log-likelihood's Hessian at the estimate is not negative "
             "definite (a saddle or a flat direction): the estimate is not a strict maximum and "
             "its standard errors are meaningless.", ConvergenceWarning)
        converged = False
    elif separated:
        converged = False  # said so: the coefficients diverge (the start's warning)
    elif not converged and not far:
        warn(f"{family.name}: Newton's method did not converge in {n_iter} iterations "
             f"(maxiter={maxiter}, tol={tol:g}; largest gradient entry {np.max(np.abs(g)):.3g}). "
             "Increase maxiter, or check the data and the link.", ConvergenceWarning)
    try:
        cov_theta = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov_theta = np.linalg.pinv(H)
    cov_theta = 0.5 * (cov_theta + cov_theta.T)
    if cov_type != "nonrobust":
        S = np.asarray(_row_scores(family, rows, put(theta)))
        wts = np.ones(design.nobs) if design.weights is None else design.weights
        meat = (S * wts[:, None]).T @ S
        cov_theta = cov_theta @ meat @ cov_theta
        if cov_type == "HC1":
            cov_theta = cov_theta * design.sum_weights / (design.sum_weights - theta.size)

    params, cov = natural_scale(family, theta, cov_theta, p)
    eta = design.X @ theta[:p] + (0.0 if design.total_offset is None else design.total_offset)
    mu = np.asarray(family.mean(jnp.asarray(eta), {k: jnp.asarray(v) for k, v in extra.items()},
                                aux))
    return LikelihoodFit(
        names=tuple(labels), params=params, theta=theta, cov_theta=cov_theta,
        cov=cov, cov_type=cov_type, extra={k: (float(v) if np.ndim(v) == 0 else np.asarray(v))
                                           for k, v in extra.items()},
        eta=np.asarray(eta), mu=mu, llf=-float(f), n_iter=n_iter, converged=converged,
        max_grad=float(np.max(np.abs(g))), k_params=int(theta.size),
        limits=tuple(q.name for q, _, _ in far), separated=separated,
    )

