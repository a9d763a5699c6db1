"""The classical fit of a model with group-level terms, and its results: lme4's, side by side.

:func:`fit_mixed` is ``GLM.fit_mle()`` for a model with ``(x | g)`` terms: the Gaussian identity
model by :mod:`bayesglm.lmm` (lmer's ML, or REML), every other family and link by
:mod:`bayesglm.glmm` (glmer's Laplace approximation, nAGQ = 1, with a family's dispersion
estimated by maximum likelihood as glmmTMB does). :class:`MixedMLEResults` holds what lme4
reports: the fixed effects with Wald statistics, the log-likelihood and information criteria,
``varcorr()`` (the group sd's and correlations, and the dispersion), ``ranef()`` (the
conditional modes) and ``ngroups``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .interpret import Interpretation
from .results import Summary, coef_table, two_sided_p, wald_interval

__all__ = ["fit_mixed", "fit_kind", "MixedMLEResults", "SINGULAR_TOL"]


def fit_kind(model, reml: bool = False) -> str:
    """Which fit the model gets: "lmm" (the Gaussian identity model) or "glmm" (every other
    family and link); ``reml=True`` only for the former."""
    from .families import Gaussian
    from .links import Identity

    family = model.family
    if isinstance(family, Gaussian) and isinstance(family.link, Identity):
        return "lmm"
    if reml:
        raise ValueError("fit_mle: reml=True is lmer's REML, for Gaussian models with the "
                         f"identity link; this model is {family!r}")
    return "glmm"


def fit_mixed(model, *, reml: bool = False, progress: bool | None = None) -> MixedMLEResults:
    """lme4's fit of ``model`` (see the module docstring). ``progress``: glmer's bar (None:
    shown for large fits, :data:`bayesglm.glmm.PROGRESS_WORK`)."""
    from .glmm import fit_glmm
    from .lmm import fit_lmm

    kind = fit_kind(model, reml)
    d, terms = model.design, list(model.groups)
    if kind == "lmm":
        y = d.y if d.total_offset is None else d.y - d.total_offset
        fit = fit_lmm(d.X, y, terms, reml=reml, weights=d.weights)
    else:
        beta0, disp0 = _likelihood_start(model) if _exact(model.family) else (None, None)
        fit = fit_glmm(d.X, d.y, terms, model.family, trials=d.trials, offset=d.total_offset,
                       progress=progress, weights=d.weights, aux=d.aux, beta_start=beta0,
                       disp_start=disp0)
    _warn_singular(terms, fit.theta)
    _warn_fit(model, fit)
    return MixedMLEResults(model, fit, kind)


def _exact(family) -> bool:
    return bool(getattr(family, "exact_likelihood", False))


def _likelihood_start(model):
    """(fixed effects, extra parameters' unconstrained values) to start a LikelihoodFamily's
    Laplace fit from: the model's maximum-likelihood fit without its group terms (Newton's
    method on the exact likelihood). Its warnings about itself are not the mixed model's (the
    group effects change the fit) and are dropped, except a separation, which holds with group
    effects too."""
    import warnings

    from ._warnings import SeparationWarning, warn
    from .likelihood_mle import fit_likelihood

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_likelihood(model.design, model.family)
    for w in caught:
        if issubclass(w.category, SeparationWarning):
            warn(w.message, w.category)
    p = len(model.design.names)
    theta = np.where(np.isfinite(fit.theta), fit.theta, 0.0)
    if fit.limits:  # ran off to a limit without the group effects: start at the moment values
        from .likelihood_mle import start_values

        moments = start_values(model.design, model.family)[0]
        pos = p
        for q in model.family.extra_params():
            if q.name in fit.limits:
                theta[pos:pos + q.size] = moments[pos:pos + q.size]
            pos += q.size
    return theta[:p], theta[p:]


def _warn_fit(model, fit) -> None:
    """The fit's own warnings: a LikelihoodFamily's extra parameter run off to a limit, else a
    search that did not converge."""
    from ._warnings import ConvergenceWarning, warn

    family = model.family
    far = []
    if _exact(family):
        from .likelihood_mle import at_limits, unpack

        far = at_limits(family, unpack(family, np.asarray(fit.disp)), warn_each=True)
    if not fit.converged and not far:
        warn(f"fit_mle: the maximum-likelihood search of this {family.name} mixed model did "
             "not converge (its optimiser stopped short, and the end point is not a strict "
             "minimum of the deviance): the estimates and standard errors are unreliable. "
             "Simplify the group terms, rescale the predictors, or check the data against the "
             "family.", ConvergenceWarning)


#: lme4's isSingular tolerance: a diagonal theta below it is on the boundary
SINGULAR_TOL = 1e-4


def _warn_singular(terms, theta) -> list[str]:
    """lme4's isSingular: the sd's whose factor's diagonal entry is (numerically) 0, named."""
    from ._warnings import EstimabilityWarning, warn
    from .lmm import theta_layout

    found, k = [], 0
    for factor, _ in terms:
        for i, j in theta_layout(factor):
            if i == j and theta[k] < SINGULAR_TOL:
                found.append(f"sd_{factor.group}__{factor.terms[i]}")
            k += 1
    if found:
        warn(f"singular fit (lme4's isSingular): {', '.join(found)} "
             f"{'is' if len(found) == 1 else 'are'} at the boundary (a standard deviation of 0, "
             "or a correlation of +-1 with the terms before it): the data do not support that "
             "much group-level structure. Simplify the term (drop the slope, or use || for "
             "uncorrelated effects), or drop the term.", EstimabilityWarning)
    return found


class MixedMLEResults(Interpretation):
    """The maximum-likelihood fit of a model with group-level terms (lme4's, see ``fit_mle``).

    Conventions: ``bse`` from lmer's ``vcov`` (sigma^2 (R_X'R_X)^-1) or glmer's (the inverse of
    half the Laplace deviance's Hessian in the covariance parameters and the fixed effects
    jointly); ``zvalues``/``pvalues`` normal, as lme4's glmer (lmer prints t without p-values);
    ``llf`` is lme4's ``logLik`` (REML: -REMLcrit / 2); ``aic``/``bic`` count the fixed effects,
    the covariance parameters and (Gaussian) sigma, with log(nobs) in BIC, as lme4.
    """

    def __init__(self, model, fit, kind: str):
        self.model = model
        """GLM: the model fitted."""
        self.family = model.family
        d = model.design
        names = list(d.names)
        self._fit = fit
        self.exact = _exact(self.family)
        """bool: a LikelihoodFamily's model (its extra parameters follow the fixed effects in
        ``params``)."""
        params, cov = np.asarray(fit.params), np.asarray(fit.cov_params)
        if self.exact:  # the extra parameters after the fixed effects, on their natural scale
            from .likelihood_mle import natural_scale

            p, nd = len(names), len(fit.disp)
            order = np.r_[nd:nd + p, 0:nd]  # (disp, beta) -> (beta, disp)
            self.theta_u = np.concatenate([fit.params, fit.disp])
            """ndarray: (fixed effects, the extra parameters' unconstrained values)."""
            self.cov_theta_u = fit.cov_disp_beta[np.ix_(order, order)]
            """ndarray: their covariance (the inverse of half the Laplace deviance's Hessian,
            the covariance parameters' block eliminated)."""
            params, cov = natural_scale(self.family, self.theta_u, self.cov_theta_u, p)
            names += [lab for q in self.family.extra_params() for lab in q.labels()]
        self._cov = cov
        self.params = pd.Series(params, index=names, name="params")
        """Series: the fixed effects (then a LikelihoodFamily's extra parameters)."""
        self.bse = pd.Series(np.sqrt(np.maximum(np.diag(cov), 0.0)), index=names, name="bse")
        """Series: their standard errors (the extra parameters' by the delta method)."""
        if self.exact:
            from .likelihood_results import wald_statistics

            self.zvalues, self.pvalues = wald_statistics(self.family, self.params, self.bse,
                                                         len(d.names))
        else:
            self.zvalues = pd.Series(self.params / self.bse, name="z")
            self.pvalues = pd.Series(two_sided_p(self.zvalues.to_numpy()), index=names,
                                     name="P>|z|")
        self.llf = fit.llf
        """float: lme4's logLik."""
        self.k_params = fit.n_params
        """int: the parameters counted in aic/bic (lme4's logLik df)."""
        self.nobs = d.nobs
        self.aic = -2.0 * self.llf + 2.0 * self.k_params
        self.bic = -2.0 * self.llf + math.log(self.nobs) * self.k_params
        self.converged = fit.converged
        self.reml = getattr(fit, "reml", False)
        self.ngroups = {f.group: f.n_levels for f, _ in model.groups}
        """dict: group -> number of levels (lme4's ngrps)."""
        self.theta = np.asarray(fit.theta)
        """ndarray: lme4's theta (the relative covariance factors, lme4's order)."""
        self.covariances = tuple(np.asarray(c) for c in fit.covariances)
        """tuple: each term's (q, q) covariance of its group effects."""
        self.modes = tuple(np.asarray(m) for m in fit.modes)
        """tuple: each term's (levels, q) conditional modes (``ranef()`` as arrays)."""
        self.sigma = float(fit.sigma) if kind == "lmm" else None
        """float or None: the residual sd of a linear mixed model (a Student-t model's scale,
        an entry of ``params``)."""
        self.scale = float(fit.sigma) ** 2 if kind == "lmm" else float(fit.phi)
        """float: the dispersion on the variance scale (sigma^2, the Gamma's and inverse
        Gaussian's phi, the negative binomial's alpha; 1 for binomial and Poisson; NaN for a
        LikelihoodFamily, whose parameters are entries of ``params``)."""
        self.dispersion_estimated = kind == "lmm" or bool(fit.phi_estimated)
        """bool: whether ``scale`` was estimated (else the family's fixed value)."""
        self.kind = kind
        """str: ``"lmm"`` (lmer's fit of a Gaussian identity model) or ``"glmm"`` (glmer's
        Laplace approximation)."""
        if self.exact:  # mle.phi, mle.cutpoints, ... (a Student-t's sigma is its scale)
            from .likelihood_results import set_extra_attributes

            set_extra_attributes(self, self.family, self.params, self.bse)

    def _evaluator(self, re: str = "include"):
        """The delta method's evaluator (bayesglm.interpret): the fixed effects (and a
        LikelihoodFamily's extra parameters, unconstrained) with their covariance; with
        ``re="include"`` each row's conditional modes, held fixed (0 for a level not in the
        fit, as lme4's ``predict(allow.new.levels = TRUE)``)."""
        from .interpret import Evaluator, GroupEffects, Source

        d = self.model.design
        src = Source(tuple(d.names), d, self.model.formula_spec, self.model.data, self.family)
        if self.exact:
            theta, cov = self.theta_u, self.cov_theta_u
        else:
            theta, cov = self.params.to_numpy(), self.cov_params().to_numpy()
        groups = None
        if re == "include":
            factors = tuple(f for f, _ in self.model.groups)
            groups = GroupEffects(factors, self.modes,
                                  lambda j, k: np.zeros((k, len(factors[j].terms))))
        return Evaluator(src, theta=theta, cov=cov, groups=groups)

    def cov_params(self) -> pd.DataFrame:
        return pd.DataFrame(self._cov, index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of the fixed effects, columns 0 and 1 (as ``MLEResults``); a
        LikelihoodFamily's bounded extra parameter's formed on its unconstrained scale (as
        ``LikelihoodResults.conf_int``)."""
        ci = wald_interval(self.params, self.bse, alpha)
        if not self.exact:
            return ci
        from .likelihood_results import extra_interval

        return extra_interval(self.family, ci, self.theta_u, self.cov_theta_u,
                              len(self.model.design.names), alpha)

    def varcorr(self) -> pd.DataFrame:
        """The group sd's and correlations (and the dispersion), column ``estimate``.

        Rows ``sd_<group>__<term>`` and ``cor_<group>__<term1>__<term2>`` (correlated terms),
        then the estimated dispersion under the Bayesian model's name for it: ``sigma``
        (Gaussian), ``shape`` (Gamma, 1 / phi), ``lam`` (inverse Gaussian, 1 / phi),
        ``alpha`` (negative binomial).
        """
        rows = {}
        for (factor, _), cov in zip(self.model.groups, self._fit.covariances):
            sd = np.sqrt(np.diag(cov))
            for t, s in zip(factor.terms, sd):
                rows[f"sd_{factor.group}__{t}"] = float(s)
            if factor.correlated:
                q = len(factor.terms)
                for j in range(q):
                    for i in range(j + 1, q):
                        c = cov[i, j] / (sd[i] * sd[j]) if sd[i] > 0 and sd[j] > 0 else math.nan
                        rows[f"cor_{factor.group}__{factor.terms[j]}__{factor.terms[i]}"] = c
        if self.dispersion_estimated:  # the Bayesian model's dispersion parameter
            rows[self.family.dispersion_param] = float(
                self.family.dispersion_from_scale(self.scale))
        return pd.DataFrame({"estimate": pd.Series(rows, dtype=float)})

    def predict(self, data=None, *, re: str = "include", alpha: float = 0.05,
                linear: bool = False) -> pd.DataFrame:
        """Predicted mean (or eta, ``linear``) of new rows or the fitted ones, with a Wald
        interval: :meth:`predictions` (``bayesglm.interpret``) in ``MLEResults.predict``'s
        layout. ``re="include"``: each row's conditional modes (0 for a level not in the fit,
        as lme4's ``predict(allow.new.levels = TRUE)``); ``"exclude"``: the fixed effects alone.
        The standard errors are the fixed effects' (the modes held fixed, as lme4's
        ``predict(se.fit = TRUE)`` for merMod fits); a mean's interval is formed on the link
        scale and mapped back. ``data``: a DataFrame of the model's raw columns (the offset and
        exposure columns the model was fitted with among them).

        Returns
        -------
        DataFrame with columns ``mean``, ``mean_se``, ``mean_ci_lower``, ``mean_ci_upper``
        (one row per row of ``data``); for an ordinal family a column per category's
        probability with ``<level>_se`` beside, unless ``linear``.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
        t = self.predictions(data, type="link" if linear else "response",
                             conf_level=1 - alpha, re=re)
        index = self.model.design.row_index if data is None else data.index
        if "group" in t.columns:  # ordinal: a column per category
            levels = list(t["group"].cat.categories)
            est = t["estimate"].to_numpy().reshape(-1, len(levels))
            se = t["std_error"].to_numpy().reshape(-1, len(levels))
            out = {}
            for k, lv in enumerate(levels):
                out[str(lv)], out[f"{lv}_se"] = est[:, k], se[:, k]
            return pd.DataFrame(out, index=index)
        return pd.DataFrame({"mean": t["estimate"].to_numpy(),
                             "mean_se": t["std_error"].to_numpy(),
                             "mean_ci_lower": t["conf_low"].to_numpy(),
                             "mean_ci_upper": t["conf_high"].to_numpy()}, index=index)

    def ranef(self) -> dict[str, pd.DataFrame]:
        """The conditional modes: group -> DataFrame (index: levels, columns: terms)."""
        out: dict[str, pd.DataFrame] = {}
        for (factor, _), modes in zip(self.model.groups, self._fit.modes):
            df = pd.DataFrame(modes, index=pd.Index(factor.levels, name=factor.group),
                              columns=list(factor.terms))
            out[factor.group] = df if factor.group not in out else out[factor.group].join(
                df, rsuffix="_2")
        return out

    def summary(self, alpha: float = 0.05) -> Summary:
        """lme4's print: the random effects (sd, correlations), the groups, the fixed effects."""
        table = coef_table(self, alpha)
        method = {"lmm": "REML" if self.reml else "ML", "glmm": "Laplace (nAGQ = 1)"}[self.kind]
        info = [("Model Family", type(self.family).__name__),
                ("Link Function", type(self.family.link).__name__),
                ("Method", method), ("No. Observations", str(self.nobs)),
                ("Log-Likelihood", f"{self.llf:.6g}"), ("AIC", f"{self.aic:.6g}"),
                ("BIC", f"{self.bic:.6g}"), ("Converged", str(self.converged))]
        vc = self.varcorr()["estimate"]
        notes = ["Random effects: " + ", ".join(f"{k} = {v:.4g}" for k, v in vc.items()),
                 "Groups: " + ", ".join(f"{g} ({n} levels)" for g, n in self.ngroups.items())]
        if self.exact:
            from .likelihood_results import family_notes

            notes += family_notes(self.family)
        if not self.converged:
            notes.append("Warning: the fit did not converge; the estimates are unreliable.")
        return Summary("Mixed Model Regression Results (lme4-style MLE)", info, table, notes)

    def __repr__(self):
        return (f"<MixedMLEResults {type(self.family).__name__}({type(self.family.link).__name__})"
                f" nobs={self.nobs} groups={self.ngroups} logLik={self.llf:.6g}>")
