"""Prior-data conflict: a posterior that the prior, not the likelihood, has put where it is.

bayesglm keeps rstanarm's default priors under ``priors="auto"`` (so its posteriors can be
checked against rstanarm), and a default can disagree with the data: rstanarm's Exponential(1)
on a Gamma model's shape has mean 1, while the statsmodels Scotland data put the shape's MLE
at 279; the posterior shape is then ~13 and every coefficient's posterior sd ~5x its MLE SE.

After sampling from a converged MLE, each parameter's posterior is compared with the
likelihood's normal approximation there (the MLE and its SE, the dispersion on the log scale):

* it is *far* when the posterior mean is more than ``SHIFT`` MLE standard errors from the MLE,
  or the posterior sd is more than ``WIDTH`` times the MLE SE (with a proper prior and a
  likelihood that dominates it, the posterior is at most as wide as the likelihood);
* the prior *explains* it when the prior's log density at the MLE is more than ``DROP`` nats
  below its log density at the posterior mean: the posterior moved away from the MLE towards
  where the prior has its mass.

A parameter that is both gets a :class:`~bayesglm.PriorConflictWarning` with advice; the
coefficients widened by a conflicting dispersion prior are reported with it.
"""

from __future__ import annotations

import numpy as np

from ._warnings import PriorConflictWarning, warn

__all__ = ["check_prior_conflict", "SHIFT", "WIDTH", "DROP"]

SHIFT = 3.0
WIDTH = 2.0
DROP = 2.0


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _conflicts(values, ses, draws, priors, log_scale):
    """Rows (index, shift in SEs, width ratio, log-density drop) of the conflicting parameters."""
    out = []
    for j, (m, s, prior) in enumerate(zip(values, ses, priors)):
        x = draws[:, j]
        if prior is None or not (np.isfinite(m) and np.isfinite(s) and s > 0):
            continue
        t = np.log(x) if log_scale[j] else x
        t_m = np.log(m) if log_scale[j] else m
        mean, sd = float(np.mean(t)), float(np.std(t))
        shift, width = abs(mean - t_m) / s, sd / s
        if shift <= SHIFT and width <= WIDTH:
            continue

        def logdens(v):  # on the scale compared (the log scale adds its Jacobian)
            v_nat = np.exp(v) if log_scale[j] else v
            return float(prior.logpdf(v_nat)) + (v if log_scale[j] else 0.0)

        drop = logdens(mean) - logdens(t_m)
        if np.isfinite(drop) and drop > DROP:
            out.append((j, shift, width, drop))
    return out


def check_prior_conflict(start, posterior: dict, resolved, names, dispersion_name) -> list[str]:
    """Warn about parameters whose posterior the prior pulled away from the likelihood.

    ``start``: the sampler's start (:class:`~bayesglm.posterior.Start`), used only when it is the
    MLE; ``posterior``: draws by site, (chains, draws, ...). Returns the names warned about.
    """
    if start.kind != "mle":
        return []
    p = len(names)
    beta = np.asarray(posterior["beta"]).reshape(-1, p)
    # coefficients on the scale their priors are on (the intercept centred where it is)
    theta = resolved.centred(beta)
    c = resolved.centred(np.eye(p)).T  # theta = c @ beta (the centring is linear)
    m_theta = c @ np.asarray(start.values["beta"], dtype=float)
    se_theta = np.sqrt(np.diag(c @ start.cov[:p, :p] @ c.T))
    priors = [pr if pr.proper else None for pr in resolved.coef]
    values, ses, draws, log_scale, labels = list(m_theta), list(se_theta), theta, [False] * p, list(names)
    if resolved.dispersion is not None and dispersion_name in posterior:
        d = np.asarray(posterior[dispersion_name]).reshape(-1, 1)
        draws = np.column_stack([draws, d])
        values.append(float(start.values[dispersion_name]))
        ses.append(float(np.sqrt(start.cov[p, p])))
        priors.append(resolved.dispersion if resolved.dispersion.proper else None)
        log_scale.append(True)
        labels.append(dispersion_name)
    found = _conflicts(values, ses, draws, priors, log_scale)
    if not found:
        return []
    parts = []
    for j, shift, width, drop in found:
        mean = float(np.mean(draws[:, j]))
        prior = priors[j]
        scale = " (log scale)" if log_scale[j] else ""
        parts.append(
            f"{labels[j]!r}: posterior mean {_fmt(mean)} against the MLE {_fmt(values[j])} "
            f"({shift:.1f} MLE standard errors away{scale}, posterior sd {width:.2g}x the MLE "
            f"SE); its prior {prior.describe()} is {drop:.3g} nats less dense at the MLE"
        )
    flagged = {labels[j] for j, *_ in found}
    advice = []
    if dispersion_name in flagged:
        widths = np.std(beta, axis=0) / np.sqrt(np.diag(start.cov[:p, :p]))
        parts.append(f"with it the coefficients' posterior sds are a median {np.median(widths):.2g}x "
                     "their MLE standard errors")
        mle_disp = values[-1]
        advice.append(f'priors={{"dispersion": bg.priors.Exponential({_fmt(1 / mle_disp)})}} '
                      f"(mean {_fmt(mle_disp)}, the MLE's order) or another prior that allows the "
                      "data's value")
    coefs = [s for s in flagged if s != dispersion_name]
    if coefs:
        advice.append("a wider prior for " + ", ".join(repr(s) for s in coefs)
                      + ' (e.g. priors={"' + coefs[0] + '": bg.priors.Normal(0, 10 * scale)})')
    warn(
        "prior-data conflict: the prior, not the data, decides these posteriors: "
        + "; ".join(parts) + ". If that prior is not what you believe, give "
        + " or ".join(advice) + "; model.prior_summary() shows the priors used.",
        PriorConflictWarning,
    )
    return sorted(flagged)
