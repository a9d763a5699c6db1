"""arm::bayesglm's own algorithm: ``fit_map(method="arm")``.

``arm::bayesglm`` (Gelman, Jakulin, Pittau & Su 2008; ``bayesglm.fit`` in arm 1.13-1) does not
maximise the posterior. It runs IRLS on the data augmented by one pseudo-observation per
coefficient (the prior mean, with weight ``sqrt(dispersion) / prior.sd``; the intercept's row is
``colMeans(x)``, so its prior applies to the intercept at the predictors' means), and after each
weighted least-squares solve updates every prior standard deviation as in an EM step for a
scale mixture of normals::

    prior.sd = sqrt(((b - prior.mean)^2 + V_jj * dispersion + prior.df * prior.scale^2)
                    / (1 + prior.df))

with ``b`` the new coefficients (the *uncentred* intercept for the centred intercept's row) and
``V = (X*' W* X*)^-1`` of that solve (``prior.df = Inf``, a normal prior, keeps
``prior.sd = prior.scale``). Families with a dispersion (Gaussian, Gamma) re-estimate it each
iteration as ``mean((w (z - X b))^2) + mean(diag(X V X')) * dispersion``, starting from
``var(y) / 10000``. It stops when the deviance and the dispersion both change by less than
``epsilon = 1e-8`` relative (``|d - d_old| / (0.1 + |d|)``) after the first iteration, at most
``maxit = 100`` iterations. The reported covariance is ``summary.glm``'s: the last solve's
``(X*' W* X*)^-1``, times 1 (binomial, Poisson) or Pearson's ``sum(w^2 r^2) / df.residual`` of
the last working residuals; ``sigma.hat`` (and so the dispersion here) is arm's running
estimate.

Its fixed point is not the posterior mode under the same Student-t priors (the EM update's
``V_jj`` term and the uncentred intercept): on tests/reference/r's models 0.29 SE apart in the
coefficients and 14% in the standard errors on separated iris (setosa ~ sepal length and width),
0.013 SE on birthwt. ``fit_map()``'s default is the exact
mode; this module reproduces arm's numbers (tests/reference/r/arm_bayesglm.R), including one quirk of
arm 1.13-1: for the Gaussian family its slopes' prior scales lose their division by the
predictors' range / 2 sd after the first iteration (see :func:`fit_arm`).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ._warnings import ConvergenceWarning, warn
from ._x64 import float64
from .design import Design
from .mle import prior_weights
from .families import Binomial, Family, Gamma, Gaussian, Poisson
from .priors import Cauchy, Flat, Normal, ResolvedPriors, StudentT, x_scale

__all__ = ["ARM_FAMILIES", "check_arm", "fit_arm"]

#: families whose bayesglm.fit path is reproduced (and tested against R), and subclasses
ARM_FAMILIES = (Binomial, Poisson, Gaussian, Gamma)


def _prior_args(prior, name: str) -> tuple[float, float, float]:
    """(prior.mean, prior.scale, prior.df) of one coefficient's prior, as arm takes them."""
    if isinstance(prior, Cauchy):
        return prior.mu, prior.sigma, 1.0
    if isinstance(prior, StudentT):
        return prior.mu, prior.sigma, float(prior.df)
    if isinstance(prior, Normal):
        return prior.mu, prior.sigma, math.inf
    if isinstance(prior, Flat):
        return 0.0, math.inf, math.inf  # arm's prior.scale = Inf: weight 0, as glm
    raise ValueError(
        f"fit_map(method='arm'): arm::bayesglm's algorithm takes Student-t, Cauchy, normal or "
        f"flat priors on the coefficients (its prior.df, prior.scale), but coefficient "
        f"{name!r} has {prior.describe()}. Use method='mode' (the exact posterior mode) for "
        "other priors."
    )


def check_arm(family: Family, resolved: ResolvedPriors) -> np.ndarray:
    """Validate the family and priors for arm's algorithm; return (p, 3) prior arguments."""
    if not isinstance(family, ARM_FAMILIES):
        raise ValueError(
            f"fit_map(method='arm'): arm::bayesglm's algorithm is reproduced for the "
            f"{', '.join(c.name for c in ARM_FAMILIES)} families, not {family.name}. Use "
            "method='mode' (the exact posterior mode)."
        )
    names = resolved.names or tuple(f"x{j}" for j in range(len(resolved.coef)))
    return np.array([_prior_args(pr, nm) for pr, nm in zip(resolved.coef, names)], dtype=float)


def _np(f, *args):
    return np.asarray(f(*(jnp.asarray(a) for a in args)), dtype=float)


@float64
def fit_arm(family: Family, design: Design, resolved: ResolvedPriors, *, maxiter: int = 100,
            tol: float = 1e-8):
    """arm::bayesglm's estimate: (beta, cov, dispersion or None); warns if it did not converge.

    ``dispersion`` is on the family's natural scale (``sigma`` = sqrt of arm's dispersion for
    the Gaussian, ``shape`` = 1 / dispersion for the Gamma), None for binomial and Poisson.
    """
    args = check_arm(family, resolved)
    prior_mean, prior_scale, prior_df = args.T
    link = family.link
    X, y = design.X, design.y
    n, p = X.shape
    pw = prior_weights(design)
    pw = np.ones(n) if pw is None else pw
    off = np.zeros(n) if design.total_offset is None else np.asarray(design.total_offset)
    # the prior pseudo-rows: identity, the centred intercept's row colMeans(x) (arm's scaled =
    # TRUE; x_means is colMeans(X) / c with 0 at the intercept, c its column's value)
    prior_rows = resolved.centred(np.eye(p)).T
    # arm 1.13-1, gaussian family with scaled = TRUE: every iteration resets prior.scale to
    # prior.scale.0, the scales *before* their division by each column's range or 2 sd(x), so
    # after the first solve its slopes' priors are no longer scaled to the predictors
    # (fit$prior.scale shows 2.5 * 2 sd(y) for every slope). Reproduced for arm's defaults.
    update_scale = prior_scale
    if isinstance(family, Gaussian) and resolved.source == "gelman2008":
        undo = np.array([1.0 if j == design.const_index else x_scale(X[:, j], "gelman2008")[0]
                         for j in range(p)])
        update_scale = prior_scale * undo
    alpha = 0.0

    def mean_of(eta):
        return _np(link.inverse, eta)

    def deviance(mu):
        return float(np.sum(pw * _np(lambda a, b: family.unit_deviance(a, b, alpha), y, mu)))

    def valid(eta, mu):
        return bool(np.all(_np(link.valid_eta, eta)) and np.all(_np(family.valid_mu, mu)))

    eta = _np(link.link, _np(family.starting_mu, y, pw))  # R's family$initialize (mustart)
    mu = mean_of(eta)
    dev_old = deviance(mu)
    has_disp = family.has_dispersion
    dispersion = float(np.var(y, ddof=1)) / 10000.0 if has_disp else 1.0
    disp_old = dispersion
    prior_sd = prior_scale.copy()
    coef_old = None
    converged = False
    for it in range(1, maxiter + 1):
        d = _np(link.inverse_deriv, eta)
        good = (pw > 0) & (d != 0)
        if not good.any():
            raise FloatingPointError("fit_map(method='arm'): no observation is informative "
                                     f"at iteration {it} (every weight or dmu/deta is 0)")
        var = _np(lambda m: family.variance(m, alpha), mu)
        z = (eta - off)[good] + (y - mu)[good] / d[good]
        w = np.sqrt(pw[good] * d[good] ** 2 / var[good])
        with np.errstate(divide="ignore"):
            w_prior = math.sqrt(dispersion) / prior_sd
        A = np.vstack([X[good], prior_rows]) * np.concatenate([w, w_prior])[:, None]
        b = np.concatenate([z, prior_mean]) * np.concatenate([w, w_prior])
        Q, R = np.linalg.qr(A)
        coef = np.linalg.solve(R, Q.T @ b)
        R_inv = np.linalg.inv(R)
        V = R_inv @ R_inv.T
        if not np.all(np.isfinite(coef)):
            raise FloatingPointError(f"fit_map(method='arm'): non-finite coefficients at "
                                     f"iteration {it}")
        with np.errstate(invalid="ignore"):
            em = np.sqrt(((coef - prior_mean) ** 2 + np.diag(V) * dispersion
                          + prior_df * update_scale**2) / (1.0 + prior_df))
        prior_sd = np.where(np.isinf(prior_df), update_scale, em)
        start = coef
        eta = X @ start + off
        mu = mean_of(eta)
        dev = deviance(mu)
        if has_disp:
            mse_resid = np.mean((w * (z - X[good] @ coef)) ** 2)
            mse_uncertainty = np.mean(np.sum((X @ V) * X, axis=1)) * dispersion
            dispersion = float(mse_resid + mse_uncertainty)
        # arm's step halving: towards the previous coefficients while the deviance is not
        # finite or the mean is outside its domain (R's "step size truncated")
        k = 0
        while not (math.isfinite(dev) and valid(eta, mu)):
            if coef_old is None or k >= maxiter:
                raise FloatingPointError(
                    "fit_map(method='arm'): no valid set of coefficients has been found (the "
                    f"{link.name} link's mean left its domain). Use method='mode'.")
            start = (start + coef_old) / 2
            eta = X @ start + off
            mu = mean_of(eta)
            dev = deviance(mu)
            k += 1
        if (it > 1 and abs(dev - dev_old) / (0.1 + abs(dev)) < tol
                and abs(dispersion - disp_old) / (0.1 + abs(dispersion)) < tol):
            converged = True
            break
        dev_old, disp_old, coef_old = dev, dispersion, start

    if not converged:
        warn(f"fit_map(method='arm'): arm::bayesglm's algorithm did not converge in {maxiter} "
             "iterations; its estimate is unreliable. Use method='mode' (the exact posterior "
             "mode).", ConvergenceWarning)
    scale = 1.0
    disp_value = None
    if has_disp:
        # summary.glm's dispersion: Pearson's chi2 of the last working residuals / df.residual
        n_ok = int(np.sum(pw != 0))
        resid = z - (eta - off)[good]
        df_r = n_ok - p
        scale = float(np.sum(w**2 * resid**2) / df_r) if df_r > 0 else math.nan
        disp_value = float(family.dispersion_from_scale(dispersion))
    return start, V * scale, disp_value
