"""Where NUTS starts: the classical fit or the posterior mode, and the normal approximation there.

* :func:`mle_start`: the MLE, its covariance (inverse Fisher information) and the
  log-dispersion's asymptotic variance, block-diagonal (they are orthogonal in a GLM), the
  dispersion's rules from the family;
* :func:`map_start`: the posterior mode (MAP) with the model's priors and the inverse Hessian
  there, where the MLE does not exist (separation, rank deficiency) or did not converge;
* :func:`choose_start`: which of the two, from the outcome of the classical fit it is given;
* :func:`sampler_config`: the sampler's settings, every argument checked before any fitting.

The order of a whole fit is :func:`bayesglm.fitting.fit_bayes`'s.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ._args import integer, real
from ._warnings import ConvergenceWarning, SeparationWarning, warn
from .design import Design
from .families import Family
from .model import prior_arrays, prior_structure
from .priors import ResolvedPriors
from .problem import Problem
from .sampling import NUTSConfig, find_mode

__all__ = ["site_order", "Start", "MLEOutcome", "mle_start", "map_start", "choose_start",
           "MAPResults", "sampler_config", "DEFAULT_WARMUP"]

#: default warmup when NUTS starts at a converged MLE with its Fisher mass matrix held fixed
#: (PERFORMANCE-NOTES: 50 warmup iterations already gave R-hat < 1.01 on every seed; gradient
#: evaluations per effective draw bottom out at 100-200). From the MAP (separation) the mass
#: matrix is adapted as well, over a longer warmup. From a mixed model's Laplace fit
#: ("laplace", :mod:`bayesglm.mixed_bayes`) too, over 1000 iterations (Stan's default): its
#: normal approximation of the covariance parameters is rougher than a GLM's Fisher
#: information, and on sleepstudy 500 left the correlation's tail ESS at 308-997 over 4 seeds
#: (1000: 648-1273, at 0.2-0.6 s more).
DEFAULT_WARMUP = {"mle": 200, "map": 500, "laplace": 1000}


def site_order(family: Family, resolved: ResolvedPriors) -> list[str]:
    return ["beta"] + ([family.dispersion_param] if resolved.dispersion is not None else [])


class Start(NamedTuple):
    """Where NUTS starts and the normal approximation there."""

    kind: str  # "mle" or "map"
    values: dict  # constrained values by site
    cov: np.ndarray  # unconstrained covariance in site_order
    mle: object  # MLEResults or None


class MLEOutcome(NamedTuple):
    """What the classical fit gave: its results (None: rank deficient) and its warnings."""

    mle: object
    warnings: list


def mle_start(family: Family, design: Design, resolved: ResolvedPriors, mle) -> Start:
    p = len(design.names)
    values = {"beta": mle.params.to_numpy()}
    cov = np.zeros((p + (resolved.dispersion is not None),) * 2)
    # the model-based covariance whatever cov_type the classical fit reports
    cov[:p, :p] = mle.normalized_cov_params * mle.scale
    if resolved.dispersion is not None:
        value = float(family.dispersion_from_scale(family.mle_scale(mle.scale, mle.alpha)))
        values[family.dispersion_param] = value
        cov[p, p] = family.log_dispersion_var(value, design.sum_weights, mle.alpha_se)
    return Start("mle", values, cov, mle)


def _crude_start(family: Family, design: Design, resolved: ResolvedPriors) -> dict:
    """A start for the mode search that needs no MLE: zero slopes, intercept at the mean."""
    beta = np.zeros(len(design.names))
    w = np.ones(design.nobs) if design.weights is None else design.weights
    ybar = float(np.sum(w * design.y) / np.sum(w))
    if design.const_index is not None:
        m = family.crude_mean(ybar)
        beta[design.const_index] = float(family.link.link(np.float64(m))) / float(
            design.X[0, design.const_index]
        )
    values = {"beta": beta}
    if resolved.dispersion is not None:
        var = float(np.sum(w * (design.y - ybar) ** 2) / np.sum(w))
        values[family.dispersion_param] = family.crude_dispersion(ybar, var)
    return values


def map_start(family: Family, design: Design, data: Problem, resolved: ResolvedPriors,
              mle=None) -> Start:
    """The posterior mode, from the MLE's coefficients where they are finite and moderate."""
    init = _crude_start(family, design, resolved)
    if mle is not None and np.all(np.isfinite(mle.params.to_numpy())):
        ok = np.all(np.abs(mle.params.to_numpy()) < 1e3)
        if ok:
            init["beta"] = mle.params.to_numpy()
    structure = prior_structure(resolved)
    values, cov, converged = find_mode(
        family, structure, data, prior_arrays(resolved, structure), init,
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


def choose_start(family, design, data: Problem, resolved, outcome: MLEOutcome) -> Start:
    """The MLE where it exists and converged, else the MAP (with the reason as a warning).

    ``outcome``: the classical fit's results (None where the design is rank deficient) and
    the warnings it raised, which are handed on here, pointing at the user's call.
    """
    mle, caught = outcome
    if mle is None:
        return map_start(family, design, data, resolved, None)
    bad = [w for w in caught if issubclass(w.category, (SeparationWarning, ConvergenceWarning))]
    for w in caught:
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
        return map_start(family, design, data, resolved, mle)
    return mle_start(family, design, resolved, mle)


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
        self.dispersion_name = family.dispersion_param if start.cov.shape[0] > p else None
        self.dispersion = (
            float(start.values[self.dispersion_name]) if self.dispersion_name else None
        )

    def cov_params(self) -> pd.DataFrame:
        p = len(self.params)
        return pd.DataFrame(self._cov[:p, :p], index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        from .results import wald_interval

        return wald_interval(self.params, self.bse, alpha)

    def summary(self) -> pd.DataFrame:
        table = pd.DataFrame({"mode": self.params, "sd": self.bse})
        if self.dispersion_name:
            table.loc[self.dispersion_name] = [self.dispersion, np.nan]
        return table

    def __repr__(self):
        return f"<MAPResults params={self.params.round(4).to_dict()}>"


def sampler_config(start: Start, *, draws, warmup, chains, seed, progress, target_accept,
                   max_tree_depth, chain_method, ess=None, kind: str = "mle",
                   devices=None) -> NUTSConfig:
    """The sampler's settings, every argument checked (before any fitting or compilation).

    ``kind``: the start's kind when ``start`` is None (the settings a start of that kind will
    get, to compile ahead)."""
    draws = integer(draws, "draws", low=1)
    chains = integer(chains, "chains", low=1)
    max_tree_depth = integer(max_tree_depth, "max_tree_depth", low=1)
    seed = integer(seed, "seed", low=0)
    if seed >= 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, got {seed!r}")
    kind = kind if start is None else start.kind
    warmup = DEFAULT_WARMUP[kind] if warmup is None else integer(warmup, "warmup", low=0)
    target_accept = real(target_accept, "target_accept", low=0.0, high=1.0, low_open=True,
                         high_open=True)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if chain_method not in ("auto", "parallel", "threads", "sequential"):
        raise ValueError("chain_method must be 'auto', 'parallel', 'threads' or 'sequential', "
                         f"got {chain_method!r}")
    if ess is not None:
        ess = real(ess, "ess", low=0.0, low_open=True)
    return NUTSConfig(
        draws=int(draws), warmup=int(warmup), chains=int(chains), seed=int(seed),
        target_accept=float(target_accept), max_tree_depth=int(max_tree_depth),
        progress=bool(progress), adapt_mass_matrix=kind in ("map", "laplace"),
        chain_method=chain_method, ess=ess, devices=devices,
    )
