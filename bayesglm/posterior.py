"""The Bayesian fit: from the classical fit (or the posterior mode) to NUTS draws.

Order of work in :func:`fit_bayes`:

1. the MLE by IRLS; where it does not exist (separation, rank deficiency) or did not converge,
   the posterior mode (MAP) with the model's priors instead;
2. a normal approximation there: the coefficients' covariance (inverse Fisher information) and
   the log-dispersion's asymptotic variance, block-diagonal (they are orthogonal in a GLM);
3. NUTS from that point with that covariance as the inverse mass matrix (:mod:`.sampling`),
   whose program was compiled in a background thread during step 1 (:func:`sample_ahead`);
4. pointwise log-likelihood and InferenceData (:mod:`.convert`).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.scipy.special import polygamma

from ._args import integer, real
from ._xla import jit
from ._warnings import ConvergenceWarning, SeparationWarning, warn
from .design import Design
from .families import Family
from .mle import RankDeficientError
from .model import likelihood, prior_arrays, prior_structure
from .priors import ResolvedPriors
from .sampling import Ahead, NUTSConfig, Plan, compile_in_background, find_mode, make_plan, run_nuts

__all__ = ["model_kwargs", "site_order", "Start", "mle_start", "map_start", "MAPResults",
           "pointwise_loglik", "plan_sampling", "sample_ahead", "sample", "DEFAULT_WARMUP"]

#: default warmup when NUTS starts at a converged MLE with its Fisher mass matrix held fixed
#: (PERFORMANCE-NOTES: 50 warmup iterations already gave R-hat < 1.01 on every seed; gradient
#: evaluations per effective draw bottom out at 100-200). From the MAP (separation) the mass
#: matrix is adapted as well, over a longer warmup.
DEFAULT_WARMUP = {"mle": 200, "map": 500}


def site_order(family: Family, resolved: ResolvedPriors) -> list[str]:
    return ["beta"] + ([family.dispersion_name] if resolved.dispersion is not None else [])


def model_kwargs(design: Design, resolved: ResolvedPriors, X=None) -> dict:
    """The model's data arguments (device arrays). Binomial ``y`` as success counts."""
    y = design.y
    if design.trials is not None:
        y = np.round(y * design.trials)
    # jax.device_put, not jnp.asarray: the latter compiles a small program per new shape
    return {
        "X": jax.device_put(design.X if X is None else X),
        "offset": None if design.total_offset is None else jax.device_put(design.total_offset),
        "weights": None if design.weights is None else jax.device_put(design.weights),
        "trials": None if design.trials is None else jax.device_put(design.trials),
        "y": jax.device_put(y),
        "priors": prior_arrays(resolved, prior_structure(resolved)),
    }


class Start(NamedTuple):
    """Where NUTS starts and the normal approximation there."""

    kind: str  # "mle" or "map"
    values: dict  # constrained values by site
    cov: np.ndarray  # unconstrained covariance in site_order
    mle: object  # MLEResults or None


def _log_dispersion_var(family: Family, value: float, n_eff: float, alpha_se=None) -> float:
    """Asymptotic variance of log(dispersion) from the Fisher information."""
    if family.name == "gaussian":  # sigma
        return 1.0 / (2.0 * n_eff)
    if family.name == "gamma":  # shape k: I = n (trigamma(k) - 1/k)
        info = n_eff * (float(polygamma(1, value)) - 1.0 / value)
        return 1.0 / (value**2 * max(info, 1e-300))
    if family.name == "inverse_gaussian":  # lambda: I = n / (2 lambda^2)
        return 2.0 / n_eff
    if family.name == "negative_binomial":
        if alpha_se is not None and np.isfinite(alpha_se) and alpha_se > 0:
            return (alpha_se / value) ** 2
        return 1.0 / n_eff
    raise ValueError(family.name)


def _dispersion_from_mle(family: Family, mle) -> float:
    if family.name == "gaussian":
        return math.sqrt(mle.scale)
    if family.name in ("gamma", "inverse_gaussian"):
        return 1.0 / mle.scale
    return mle.alpha


def mle_start(family: Family, design: Design, resolved: ResolvedPriors, mle) -> Start:
    p = len(design.names)
    values = {"beta": mle.params.to_numpy()}
    cov = np.zeros((p + (resolved.dispersion is not None),) * 2)
    cov_beta = mle.cov_params().to_numpy()
    if mle.cov_type != "nonrobust":
        cov_beta = mle._fit.cov_unscaled * mle.scale
    cov[:p, :p] = cov_beta
    if resolved.dispersion is not None:
        value = _dispersion_from_mle(family, mle)
        values[family.dispersion_name] = value
        cov[p, p] = _log_dispersion_var(family, value, design.sum_weights, mle.alpha_se)
    return Start("mle", values, cov, mle)


def _crude_start(family: Family, design: Design, resolved: ResolvedPriors) -> dict:
    """A start for the mode search that needs no MLE: zero slopes, intercept at the mean."""
    beta = np.zeros(len(design.names))
    w = np.ones(design.nobs) if design.weights is None else design.weights
    ybar = float(np.sum(w * design.y) / np.sum(w))
    if design.const_index is not None:
        lo, hi = (0.02, 0.98) if family.name == "binomial" else (1e-3, np.inf)
        m = float(np.clip(ybar, lo, hi)) if family.positive_mean or family.name == "binomial" else ybar
        beta[design.const_index] = float(family.link.link(jnp.asarray(m))) / float(
            design.X[0, design.const_index]
        )
    values = {"beta": beta}
    if resolved.dispersion is not None:
        var = float(np.sum(w * (design.y - ybar) ** 2) / np.sum(w))
        guess = {
            "gaussian": math.sqrt(max(var, 1e-12)),
            "gamma": max(ybar**2 / max(var, 1e-12), 1e-3),
            "inverse_gaussian": max(ybar**3 / max(var, 1e-12), 1e-3),
            "negative_binomial": max((var - ybar) / max(ybar**2, 1e-12), 0.05),
        }[family.name]
        values[family.dispersion_name] = guess
    return values


def map_start(family: Family, design: Design, resolved: ResolvedPriors, mle=None) -> Start:
    init = _crude_start(family, design, resolved)
    if mle is not None and np.all(np.isfinite(mle.params.to_numpy())):
        ok = np.all(np.abs(mle.params.to_numpy()) < 1e3)
        if ok:
            init["beta"] = mle.params.to_numpy()
    values, cov, converged = find_mode(
        family, prior_structure(resolved), model_kwargs(design, resolved), init,
        site_order(family, resolved),
    )
    if not converged or not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(cov) <= 0):
        proper = all(pr.proper for pr in resolved.coef)
        if proper and family.link.name not in ("log", "logit") and mle is not None:
            # proper priors: not an improper posterior, but a maximum on the edge of the link's
            # domain (an identity or inverse link with a mean at 0), where no mode is stationary
            raise ValueError(
                "the posterior mode could not be found, although every prior is proper: it "
                f"probably lies on the edge of the {family.link.name} link's domain (a fitted "
                "mean at 0; fit_mle warns when it sees one), where the density has no "
                "stationary point and NUTS cannot sample either. Use the log (or the family's "
                "canonical) link."
            )
        raise ValueError(
            "the posterior mode could not be found: with these priors the posterior may be "
            "improper (e.g. flat priors under separation or rank deficiency). Use proper priors "
            '(priors="auto", the default, or "gelman2008").'
        )
    return Start("map", values, cov, mle)


def choose_start(family, design, resolved, fit_mle) -> Start:
    """The MLE where it exists and converged, else the MAP (with the reason as a warning)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mle = fit_mle()
    except RankDeficientError:
        return map_start(family, design, resolved, None)
    bad = [w for w in caught if issubclass(w.category, (SeparationWarning, ConvergenceWarning))]
    for w in caught:  # hand the warnings on, pointing at the user's call of fit()
        warn(w.message, w.category)
    if any(issubclass(w.category, SeparationWarning) for w in caught) and all(
        not pr.proper for pr in resolved.coef
    ):
        # The likelihood tends to a positive constant along the separating direction, so under
        # flat priors the posterior does not integrate; the mode search cannot tell (its
        # gradient vanishes numerically far out along that ray), so say it here.
        raise ValueError(
            "the posterior is improper: the data are separated (the maximum-likelihood "
            "estimate does not exist) and every coefficient has a flat (improper) prior. Use "
            'proper priors (priors="auto", the default, or "gelman2008").'
        )
    if bad or not mle.converged:
        return map_start(family, design, resolved, mle)
    return mle_start(family, design, resolved, mle)


@jit(static_argnames=("family",))
def _loglik_draws(family, beta, disp, X, offset, weights, trials, y):
    def one(b, d):
        eta = X @ b if offset is None else X @ b + offset
        ll = likelihood(family, eta, d, trials).log_prob(y)
        return ll if weights is None else ll * weights

    if disp is None:
        return jax.lax.map(lambda b: one(b, None), beta, batch_size=64)
    return jax.lax.map(lambda bd: one(*bd), (beta, disp), batch_size=64)


def pointwise_loglik(family: Family, kwargs: dict, beta: np.ndarray, disp: np.ndarray | None):
    """log p(y_i | draw) for every draw: (chains, draws, n), weighted by frequency weights."""
    c, s, p = beta.shape
    b = jax.device_put(beta.reshape(c * s, p))
    d = None if disp is None else jax.device_put(disp.reshape(c * s))
    out = _loglik_draws(family, b, d, kwargs["X"], kwargs["offset"], kwargs["weights"],
                        kwargs["trials"], kwargs["y"])
    return np.asarray(out).reshape(c, s, -1)


class MAPResults:
    """The posterior mode with the model's priors and its Laplace (normal) approximation.

    The exact posterior mode (``GLM.fit_map()``), or arm::bayesglm's own estimate
    (``fit_map(method="arm")``). ``params``/``bse`` are the
    coefficients' mode and the square roots of the inverse Hessian of the negative log posterior;
    the dispersion's mode (on its natural scale) is ``dispersion``.
    """

    def __init__(self, names, start: Start, family: Family):
        p = len(names)
        self.params = pd.Series(start.values["beta"], index=list(names), name="params")
        self._cov = start.cov
        self.bse = pd.Series(np.sqrt(np.diag(start.cov)[:p]), index=list(names), name="bse")
        self.dispersion_name = family.dispersion_name if start.cov.shape[0] > p else None
        self.dispersion = (
            float(start.values[self.dispersion_name]) if self.dispersion_name else None
        )

    def cov_params(self) -> pd.DataFrame:
        p = len(self.params)
        return pd.DataFrame(self._cov[:p, :p], index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        from statistics import NormalDist

        q = NormalDist().inv_cdf(1 - alpha / 2)
        # columns 0 and 1 (lower, upper), as MLEResults.conf_int and statsmodels
        return pd.DataFrame({0: self.params - q * self.bse, 1: self.params + q * self.bse})

    def summary(self) -> pd.DataFrame:
        table = pd.DataFrame({"mode": self.params, "sd": self.bse})
        if self.dispersion_name:
            table.loc[self.dispersion_name] = [self.dispersion, np.nan]
        return table

    def __repr__(self):
        return f"<MAPResults params={self.params.round(4).to_dict()}>"


def sampler_config(start: Start, *, draws, warmup, chains, seed, progress, target_accept,
                   max_tree_depth, chain_method) -> NUTSConfig:
    """The sampler's settings, every argument checked (before any fitting or compilation)."""
    draws = integer(draws, "draws", low=1)
    chains = integer(chains, "chains", low=1)
    max_tree_depth = integer(max_tree_depth, "max_tree_depth", low=1)
    seed = integer(seed, "seed", low=0)
    if seed >= 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, got {seed!r}")
    kind = "mle" if start is None else start.kind
    warmup = DEFAULT_WARMUP[kind] if warmup is None else integer(warmup, "warmup", low=0)
    target_accept = real(target_accept, "target_accept", low=0.0, high=1.0, low_open=True,
                         high_open=True)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if chain_method not in ("auto", "parallel", "sequential"):
        raise ValueError(f"chain_method must be 'auto', 'parallel' or 'sequential', got {chain_method!r}")
    return NUTSConfig(
        draws=int(draws), warmup=int(warmup), chains=int(chains), seed=int(seed),
        target_accept=float(target_accept), max_tree_depth=int(max_tree_depth),
        progress=bool(progress), adapt_mass_matrix=kind == "map", chain_method=chain_method,
    )


def plan_sampling(family, design, resolved, config: NUTSConfig, kwargs=None) -> Plan:
    """The sampler's plan (:class:`~bayesglm.sampling.Plan`) for this model and configuration."""
    sizes = {"beta": len(design.names)}
    if resolved.dispersion is not None:
        sizes[family.dispersion_name] = 1
    kwargs = model_kwargs(design, resolved) if kwargs is None else kwargs
    return make_plan(family, prior_structure(resolved), kwargs, sizes, config)


def sample_ahead(family, design, resolved, config: NUTSConfig) -> Ahead:
    """Compile the sampler for a start at the MLE in the background (see ``fit``)."""
    return compile_in_background(plan_sampling(family, design, resolved, config))


def sample(family, design, resolved, start: Start, config: NUTSConfig, ahead: Ahead | None = None):
    """NUTS draws from ``start``; ``ahead``: the sampler compiled ahead for a guessed config."""
    kwargs = None if ahead is None else ahead.plan.model_kwargs  # the same data, on the device
    plan = plan_sampling(family, design, resolved, config, kwargs)
    draws = run_nuts(plan, start.values, start.cov, config, site_order(family, resolved), ahead)
    return draws, plan.model_kwargs
