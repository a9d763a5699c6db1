"""Maximum likelihood: run IRLS, estimate NegativeBinomial's alpha, diagnose the hard cases.

This module turns a validated :class:`~bayesglm.design.Design` and a family into an
:class:`MLEFit` record of numpy arrays: the point estimate, the (model-based or robust)
covariance and everything the results object derives its statistics from. It owns the
diagnostics that need the fit: rank deficiency (an error naming the collinear columns),
separation in binomial models (:class:`~bayesglm.SeparationWarning` naming the variables) and
non-convergence (:class:`~bayesglm.ConvergenceWarning`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._xla import jit
from ._warnings import ConvergenceWarning, EstimabilityWarning, SeparationWarning, warn
from . import existence
from .design import Design, Rows
from .families import Family, NegativeBinomial
from .irls import IRLSData, irls, irls_nb, irls_sharded, loglike_sum, observation_stats
from .sharding import RowShards, put_rows, row_devices

__all__ = ["MLEFit", "fit_mle", "RankDeficientError", "COV_TYPES", "prior_weights", "irls_data",
           "check_full_rank", "intercept_start", "looks_singular"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


class RankDeficientError(ValueError):
    """The design matrix does not have full column rank: the coefficients are not identified."""


class MLEFit(NamedTuple):
    """The numbers of a maximum-likelihood fit (numpy, host side)."""

    params: np.ndarray
    cov_unscaled: np.ndarray  # (X'WX)^-1
    cov: np.ndarray  # covariance of params, of the requested cov_type
    cov_type: str
    mu: np.ndarray
    deviance: float
    pearson_chi2: float
    scale: float
    dispersion: float  # family dispersion used in the log-likelihood (sigma^2, 1/shape, ..., alpha)
    llf: float
    n_iter: int
    converged: bool
    alpha: float | None  # NegativeBinomial's alpha (estimated or fixed)
    alpha_se: float | None  # its standard error when estimated
    alpha_estimated: bool
    obs: object  # () -> per-observation arrays: loglike, variance, unit_deviance, dmu_deta
    null_deviance: object  # () -> the intercept-only model's deviance (fitted when first asked)


# ---------------------------------------------------------------------------------------------
# device data


def prior_weights(design: Design) -> np.ndarray | None:
    """IRLS's prior weights: frequency weights times binomial trials (None when both are)."""
    pw = design.weights
    if design.trials is not None:
        pw = design.trials if pw is None else pw * design.trials
    return pw


def irls_data(design: Design, alpha: float = 0.0, X=None, with_x: bool = True) -> IRLSData:
    """Move a design to the device as IRLS problem data (float64); ``with_x=False`` leaves X
    on the host (``IRLSData.X`` None: a fit whose rows are split over devices places X itself,
    and one device need not hold all of it)."""
    pw = prior_weights(design)
    off = design.total_offset
    put = jax.device_put  # no copy for the aligned float64 arrays Design holds
    return IRLSData(
        X=None if not with_x else put(design.X if X is None else X),
        y=put(design.y),
        offset=None if off is None else put(off),
        prior_weights=None if pw is None else put(pw),
        alpha=np.float64(alpha),  # host scalar: jnp.asarray would compile a conversion
    )


# ---------------------------------------------------------------------------------------------
# diagnostics


#: a column is aliased when its part orthogonal to the columns before it has less than this
#: fraction of its norm: R's ``qr()`` tolerance (LINPACK dqrdc2), used by ``lm`` and ``glm``'s
#: ``alias``
QR_TOL = 1e-7


def _collinear_message(X: np.ndarray, names) -> str | None:
    """Describe an exact linear dependence among the columns of X, or None if X has full rank.

    The rank is decided from X itself, as R's ``glm`` does with dqrdc2's limited pivoting: a
    column whose residual, after projecting out the columns kept before it (Gram-Schmidt,
    reorthogonalised), is below ``QR_TOL`` times its own norm is aliased. Deciding it from the eigenvalues of X'X
    would square the condition number and call designs with cond(X) ~ 1e6 rank deficient.
    """
    norms = np.linalg.norm(X, axis=0)
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        return f"column {names[zero[0]]!r} is all zeros"
    Xs = X / norms
    kept: list[int] = []
    aliased: list[int] = []
    q = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        r = Xs[:, j] - q @ (q.T @ Xs[:, j])
        r = r - q @ (q.T @ r)  # twice is enough (Kahan-Parlett)
        nr = np.linalg.norm(r)
        if nr < QR_TOL:
            aliased.append(j)
        else:
            kept.append(j)
            q = np.column_stack([q, r / nr])
    if not aliased:
        return None
    k = aliased[0]
    coef, *_ = np.linalg.lstsq(X[:, kept], X[:, k], rcond=None)
    load = np.abs(coef) * norms[kept]
    involved = [(kept[i], coef[i]) for i in range(len(kept)) if load[i] > 1e-6 * max(load.max(), 1e-300)]
    terms = " + ".join(f"{c:.6g}*{names[j]}" for j, c in involved) or "0"
    rank = len(kept)
    return (
        f"the design matrix is rank deficient (rank {rank} < {X.shape[1]} columns): column "
        f"{names[k]!r} is a linear combination of the others ({names[k]} = {terms}). Drop one "
        f"of {', '.join(repr(names[j]) for j in [k, *(j for j, _ in involved)])}."
    )


def intercept_start(link, ybar: float, p: int, const_index: int, const_value: float):
    """The intercept-only coefficients (the intercept at ``link(ybar)``, the weighted mean of
    y; the slopes 0): IRLS's restart where the first step from R's mustart left the domain."""
    beta = np.zeros(p)
    beta[const_index] = float(link.link(ybar)) / const_value
    return beta


def looks_singular(XtWX: np.ndarray) -> bool:
    """Whether X'WX is singular to working precision (scaled to unit diagonal, its smallest
    eigenvalue below ``p * 1e3 * eps``): then the rank is decided from X itself."""
    p = XtWX.shape[0]
    d = np.sqrt(np.diag(XtWX))
    return bool(np.any(d == 0) or np.linalg.eigvalsh(XtWX / np.outer(d, d))[0]
                < p * 1e3 * np.finfo(float).eps)


def check_full_rank(X: np.ndarray, names) -> None:
    """Raise :class:`RankDeficientError` naming the collinear columns where X lacks full rank
    (R's ``qr()`` rule, :func:`_collinear_message`)."""
    msg = _collinear_message(X, names)
    if msg is not None:
        raise RankDeficientError(msg)


def _divergence(design: Design, family: Family, res, tol: float) -> list[str] | None:
    """Names of the coefficients along which the MLE runs off to infinity, or None.

    Binomial separation, and for the log-link count families the zero-count direction (see
    :mod:`bayesglm.existence`). Checked only when fitted means sit at the boundary.
    """
    if family.boundary not in ("separation", "zero_counts"):
        return None
    binomial = family.boundary == "separation"
    mu = np.asarray(res.mu)
    pw = prior_weights(design)
    X, y = design.X, design.y
    small = X.size <= existence.LP_MAX_CELLS
    if not existence.boundary_hint(mu, float(res.deviance), tol, binomial=binomial, weights=pw,
                                   cap=1e-3 if small else np.inf):
        return None
    if small:
        b = existence.divergent_direction(X, y, binomial=binomial, weights=design.weights)
    else:
        step = np.asarray(res.step)
        b = step if existence.step_is_divergent(X, y, step, binomial=binomial) else None
    return None if b is None else existence.direction_names(X, b, design.names)


# ---------------------------------------------------------------------------------------------
# covariance


@jit(static_argnames=("family", "cov_type"))
def _sandwich(family, data: IRLSData, eta, mu, trials, fw, bread, cov_type: str):
    """Sandwich covariance for a GLM (HC0-HC3), rows with frequency weights as replicates.

    bread (X'WX)^-1 meat (X'WX)^-1 with meat = sum_i fw_i u_i^2 x_i x_i' / (1 - h_i)^k, u_i the
    score of one replicate of row i, h_i its hat value w_i x_i' (X'WX)^-1 x_i, and k = 0 (HC0,
    HC1), 1 (HC2), 2 (HC3). X'WX is formed here at the estimate: the IRLS's own (``bread``,
    the model-based covariance's, as R's ``vcov(glm)``) has the weights of the start of its
    last iteration, ~1e-5 (relative) from those at the estimate at the default tolerance, and
    the sandwich is a formula of the estimate's (R's ``sandwich::vcovHC`` of a glm iterated to
    convergence: tests/reference/test_interpret.py); ``bread`` stands in where the estimate's
    X'WX is singular (separation).
    """
    d = family.link.inverse_deriv(eta)
    var = family.variance(mu, data.alpha)
    fresh = jnp.linalg.inv((data.X * (fw * trials * d**2 / var)[:, None]).T @ data.X)
    bread = jnp.where(jnp.all(jnp.isfinite(fresh)), (fresh + fresh.T) / 2, bread)
    u = trials * (data.y - mu) * d / var
    factor = fw * u**2
    if cov_type in ("HC2", "HC3"):
        w_copy = trials * d**2 / var
        h = w_copy * jnp.einsum("ij,jk,ik->i", data.X, bread, data.X)
        h = jnp.minimum(h, 1.0 - jnp.finfo(h.dtype).eps)
        factor = factor / (1.0 - h) ** (1 if cov_type == "HC2" else 2)
    meat = (data.X * factor[:, None]).T @ data.X
    return bread @ meat @ bread


# ---------------------------------------------------------------------------------------------
# the fit


def fit_mle(
    design: Design,
    family: Family,
    *,
    maxiter: int = 100,
    tol: float = 1e-8,
    cov_type: str = "nonrobust",
    devices=None,
) -> MLEFit:
    """Maximum-likelihood fit of a GLM by IRLS (see :func:`bayesglm.irls.irls`), its rows
    split over ``devices`` as :func:`bayesglm.sharding.row_devices` decides (NegativeBinomial
    with alpha estimated always runs on one device)."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    p = design.X.shape[1]
    if p > design.nobs:
        raise RankDeficientError(
            f"the design has more columns ({p}) than rows ({design.nobs}): the coefficients "
            "are not identified by maximum likelihood (the Bayesian fit with proper priors is)."
        )

    nb = isinstance(family, NegativeBinomial)
    alpha_fixed = family.alpha if nb else None
    devs = None if nb and alpha_fixed is None else row_devices(design.nobs, devices)
    data = irls_data(design, alpha=alpha_fixed if alpha_fixed is not None else 0.0,
                     with_x=devs is None)
    alpha = alpha_se = None
    fw = None if design.weights is None else jnp.asarray(design.weights)
    nb_warned = False
    if nb and alpha_fixed is None:
        # MASS::glm.nb's d1 = sqrt(2 * max(1, fit$df.residual)), R's df.residual counting the
        # rows of non-zero weight
        n_ok = design.nobs if design.weights is None else int(np.sum(design.weights != 0))
        d1 = math.sqrt(2.0 * max(1, n_ok - p))
        # where the Poisson-like first fit from R's mustart fails (identity link, means near 0),
        # irls_nb restarts it from the intercept-only coefficients
        beta_restart = np.zeros(p)
        if design.const_index is not None:
            ybar = _weighted_mean_y(design)
            beta_restart = intercept_start(family.link, ybar, p, design.const_index,
                                           design.X[0, design.const_index])
        res, alpha, info, n_outer, outer_ok = irls_nb(
            family, data, fw, maxiter, tol, d1, jax.device_put(beta_restart),
            np.bool_(design.const_index is not None and ybar > 0),
        )
        alpha, info = float(alpha), float(info)
        alpha_se = math.sqrt(1.0 / info) if info > 0 else math.nan
        data = data._replace(alpha=jnp.asarray(alpha))
        outer_ok = bool(outer_ok)
        mu_nb, y = np.asarray(res.mu), design.y
        # a link with mu = 0 at a finite eta (identity, sqrt): rows whose count is 0 may pull
        # their mean onto the domain's edge, where the likelihood is largest; there is no
        # stationary point for IRLS or Newton to converge to
        edge = np.flatnonzero((y == 0) & (mu_nb < math.sqrt(np.finfo(float).eps) * max(
            float(np.mean(y)), 1e-300)))
        if not outer_ok and edge.size and family.link.name != "log":
            names = Rows(design.nobs, design.row_index)
            rows = ", ".join(names.name(int(i)) for i in edge[:3]) + (", ..." if edge.size > 3 else "")
            warn(
                f"NegativeBinomial with the {family.link.name} link: the likelihood is largest on "
                f"the edge of the link's domain, where the fitted mean of {edge.size} row(s) "
                f"with a zero count ({rows}) is 0 (smallest {mu_nb[edge].min():.3g}); the "
                "maximum-likelihood estimate is not a stationary point there, so its standard "
                "errors, z and p-values are meaningless. Use the log link, whose domain has no "
                "edge at a finite coefficient.",
                ConvergenceWarning,
            )
            res = res._replace(failed=jnp.asarray(False))  # the last valid point is kept
        elif not outer_ok:
            warn(
                f"NegativeBinomial: alpha and the coefficients did not converge jointly in "
                f"{int(n_outer)} outer iterations; the counts may not support a negative binomial "
                "model (try Poisson) or need a larger maxiter.",
                ConvergenceWarning,
            )
        res = res._replace(converged=res.converged & outer_ok)
        nb_warned = not outer_ok  # said why already: no second "IRLS did not converge"
        if alpha < 1e-8:  # at (or near) the lower bound exp(LOG_ALPHA_MIN)
            warn(
                "NegativeBinomial: the maximum-likelihood alpha is at its lower bound (about 0): "
                "the counts show no overdispersion, and a Poisson model describes them as well.",
                ConvergenceWarning,
            )
    else:
        # a fixed alpha travels traced in data.alpha: keep it out of the static family so that
        # a new alpha value does not recompile
        irls_family = NegativeBinomial(family.link) if nb else family

        def run(beta_init):
            if devs is None:
                return irls(irls_family, data, beta_init, maxiter, tol)
            return _irls_on_rows(irls_family, design, data.alpha, devs, beta_init, maxiter, tol)

        res = run(None)
        if bool(res.failed) and design.const_index is not None:
            # the first step from R's mustart left the domain and halving back towards beta = 0
            # did not help (eta = 0 lies outside the inverse and power links' domain): restart
            # from the intercept-only coefficients, a valid and consistent point
            beta0 = intercept_start(family.link, _weighted_mean_y(design), p,
                                    design.const_index, design.X[0, design.const_index])
            res = run(jax.device_put(beta0))
        alpha = alpha_fixed

    beta = np.asarray(res.beta)
    XtWX = np.asarray(res.XtWX)
    mu = np.asarray(res.mu)
    finite = np.all(np.isfinite(beta)) and np.all(np.isfinite(XtWX))
    # first: a divergent direction (separation) makes weights vanish and X'WX look singular
    sep = _divergence(design, family, res, tol) if finite else None
    if sep is None:
        msg = _collinear_message(design.X, design.names) if not finite else None
        if msg is None and finite and looks_singular(XtWX):
            # X'WX looks singular: decide from X itself (cond(X'X) = cond(X)^2)
            msg = _collinear_message(design.X, design.names)
        if msg is not None:
            raise RankDeficientError(msg)
        if not finite or bool(res.failed):
            raise FloatingPointError(
                f"IRLS could not find a valid step for the {family.name} family with the "
                f"{family.link.name} link (the mean left its domain even after step-halving). "
                "Try another link (the canonical one is the most stable) or check the data."
            )

    converged = bool(res.converged)
    n_iter = int(res.n_iter)
    if sep is not None:
        converged = False
        named = ", ".join(repr(s) for s in sep)
        if family.boundary == "separation":
            what = (f"perfect or quasi-complete separation: the binomial response is predicted "
                    f"exactly by {named}")
        else:
            what = (f"fitted rates numerically 0: the counts are all zero wherever {named} "
                    "pushes the rate down (e.g. a factor level whose counts are all zero, or an "
                    "all-zero response)")
        warn(
            f"{what}, so the maximum-likelihood estimate does not exist (those coefficients "
            "diverge; their estimates and standard errors are meaningless). Use model.fit() or "
            "model.fit_map(), whose proper priors give finite estimates, or remove/merge the "
            "variable or level.",
            SeparationWarning,
        )
    if not converged and sep is None and not nb_warned:
        warn(
            f"IRLS did not converge in {n_iter} iterations (maxiter={maxiter}, tol={tol:g}). "
            "Increase maxiter, check the data for separation or extreme values, or try the "
            "family's canonical link.",
            ConvergenceWarning,
        )

    deviance = float(res.deviance)
    pearson = float(res.pearson_chi2)
    df_resid = design.sum_weights - p
    scale = family.scale(pearson, df_resid)
    if family.has_dispersion and df_resid <= 0:
        warn(
            f"the {family.name} model has as many coefficients ({p}) as observations "
            f"({design.sum_weights:g}): no residual degrees of freedom are left to estimate the "
            "dispersion, so it and every standard error, z and p-value are NaN. Use fewer "
            "predictors, or model.fit() whose priors identify the model.",
            EstimabilityWarning,
        )
    if nb:
        dispersion = alpha
    else:
        dispersion = family.llf_dispersion(deviance, design.sum_weights, pearson, df_resid)
    # a scalar where there are no trials: one n-vector less on the device
    trials = np.float64(1.0) if design.trials is None else jax.device_put(design.trials)
    llf = float(loglike_sum(family, data, res.mu, dispersion, trials, fw))

    def obs(mu=res.mu, dispersion=dispersion):
        """Per-observation arrays for the residuals, computed when first asked for (eta too:
        it is not kept, one n-vector less for the results to hold)."""
        out = observation_stats(family, data, _eta_rows(design, beta), mu, dispersion, trials)
        return {k: np.asarray(v) for k, v in out.items()}

    try:
        bread = np.linalg.inv(XtWX)
    except np.linalg.LinAlgError:  # separation: vanishing weights (already warned about)
        bread = np.linalg.pinv(XtWX)
    bread = (bread + bread.T) / 2
    if cov_type == "nonrobust":
        cov = bread * scale
    else:
        sdata = data if data.X is not None else data._replace(X=jax.device_put(design.X))
        cov = np.asarray(
            _sandwich(family, sdata, _eta_rows(design, beta) if res.eta is None else res.eta,
                      res.mu, trials,
                      jnp.ones_like(data.y) if fw is None else fw, jnp.asarray(bread), cov_type)
        )
        if cov_type == "HC1":
            cov = cov * design.sum_weights / (design.sum_weights - p)
    return MLEFit(
        params=beta,
        cov_unscaled=bread,
        cov=cov,
        cov_type=cov_type,
        mu=mu,
        deviance=deviance,
        pearson_chi2=pearson,
        scale=scale,
        dispersion=float(dispersion),
        llf=llf,
        n_iter=n_iter,
        converged=converged,
        alpha=alpha,
        alpha_se=alpha_se,
        alpha_estimated=nb and alpha_fixed is None,
        obs=obs,
        null_deviance=lambda: _null_deviance(design, family, alpha, maxiter=maxiter, tol=tol),
    )


def _eta_rows(design: Design, beta) -> np.ndarray:
    """The rows' linear predictor at ``beta`` (host; for the residuals and the sandwich)."""
    eta = design.X @ np.asarray(beta)
    return eta if design.total_offset is None else eta + design.total_offset


def _weighted_mean_y(design: Design) -> float:
    pw = prior_weights(design)
    return float(np.mean(design.y) if pw is None else np.sum(pw * design.y) / np.sum(pw))


def _irls_on_rows(family, design: Design, alpha, devices, beta_init, maxiter, tol):
    """:func:`~bayesglm.irls.irls_sharded` on the design's rows split over ``devices``; its
    ``mu`` gathered back to the design's n rows (on the default device); ``eta`` None (dropped
    before the gather: whoever needs it recomputes it from X, :func:`_eta_rows`)."""
    shards = RowShards(design.nobs, devices)
    X, y, off, pw = put_rows(shards, design.X, design.y, design.total_offset,
                             prior_weights(design))
    res = irls_sharded(family, IRLSData(X, y, off, pw, alpha), beta_init, maxiter, tol,
                       shards.mesh)
    res = res._replace(eta=None)  # the sharded eta is freed before mu is gathered
    return res._replace(mu=shards.gather(res.mu))


def _null_deviance(design: Design, family: Family, alpha, *, maxiter=100, tol=1e-8) -> float:
    """Deviance of the intercept-only model (with the offset), as R's ``glm`` reports it."""
    pw = prior_weights(design)
    pw = np.ones_like(design.y) if pw is None else pw
    alpha = alpha if alpha is not None else 0.0
    off = design.total_offset
    if design.const_index is None:
        eta = np.zeros_like(design.y) if off is None else off
        mu = family.link.inverse(jnp.asarray(eta))
    elif off is None:
        mu = jnp.full_like(jnp.asarray(design.y), np.sum(pw * design.y) / np.sum(pw))
    else:
        data = irls_data(design, alpha=alpha, X=np.ones((design.nobs, 1)))
        mu = irls(family, data, None, maxiter, tol).mu
    dev = family.unit_deviance(jnp.asarray(design.y), mu, alpha)
    return float(np.sum(pw * np.asarray(dev)))
