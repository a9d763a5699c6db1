"""Results of the exact-likelihood (Newton) fit of a :class:`~bayesglm.families.LikelihoodFamily`.

``LikelihoodResults`` has ``MLEResults``' contract where it applies (``params``, ``bse``,
``cov_params()``, ``conf_int()``, ``zvalues``, ``pvalues``, ``llf``, ``aic``, ``bic``, ``nobs``,
``df_model``, ``df_resid``, ``converged``, ``n_iter``, ``mu``, ``predict``, ``summary()``), with
the family's extra parameters as entries of ``params``/``bse`` under their names and as
attributes ``<name>`` / ``<name>_se`` (``mle.phi``, ``mle.phi_se``). The families have no
deviance or Pearson statistic of an exponential-dispersion family; those attributes are absent.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import jax.numpy as jnp
import numpy as np
import pandas as pd

from . import transforms as T
from ._x64 import float64
from .design import Design
from .interpret import Evaluator, Interpretation, Source
from .likelihood_mle import LikelihoodFit
from .results import (Summary, coef_table, link_prediction, prediction_rows, two_sided_p,
                      wald_interval)

__all__ = ["LikelihoodResults", "wald_statistics", "extra_interval", "set_extra_attributes",
           "family_notes"]


def wald_statistics(family, params: pd.Series, bse: pd.Series, p: int):
    """(zvalues, pvalues) of ``params`` (``p`` coefficients, then ``family``'s extra
    parameters): NaN for a bounded extra parameter (a positive precision, a probability), whose
    value 0 is on the boundary, not a hypothesis a Wald test can judge."""
    names = list(params.index)
    bounded = np.zeros(len(names), dtype=bool)
    pos = p
    for q in family.extra_params():
        bounded[pos:pos + q.size] = q.support in ("positive", "unit", "interval")
        pos += q.size
    z = (params / bse).to_numpy().copy()
    z[bounded] = np.nan
    pv = np.full(len(names), np.nan)
    pv[~bounded] = two_sided_p(z[~bounded])
    return pd.Series(z, index=names, name="z"), pd.Series(pv, index=names, name="P>|z|")


def extra_interval(family, ci: pd.DataFrame, theta, cov_theta, p: int,
                   alpha: float) -> pd.DataFrame:
    """``ci`` (Wald intervals of the coefficients and extra parameters) with each bounded
    scalar extra parameter's interval formed on its unconstrained scale and mapped back (so it
    stays inside the support); ``theta``/``cov_theta``: the estimate in (coefficients, u) and
    its covariance."""
    q_ = NormalDist().inv_cdf(1 - alpha / 2)
    pos = p
    for q in family.extra_params():
        if q.support in ("positive", "unit", "interval") and q.size == 1:
            u, se_u = theta[pos], math.sqrt(max(cov_theta[pos, pos], 0.0))
            name = q.labels()[0]
            ci.loc[name, 0] = float(T.to_constrained(q, np.float64(u - q_ * se_u)))
            ci.loc[name, 1] = float(T.to_constrained(q, np.float64(u + q_ * se_u)))
        pos += q.size
    return ci


def family_notes(family) -> list[str]:
    """A summary's lines about the family's extra parameters: what each means, the fixed ones,
    an ordinal response's categories in order."""
    notes = [f"{q.name}: {q.meaning}" for q in family.extra_params() if q.meaning]
    notes += [f"{k} = {v:g} (fixed)" for k, v in family.fixed_extra().items()]
    if getattr(family, "ordinal", False):
        notes.append("Categories, in order: " + " < ".join(map(str, family.levels)))
    return notes


def set_extra_attributes(obj, family, params: pd.Series, bse: pd.Series) -> None:
    """The attributes ``<name>`` / ``<name>_se`` of each extra parameter on a results object
    (``mle.phi``, ``mle.phi_se``; arrays for a vector such as the cutpoints)."""
    for q in family.extra_params():
        labels = q.labels()
        value = params[labels].to_numpy()
        se = bse[labels].to_numpy()
        setattr(obj, q.name, float(value[0]) if q.size == 1 else value)
        setattr(obj, f"{q.name}_se", float(se[0]) if q.size == 1 else se)


class LikelihoodResults(Interpretation):
    """Maximum-likelihood results of a family fitted on its exact likelihood.

    Conventions (written next to the tests that check them):

    * ``bse`` and ``cov_params()`` come from the observed information (the Hessian of the
      log-likelihood by automatic differentiation) in the coefficients and the extra
      parameters' unconstrained coordinates jointly, mapped to each extra parameter's natural
      scale by the delta method (glmmTMB's standard errors; pscl's and betareg's own use
      ``optim``'s finite-difference Hessian or the expected information and differ slightly);
      ``cov_type="HC0"``/``"HC1"`` is the sandwich with the rows' scores.
    * ``zvalues``/``pvalues`` of a bounded extra parameter (a positive precision, a probability)
      are NaN: its value 0 is on the boundary, not a hypothesis a Wald test can judge.
    * ``llf`` is the full log-likelihood (normalising constants included, R's ``logLik``);
      ``aic``/``bic`` count the coefficients and the estimated extra parameters.
    """

    def __init__(self, model, design: Design, family, fit: LikelihoodFit):
        self.model = model
        """GLM: the model that was fitted."""
        self.family = family
        """LikelihoodFamily: the response distribution, with its link."""
        self._design, self._fit = design, fit
        names = list(fit.names)
        self.params = pd.Series(fit.params, index=names, name="params")
        """Series: the coefficients, then the extra parameters (on their natural scale)."""
        self.bse = pd.Series(np.sqrt(np.maximum(np.diag(fit.cov), 0.0)), index=names,
                             name="bse")
        """Series: standard errors of ``params`` (delta method for the extra parameters)."""
        self.zvalues, self.pvalues = wald_statistics(family, self.params, self.bse,
                                                     len(design.names))
        """Series: Wald statistics ``params / bse`` and their two-sided normal p-values (NaN
        for bounded extra parameters)."""
        self.cov_type = fit.cov_type
        """str: ``"nonrobust"`` (observed information) or ``"HC0"``/``"HC1"``."""
        self.llf = fit.llf
        """float: the log-likelihood at the estimates (normalising constants included)."""
        self.converged = fit.converged
        """bool: whether Newton's method met its convergence rule within ``maxiter``."""
        self.n_iter = fit.n_iter
        """int: Newton iterations used."""
        self.limits = fit.limits
        """tuple of str: the extra parameters whose estimate ran off to a limit (a precision
        to infinity, a probability to 0: a ConvergenceWarning said so); their estimates and
        standard errors are meaningless."""
        self.separated = fit.separated
        """bool: the data are separated (a SeparationWarning said so: some coefficients run off
        to infinity and the estimate is not a maximum); ``converged`` is then False."""
        self.max_grad = fit.max_grad
        """float: the largest |gradient| entry of the log-likelihood at the estimate (in the
        coefficients and the extra parameters' unconstrained coordinates)."""
        self.nobs = design.nobs
        """int: number of rows fitted."""
        self.k_params = fit.k_params
        """int: estimated parameters: the coefficients and the extra parameters' entries."""
        self.df_model = len(design.names) - 1
        """int: model degrees of freedom, the number of coefficients minus one."""
        self.df_resid = design.sum_weights - fit.k_params
        """float: the sum of the weights minus the number of estimated parameters."""
        self.aic = -2.0 * self.llf + 2.0 * self.k_params
        """float: -2 llf + 2 k_params (R's ``AIC``)."""
        self.bic = -2.0 * self.llf + math.log(design.sum_weights) * self.k_params
        """float: -2 llf + log(sum of weights) k_params (R's ``BIC``)."""
        self.extra = dict(fit.extra)
        """dict: the extra parameters' estimates by name (fixed ones included)."""
        self.theta = fit.theta
        """ndarray: the estimate in (coefficients, u), u the extra parameters' unconstrained
        coordinates (:mod:`bayesglm.transforms`): where NUTS starts."""
        self.cov_theta = fit.cov_theta
        """ndarray: the inverse observed information in ``theta``'s coordinates (the sampler's
        mass matrix)."""
        set_extra_attributes(self, family, self.params, self.bse)
        index = design.row_index
        self.mu = pd.Series(fit.mu, index=index, name="mu")
        """Series: fitted means E[y], one per row (on the mean's scale)."""
        self.fittedvalues = self.mu
        """Series: statsmodels' name for ``mu``."""

    def _evaluator(self, re: str = "include") -> Evaluator:
        """The delta method's evaluator (bayesglm.interpret): (coefficients, u) with their
        covariance in those coordinates."""
        src = Source(tuple(self._design.names), self._design, self.model.formula_spec,
                     self.model.data, self.family)
        return Evaluator(src, theta=self._fit.theta, cov=self._fit.cov_theta)

    def cov_params(self) -> pd.DataFrame:
        """Covariance of ``params`` (DataFrame indexed both ways by name)."""
        return pd.DataFrame(self._fit.cov, index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals ``params -+ z_(1 - alpha/2) bse``, columns 0 and 1 (as statsmodels).

        For a bounded extra parameter the interval is formed on its unconstrained scale (the
        log of a precision, the logit of a probability) and mapped back, so it stays inside
        the support.
        """
        return extra_interval(self.family, wald_interval(self.params, self.bse, alpha),
                              self._fit.theta, self._fit.cov_theta, len(self._design.names),
                              alpha)

    @property
    def resid_response(self) -> pd.Series:
        """y - mu (on the mean's scale)."""
        d = self._design
        return pd.Series(d.y - self._fit.mu, index=d.row_index, name="resid_response")

    @float64
    def predict(self, exog=None, *, offset=None, exposure=None, alpha: float = 0.05,
                linear: bool = False) -> pd.DataFrame:
        """Predicted mean E[y] with a Wald confidence interval for new (or the fitted) rows.

        As ``MLEResults.predict``: the interval is formed on the link scale from the
        coefficients' covariance and mapped through the inverse link (the mean of these
        families is the inverse link of eta).

        With a zero part the mean is not the inverse link of eta: a modelled one (``zi="~ x"``)
        is evaluated on the new rows too (its formula re-applied), and the mean (1 - zi) mu
        (hurdle: (1 - hu) mu / (1 - f(0))) then gets its SE by the delta method in all the
        parameters and its interval on the log scale.

        Returns
        -------
        DataFrame with columns ``mean``, ``mean_se``, ``mean_ci_lower``, ``mean_ci_upper``; for
        an ordinal family (``Cumulative``) the category probabilities instead, a column per
        level and ``<level>_se`` beside (delta method with the observed information), unless
        ``linear``.
        """
        d = self._design
        X, off, index = prediction_rows(d, self.family, self.model.formula_spec, exog, offset,
                                        exposure)
        p = X.shape[1]
        if getattr(self.family, "ordinal", False) and not linear:
            return self._category_probabilities(X, off, index)
        if not self.family.mean_is_inverse_link and not linear:
            aux = d.aux if exog is None or not self.family.aux_formulas() else \
                self.model.formula_spec.aux_matrices(exog, "exog")
            return self._mean_by_delta(X, off, index, aux or {}, alpha)
        return link_prediction(self.family.link, X, self._fit.params[:p],
                               self._fit.cov[:p, :p], off, index, alpha, linear)

    def _mean_by_delta(self, X, off, index, aux, alpha) -> pd.DataFrame:
        """E[y] of a family whose mean is not the inverse link of eta alone (a zero part:
        (1 - zi) mu), its SE by the delta method in (beta, u), the interval formed on the
        log scale (the mean is positive)."""
        import jax

        from .likelihood_mle import unpack

        fam, fit = self.family, self._fit
        p = X.shape[1]
        Xj, offj = jnp.asarray(X), None if off is None else jnp.asarray(off)
        auxj = {k: jnp.asarray(v) for k, v in aux.items()} or None

        def log_mean(theta):
            eta = Xj @ theta[:p] + (0.0 if offj is None else offj)
            return jnp.log(fam.mean(eta, unpack(fam, theta[p:], jnp), auxj))

        theta = jnp.asarray(fit.theta)
        lm = np.asarray(log_mean(theta))
        J = np.asarray(jax.jacfwd(log_mean)(theta))
        se_log = np.sqrt(np.maximum(np.einsum("ma,ab,mb->m", J, fit.cov_theta, J), 0.0))
        q = NormalDist().inv_cdf(1 - alpha / 2)
        mean = np.exp(lm)
        return pd.DataFrame({"mean": mean, "mean_se": mean * se_log,
                             "mean_ci_lower": np.exp(lm - q * se_log),
                             "mean_ci_upper": np.exp(lm + q * se_log)}, index=index)

    def _category_probabilities(self, X, off, index) -> pd.DataFrame:
        """P(Y = k) for each row and category, with delta-method standard errors (the
        Jacobian of the probabilities in (beta, u) by JAX, with the observed information's
        covariance)."""
        import jax

        from .likelihood_mle import unpack

        fam, fit = self.family, self._fit
        p = X.shape[1]
        Xj = jnp.asarray(X)
        offj = None if off is None else jnp.asarray(off)

        def probs(theta):
            eta = Xj @ theta[:p] + (0.0 if offj is None else offj)
            return fam.probabilities(eta, unpack(fam, theta[p:], jnp))

        theta = jnp.asarray(fit.theta)
        P = np.asarray(probs(theta))
        J = np.asarray(jax.jacfwd(probs)(theta))  # (m, K, p + K - 1)
        se = np.sqrt(np.maximum(np.einsum("mka,ab,mkb->mk", J, fit.cov_theta, J), 0.0))
        labels = [str(v) for v in fam.levels]
        out = pd.DataFrame(P, columns=labels, index=index)
        for k, lab in enumerate(labels):
            out[f"{lab}_se"] = se[:, k]
        return out

    def summary(self, alpha: float = 0.05) -> Summary:
        """Coefficient and extra-parameter table with the fit statistics."""
        table = coef_table(self, alpha)
        d = self._design
        info = [
            ("Dep. Variable", d.endog_name),
            ("Model Family", type(self.family).__name__),
            ("Link Function", type(self.family.link).__name__),
            ("Method", "ML (Newton)"),
            ("No. Iterations", str(self.n_iter)),
            ("Covariance Type", self.cov_type),
            ("No. Observations", str(self.nobs)),
            ("Df Residuals", f"{self.df_resid:g}"),
            ("Df Model", str(self.df_model)),
            ("Log-Likelihood", f"{self.llf:.6g}"),
            ("AIC", f"{self.aic:.6g}"),
            ("BIC", f"{self.bic:.6g}"),
            ("Converged", str(self.converged)),
        ]
        notes = family_notes(self.family)
        fs = self.model.formula_spec
        if fs is not None:
            notes.append(f"Formula: {fs.formula}")
        if d.n_dropped:
            notes.append(f"{d.n_dropped} rows with missing values were dropped.")
        if not self.converged:
            notes.append("Warning: the fit did not converge; the estimates are unreliable.")
        return Summary(f"{type(self.family).__name__} Regression Results (MLE)", info, table,
                       notes)

    def __repr__(self):
        return (f"<LikelihoodResults {type(self.family).__name__}"
                f"({type(self.family.link).__name__}) nobs={self.nobs} llf={self.llf:.6g} "
                f"converged={self.converged}>")
