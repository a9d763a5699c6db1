"""Results of the classical (maximum-likelihood) fit: ``MLEResults``.

Plain container: pandas objects indexed by coefficient name, computed once from the
:class:`~bayesglm.mle.MLEFit` record; statistics follow statsmodels' ``GLMResults`` conventions
except where R's are the reference (log-likelihood, AIC and BIC, see :class:`MLEResults`).
"""

from __future__ import annotations

import math
from functools import cached_property
from statistics import NormalDist

import jax.numpy as jnp
import numpy as np
import pandas as pd

from ._x64 import float64
from .design import Design, new_rows
from .families import Family
from .interpret import Evaluator, Interpretation, Source
from .mle import MLEFit
from .problem import eta_draws

__all__ = ["MLEResults", "Summary", "two_sided_p", "wald_interval", "coef_table", "glm_info",
           "prediction_rows", "link_prediction"]


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-value, accurate far in the tail."""
    return np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in np.ravel(z)]).reshape(np.shape(z))


def wald_interval(params: pd.Series, bse: pd.Series, alpha: float) -> pd.DataFrame:
    """``params -+ z_(1 - alpha/2) * bse`` as columns 0 (lower) and 1 (upper), as statsmodels'
    ``conf_int()``; every results object's ``conf_int`` is this."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    q = NormalDist().inv_cdf(1 - alpha / 2)
    return pd.DataFrame({0: params - q * bse, 1: params + q * bse})


def coef_table(res, alpha: float) -> pd.DataFrame:
    """The coefficient table every classical ``summary()`` shows: estimate, SE, z, p and the
    Wald interval (``res.conf_int(alpha)``), a row per entry of ``res.params``."""
    ci = res.conf_int(alpha)
    pct = f"{100 * (1 - alpha):g}%"
    return pd.DataFrame({"coef": res.params, "std err": res.bse, "z": res.zvalues,
                         "P>|z|": res.pvalues, f"[{pct}": ci[0], f"{pct}]": ci[1]})


def glm_info(res, endog_name: str, method: str) -> list[tuple[str, str]]:
    """The fit statistics a GLM's classical ``summary()`` shows beside its coefficient table
    (``res``: an ``MLEResults`` or anything with its statistics), as statsmodels lays them out."""
    return [
        ("Dep. Variable", endog_name),
        ("Model Family", type(res.family).__name__),
        ("Link Function", type(res.family.link).__name__),
        ("Method", method),
        ("No. Iterations", str(res.n_iter)),
        ("Covariance Type", res.cov_type),
        ("No. Observations", str(res.nobs)),
        ("Df Residuals", f"{res.df_resid:g}"),
        ("Df Model", str(res.df_model)),
        ("Scale", f"{res.scale:.6g}"),
        ("Log-Likelihood", f"{res.llf:.6g}"),
        ("Deviance", f"{res.deviance:.6g}"),
        ("Pearson chi2", f"{res.pearson_chi2:.4g}"),
        ("AIC", f"{res.aic:.6g}"),
        ("BIC", f"{res.bic:.6g}"),
        ("Converged", str(res.converged)),
    ]


def prediction_rows(design: Design, family: Family, formula_spec, exog, offset, exposure):
    """(X, total offset, row labels) for a classical ``predict``: the fitted rows (``exog``
    None, with their own offset and exposure) or validated new ones."""
    if exog is None:
        if offset is not None or exposure is not None:
            raise ValueError("offset/exposure for predict() need new exog rows as well")
        return design.X, design.total_offset, design.row_index
    rows = new_rows(exog, names=design.names, family=family, formula_spec=formula_spec,
                    offset=offset, exposure=exposure, has_offset=design.offset is not None,
                    has_exposure=design.exposure is not None, what="exog")
    return rows.X, rows.offset, rows.index


def link_prediction(link, X, beta, cov, offset, index, alpha: float,
                    linear: bool) -> pd.DataFrame:
    """The mean (or eta, ``linear``) of rows X with its delta-method SE and a Wald interval
    formed on the link scale and mapped through the inverse link (ordered also for decreasing
    links), from coefficients ``beta`` with covariance ``cov``."""
    eta = eta_draws(np.asarray(beta)[None, :], X, offset)[0]
    se_eta = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, cov, X), 0.0))
    q = NormalDist().inv_cdf(1 - alpha / 2)
    lo, hi = eta - q * se_eta, eta + q * se_eta
    if linear:
        mean, se = eta, se_eta
    else:
        mean = np.asarray(link.inverse(jnp.asarray(eta)))
        se = se_eta * np.abs(np.asarray(link.inverse_deriv(jnp.asarray(eta))))
        lo = np.asarray(link.inverse(jnp.asarray(lo)))
        hi = np.asarray(link.inverse(jnp.asarray(hi)))
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return pd.DataFrame(
        {"mean": mean, "mean_se": se, "mean_ci_lower": lo, "mean_ci_upper": hi}, index=index
    )


class Summary:
    """A printable summary: ``str()`` gives the text table, notebooks render HTML."""

    def __init__(self, title: str, info: list[tuple[str, str]], table: pd.DataFrame, notes=()):
        self.title = title
        self.info = info
        self.table = table
        self.notes = list(notes)

    def as_text(self) -> str:
        width = 78
        lines = [self.title.center(width), "=" * width]
        half = (len(self.info) + 1) // 2
        left, right = self.info[:half], self.info[half:]
        for i in range(half):
            a = f"{left[i][0] + ':':<18}{left[i][1]:>20}"
            b = f"{right[i][0] + ':':<18}{right[i][1]:>20}" if i < len(right) else ""
            lines.append(f"{a}  {b}".rstrip())
        lines.append("=" * width)
        with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 200):
            lines.append(self.table.to_string())
        lines.append("=" * width)
        lines += self.notes
        return "\n".join(lines)

    def __str__(self):
        return self.as_text()

    __repr__ = __str__

    def _repr_html_(self):
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in self.info)
        notes = "".join(f"<p>{n}</p>" for n in self.notes)
        return (
            f"<h4>{self.title}</h4><table>{rows}</table>"
            f"{self.table.to_html(float_format='{:.4g}'.format)}{notes}"
        )


class MLEResults(Interpretation):
    """Maximum-likelihood results of a GLM, as statsmodels' ``GLMResults``.

    Conventions (written next to the tests that check them):

    * ``bse`` and ``cov_params()`` are the model-based covariance times ``scale`` (Pearson chi2 /
      df_resid for Gaussian, Gamma and inverse Gaussian; 1 otherwise), or a sandwich estimator
      when the fit used ``cov_type="HC0".."HC3"``.
    * ``zvalues``/``pvalues`` use the normal distribution (as statsmodels; R's ``summary.glm``
      uses t with ``df_resid`` for families with an estimated dispersion).
    * ``llf`` is R's ``logLik``: the full log-likelihood with the dispersion at deviance / n
      for Gaussian, Gamma and inverse Gaussian, and at the estimated alpha for NegativeBinomial.
      ``aic``/``bic`` count the dispersion (or alpha) as a parameter, as R does (statsmodels
      does not).
    * Frequency weights act as replicated rows: ``nobs`` is the number of rows, ``df_resid`` is
      the sum of the weights minus the number of coefficients.
    """

    def __init__(self, model, design: Design, family: Family, fit: MLEFit):
        self.model = model
        """GLM: the model that was fitted."""
        self.family = family
        """Family: the response distribution, with its link (``family.link``)."""
        self._design = design
        self._fit = fit
        names = list(design.names)
        self.params = pd.Series(fit.params, index=names, name="params")
        """Series: the estimated coefficients, indexed by coefficient name."""
        self.bse = pd.Series(np.sqrt(np.diag(fit.cov)), index=names, name="bse")
        """Series: standard errors of ``params`` (square roots of ``cov_params()``'s diagonal)."""
        self.zvalues = self.params / self.bse
        """Series: Wald statistics ``params / bse`` (compared with the normal distribution)."""
        self.zvalues.name = "z"
        self.pvalues = pd.Series(two_sided_p(self.zvalues.to_numpy()), index=names, name="P>|z|")
        """Series: two-sided p-values of ``zvalues`` from the standard normal distribution."""
        self.normalized_cov_params = fit.cov_unscaled
        """ndarray (p, p): the model-based covariance before scaling, (X'WX)^-1 (statsmodels'
        name); ``normalized_cov_params * scale`` is the nonrobust ``cov_params()``."""
        self.cov_type = fit.cov_type
        """str: the covariance used for ``bse``: ``"nonrobust"`` or ``"HC0"`` .. ``"HC3"``."""
        self.deviance = fit.deviance
        """float: the residual deviance (R's ``deviance``)."""
        self.pearson_chi2 = fit.pearson_chi2
        """float: Pearson's chi-squared, sum of weighted (y - mu)^2 / V(mu)."""
        self.scale = fit.scale
        """float: the dispersion: Pearson chi2 / df_resid for Gaussian, Gamma and inverse
        Gaussian; 1 for Binomial, Poisson and NegativeBinomial."""
        self.llf = fit.llf
        """float: the log-likelihood at the estimates (R's ``logLik``; see the class notes)."""
        self.converged = fit.converged
        """bool: whether IRLS met its convergence rule within ``maxiter`` iterations."""
        self.n_iter = fit.n_iter
        """int: IRLS iterations used."""
        self.nobs = design.nobs
        """int: number of rows fitted."""
        self.df_model = len(names) - 1
        """int: model degrees of freedom, the number of coefficients minus one."""
        self.df_resid = design.sum_weights - len(names)
        """float: residual degrees of freedom, the sum of the weights minus the coefficients."""
        self.k_params = len(names) + (1 if family.has_dispersion or fit.alpha_estimated else 0)
        """int: parameters counted by ``aic``/``bic``: the coefficients, plus the dispersion
        (or an estimated alpha)."""
        self.aic = -2.0 * self.llf + 2.0 * self.k_params
        """float: Akaike's criterion, -2 llf + 2 k_params (as R's ``AIC``)."""
        self.bic = -2.0 * self.llf + math.log(design.sum_weights) * self.k_params
        """float: the Bayesian criterion, -2 llf + log(sum of weights) k_params (R's ``BIC``)."""
        self.alpha = fit.alpha
        """float or None: NegativeBinomial's alpha (var = mu + alpha mu^2), estimated or fixed;
        None for the other families."""
        self.alpha_se = fit.alpha_se
        """float or None: the standard error of an estimated ``alpha``."""
        index = design.row_index
        self.mu = pd.Series(fit.mu, index=index, name="mu", copy=False)  # read-only: shared
        """Series: fitted means, one per row (Binomial: probabilities)."""
        self.fittedvalues = self.mu
        """Series: statsmodels' name for ``mu``."""

    @property
    def tvalues(self) -> pd.Series:
        """Series: statsmodels' name for ``zvalues`` (the same Series).

        statsmodels' GLM results call the Wald statistics ``tvalues`` although they are
        compared with the normal distribution, as here: ``mle.tvalues`` is ``mle.zvalues``.
        """
        return self.zvalues

    # -- covariance and intervals ---------------------------------------------------------
    def _evaluator(self, re: str = "include") -> Evaluator:
        """The delta method's evaluator (bayesglm.interpret): the coefficients, their
        covariance (of ``cov_type``)."""
        src = Source(tuple(self._design.names), self._design, self.model.formula_spec,
                     self.model.data, self.family)
        return Evaluator(src, theta=self.params.to_numpy(), cov=self.cov_params().to_numpy())

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the coefficients (DataFrame indexed both ways by name), the
        model-based one times ``scale`` or the sandwich of ``cov_type``."""
        return pd.DataFrame(self._fit.cov, index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals, ``params -+ z_(1 - alpha/2) * bse``.

        Parameters
        ----------
        alpha : float
            1 - the confidence level (0.05: 95% intervals).

        Returns
        -------
        DataFrame
            Indexed by coefficient name, with columns ``0`` (lower bound) and ``1`` (upper
            bound), as statsmodels' ``conf_int()``: ``ci[0]``, ``ci[1]`` work as there.
        """
        return wald_interval(self.params, self.bse, alpha)

    @cached_property
    @float64
    def null_deviance(self) -> float:
        """float: deviance of the intercept-only model with the same offset (R's
        ``null.deviance``)."""
        return self._fit.null_deviance()

    # -- residuals ------------------------------------------------------------------------
    def _prior_weights(self):
        d = self._design
        pw = np.ones(d.nobs) if d.weights is None else d.weights
        return pw if d.trials is None else pw * d.trials

    def _series(self, values, name):
        return pd.Series(np.asarray(values), index=self._design.row_index, name=name)

    @cached_property
    @float64
    def _obs(self) -> dict:
        return self._fit.obs()

    @cached_property
    def resid_response(self) -> pd.Series:
        """y - mu (Binomial: on the proportion scale)."""
        return self._series(self._design.y - self._fit.mu, "resid_response")

    @cached_property
    def resid_pearson(self) -> pd.Series:
        """(y - mu) sqrt(prior weight / V(mu))."""
        var = self._obs["variance"]
        r = (self._design.y - self._fit.mu) * np.sqrt(self._prior_weights() / var)
        return self._series(r, "resid_pearson")

    @cached_property
    def resid_deviance(self) -> pd.Series:
        """sign(y - mu) sqrt(prior weight * unit deviance)."""
        y, mu = self._design.y, self._fit.mu
        dev = self._obs["unit_deviance"]
        r = np.sign(y - mu) * np.sqrt(np.maximum(self._prior_weights() * dev, 0.0))
        return self._series(r, "resid_deviance")

    @cached_property
    def resid_working(self) -> pd.Series:
        """(y - mu) * d eta / d mu, the working residual of the last IRLS step."""
        dmu = self._obs["dmu_deta"]
        return self._series((self._design.y - self._fit.mu) / dmu, "resid_working")

    # -- prediction -----------------------------------------------------------------------
    @float64
    def predict(self, exog=None, *, offset=None, exposure=None, alpha: float = 0.05,
                linear: bool = False) -> pd.DataFrame:
        """Predicted mean with a Wald confidence interval for new (or the fitted) rows.

        The interval is computed on the link scale (eta +- z * se(eta)) and mapped through the
        inverse link, so it respects the mean's range; its bounds are ordered even for
        decreasing links (inverse, inverse squared).

        Parameters
        ----------
        exog : array-like (m, p) or DataFrame, optional
            New design rows (a DataFrame is matched to the coefficient names). For a model made
            by ``from_formula``, a DataFrame of the raw columns: the formula is re-applied (its
            transformations and the category levels learned in the fit; an unseen level is an
            error). ``None`` predicts the fitted rows with the model's own offset and exposure.
        offset, exposure : array-like (m,) or str, optional
            For new rows of a model fitted with an offset or exposure these are required. With
            a formula model they may name a column of ``exog``, and default to the column the
            model was fitted with when ``exog`` has it.
        alpha : float
            1 - confidence level.
        linear : bool
            Return the linear predictor eta instead of the mean.

        Returns
        -------
        DataFrame with columns ``mean``, ``mean_se``, ``mean_ci_lower``, ``mean_ci_upper``.
        """
        X, off, index = prediction_rows(self._design, self.family, self.model.formula_spec,
                                        exog, offset, exposure)
        return link_prediction(self.family.link, X, self._fit.params, self._fit.cov, off, index,
                               alpha, linear)

    # -- display --------------------------------------------------------------------------
    def summary(self, alpha: float = 0.05) -> Summary:
        """Coefficient table and fit statistics, like statsmodels' ``GLMResults.summary()``."""
        table = coef_table(self, alpha)
        d = self._design
        info = glm_info(self, d.endog_name, "IRLS")
        notes = []
        if self.alpha is not None:
            se = "" if self.alpha_se is None else f" (std err {self.alpha_se:.4g})"
            how = "estimated by maximum likelihood" if self._fit.alpha_estimated else "fixed"
            notes.append(f"alpha = {self.alpha:.6g}{se}, {how}; var = mu + alpha mu^2")
        fs = self.model.formula_spec
        if fs is not None:
            notes.append(f"Formula: {fs.formula}")
            if fs.response_note():
                notes.append(fs.response_note())
        if d.n_dropped:
            notes.append(f"{d.n_dropped} rows with missing values were dropped.")
        if not self.converged:
            notes.append("Warning: the fit did not converge; the estimates are unreliable.")
        return Summary("Generalized Linear Model Regression Results (MLE)", info, table, notes)

    def __repr__(self):
        return (
            f"<MLEResults {type(self.family).__name__}({type(self.family.link).__name__}) "
            f"nobs={self.nobs} deviance={self.deviance:.6g} converged={self.converged}>"
        )
