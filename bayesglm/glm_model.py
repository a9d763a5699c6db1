"""The public model object, :class:`GLM`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._x64 import float64
from .design import Design, make_design
from .families import Family, get_family
from .links import Link
from .mle import fit_mle as _fit_mle
from .results import MLEResults

__all__ = ["GLM", "glm"]

#: store the pointwise log-likelihood (for LOO/WAIC) and X in the InferenceData up to this many
#: numbers (chains x draws x rows, 80 MB); beyond it the fit stays lean and ``loo()``/``waic()``
#: compute the log-likelihood when asked
LOGLIK_MAX = 10_000_000


class GLM:
    """A generalized linear model: data, family, link and priors.

    The array interface mirrors statsmodels' ``sm.GLM``: no intercept is added to ``exog``.
    All input is validated here, before any JAX tracing; a fit never changes the model.

    Parameters
    ----------
    endog : array-like (n,) or (n, 2)
        Response. For Binomial: 0/1 (or booleans), success counts (or proportions) with
        ``trials``, or a two-column ``[successes, failures]`` array as in statsmodels.
    exog : array-like (n, p) or DataFrame
        Design matrix (add a constant column yourself for an intercept).
    family : Family or str, optional
        ``bg.families.Poisson()`` or ``"poisson"``; default Gaussian.
    link : Link or str, optional
        Overrides the family's link (default: the family's canonical link, as R).
    offset : array-like (n,), optional
        Added to the linear predictor.
    exposure : array-like (n,), optional
        Positive; ``log(exposure)`` is added to the linear predictor (log link only).
    weights : array-like (n,), optional
        Frequency weights (a row with weight k counts as k identical rows).
    trials : array-like (n,), optional
        Binomial number of trials per row.
    priors : str, Prior or dict
        Priors of the Bayesian fit (``"auto"``, ``"gelman2008"``, ``"flat"``, ...).
    names : sequence of str, optional
        Coefficient names (default: DataFrame columns, else ``x0, x1, ...``; a constant
        column is named ``const``).
    missing : {"raise", "drop"}
        What to do with rows holding NaN: raise an error naming them (default), or drop them
        (with a :class:`~bayesglm.MissingDataWarning` giving the count).

    Examples
    --------
    >>> import numpy as np, bayesglm as bg
    >>> X = np.column_stack([np.ones(9), np.arange(9.0)])
    >>> y = np.array([18, 17, 15, 20, 10, 20, 25, 13, 12])
    >>> mle = bg.GLM(y, X, family="poisson").fit_mle()
    >>> mle.params.round(4).tolist()
    [2.8766, -0.016]
    """

    def __init__(
        self,
        endog,
        exog,
        family: Family | str | None = None,
        *,
        link: Link | str | None = None,
        offset=None,
        exposure=None,
        weights=None,
        trials=None,
        priors="auto",
        names=None,
        missing: str = "raise",
    ):
        self.family = get_family(family, link)
        self.design: Design = make_design(
            endog,
            exog,
            self.family,
            offset=offset,
            exposure=exposure,
            weights=weights,
            trials=trials,
            names=names,
            missing=missing,
        )
        # priors are checked (unknown coefficient names, misspelt strings) and scaled here, when
        # the model is built, not at the first fit
        self.priors = priors

    #: the formula of a model made by :meth:`from_formula` (a ``bayesglm.formula.FormulaSpec``:
    #: it re-applies the formula to new data in ``predict``); None for the array interface
    formula_spec = None

    @classmethod
    def from_formula(
        cls,
        formula: str,
        data,
        family: Family | str | None = None,
        *,
        link: Link | str | None = None,
        offset=None,
        exposure=None,
        weights=None,
        trials=None,
        priors="auto",
        missing: str = "raise",
        context=None,
    ) -> GLM:
        """A GLM from a formula and a DataFrame (formulaic), as statsmodels' ``smf.glm``.

        An intercept is included unless the formula says ``- 1`` or ``0 +``; coefficient names
        follow the formula (``Intercept``, ``np.log(x)``, ``C(site)[T.b]``, ``x1:x2``) and flow
        into every table, plot and InferenceData coordinate. ``predict(new_df)`` on the results
        re-applies the formula's transformations and the category levels learned here.

        Parameters
        ----------
        formula : str
            ``"y ~ x1 + np.log(x2) + I(x3**2) + C(site, Treatment('b')) + x1:x2"``. Strings and
            pandas categoricals are categorical (treatment coding, first level the reference).
        data : DataFrame
            Holds every column the formula names.
        family, link, priors
            As :class:`GLM`.
        offset, exposure, weights, trials : str or array-like, optional
            A column name of ``data`` or a per-row array.
        missing : {"raise", "drop"}
            Rows with a missing value in a column the model uses: an error that says how many
            rows and which columns (default), or dropped with a ``MissingDataWarning``.
        context : dict, optional
            Names (functions, arrays) the formula may use besides the data's columns; default:
            those visible where ``from_formula`` is called.

        Notes
        -----
        Binomial responses may be 0/1, booleans, counts of successes with ``trials``, or a
        two-level string/categorical column: the first level (sorted, or the categorical's
        order) is failure and the second success, as R's ``glm``; the summaries say which.

        Examples
        --------
        >>> import bayesglm as bg
        >>> df = bg.datasets.load("dobson")
        >>> mle = bg.GLM.from_formula("counts ~ C(outcome) + C(treatment)", df,
        ...                           family="poisson").fit_mle()
        >>> round(mle.deviance, 4)
        5.1291
        """
        from .formula import caller_context, from_formula

        if context is None:
            context = caller_context(1)
        return from_formula(cls, formula, data, family, link=link, offset=offset,
                            exposure=exposure, weights=weights, trials=trials, priors=priors,
                            missing=missing, context=context)

    @property
    def link(self) -> Link:
        return self.family.link

    @property
    def names(self) -> tuple[str, ...]:
        return self.design.names

    @property
    def nobs(self) -> int:
        return self.design.nobs

    @float64
    def fit_mle(self, *, maxiter: int = 100, tol: float = 1e-8, cov_type: str = "nonrobust") -> MLEResults:
        """Maximum likelihood by IRLS (jit-compiled JAX), as R's ``glm``.

        Parameters
        ----------
        maxiter : int
            Maximum number of IRLS iterations.
        tol : float
            Convergence when ``|dev - dev_old| / (|dev| + 0.1) < tol`` (R's rule).
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}
            Model-based covariance, or a heteroskedasticity-robust sandwich: HC0 plain, HC1 with
            the n / (n - p) correction, HC2/HC3 with each row's squared score divided by
            (1 - h) / (1 - h)^2, h the GLM hat value (as R's ``sandwich::vcovHC``).

        Raises
        ------
        RankDeficientError
            When columns of ``exog`` are linearly dependent; the message names them.

        Warns
        -----
        SeparationWarning, ConvergenceWarning
        """
        fit = _fit_mle(self.design, self.family, maxiter=maxiter, tol=tol, cov_type=cov_type)
        return MLEResults(self, self.design, self.family, fit)

    # -- the Bayesian side ------------------------------------------------------------------
    @property
    def priors(self):
        """The priors as given (``"auto"``, a Prior, a dict, ...); setting them re-checks them."""
        return self._priors

    @priors.setter
    def priors(self, value):
        from .priors import resolve_priors

        self._resolved = resolve_priors(value, self.design, self.family)
        self._priors = value

    @property
    def resolved_priors(self):
        """The priors actually used (after autoscaling), resolved when the model is built."""
        return self._resolved

    def prior_summary(self) -> pd.DataFrame:
        """The priors actually used, after autoscaling (as rstanarm's ``prior_summary``)."""
        return self.resolved_priors.table()

    @float64
    def fit_map(self, *, method: str = "mode"):
        """The posterior mode with the model's priors and its Laplace covariance, or
        arm::bayesglm's estimate (``MAPResults``).

        Parameters
        ----------
        method : {"mode", "arm"}
            ``"mode"`` (the default): the exact posterior mode, found by Newton's method on the
            log posterior, with the inverse Hessian there as the covariance (the Laplace
            approximation); the dispersion (where the family has one) is a parameter of the
            mode with its prior. ``"arm"``: arm::bayesglm's own algorithm (Gelman et al.
            2008), an approximate EM/IRLS scheme whose fixed point is *not* the posterior mode
            (it updates each prior variance to ``(b^2 + V_jj + prior.df * scale^2) / (1 +
            prior.df)`` using the uncentred intercept; the dispersion is its moment estimate,
            without a prior); ``params``/``bse`` then reproduce ``coef()``/``se.coef()`` of
            ``arm::bayesglm`` with ``priors="gelman2008"`` (arm's defaults) to rounding
            (~1e-14 standard errors on the cases of ``tests/r/arm_bayesglm.R``). It takes
            Student-t, Cauchy, normal or flat coefficient priors and the binomial, Poisson,
            Gaussian and Gamma families. With ``priors="gelman2008"`` the two estimates differ
            by 0.29 standard errors (14% in the standard errors) on separated iris and 0.013
            standard errors on birthwt.

        Returns
        -------
        MAPResults

        Raises
        ------
        ValueError
            An unknown ``method``; with ``method="arm"``, a prior or family arm's algorithm
            does not take (before any fitting); with ``"mode"``, a posterior whose mode cannot
            be found (e.g. flat priors under separation).

        Warns
        -----
        ConvergenceWarning
            ``method="arm"``: arm's iterations did not converge (``maxit = 100``).
        """
        from .posterior import MAPResults, Start, map_start

        methods = ("mode", "arm")
        if not isinstance(method, str) or method not in methods:
            raise ValueError(f"fit_map: method must be one of {', '.join(map(repr, methods))}; "
                             f"got {method!r}")
        if method == "arm":
            from .arm import check_arm, fit_arm

            check_arm(self.family, self.resolved_priors)  # bad priors/family: before fitting
            beta, cov, disp = fit_arm(self.family, self.design, self.resolved_priors)
            values = {"beta": beta}
            p = len(beta)
            if disp is not None:  # arm gives no uncertainty for its dispersion: NaN
                values[self.family.dispersion_name] = disp
                full = np.full((p + 1, p + 1), np.nan)
                full[:p, :p] = cov
                cov = full
            return MAPResults(self.names, Start("map", values, cov, None), self.family)
        mle = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mle = self.fit_mle()
        except ValueError:
            mle = None
        start = map_start(self.family, self.design, self.resolved_priors, mle)
        return MAPResults(self.names, start, self.family)

    @float64
    def fit(
        self,
        *,
        draws: int = 1000,
        warmup: int | None = None,
        chains: int = 4,
        seed: int = 0,
        progress: bool = True,
        target_accept: float = 0.8,
        max_tree_depth: int = 10,
        chain_method: str = "auto",
    ):
        """The Bayesian fit: the MLE (or the posterior mode), then NUTS started from it.

        Every chain starts at the MLE (the MAP where the MLE does not exist, e.g. under
        separation, or did not converge), jittered by a draw from the normal approximation there,
        with that approximation's covariance as the inverse mass matrix.

        Parameters
        ----------
        draws : int
            Draws kept per chain.
        warmup : int, optional
            Warmup iterations per chain. Default 200 from a converged MLE (mass matrix fixed,
            step size adapted), 500 from the MAP (mass matrix adapted too); see
            ``bayesglm.posterior.DEFAULT_WARMUP`` for the measurements behind them.
        chains : int
            Number of chains.
        seed : int
            Random seed: the same seed gives the same draws.
        progress : bool
            Show a progress bar (terminal and notebook).
        target_accept : float
            Target acceptance probability of the step-size adaptation.
        max_tree_depth : int
            Maximum NUTS tree depth.
        chain_method : {"auto", "parallel", "sequential"}
            "auto" runs chains in parallel when JAX has a device per chain, else sequentially.

        Returns
        -------
        BayesResults

        Warns
        -----
        SamplingWarning
            Divergences, R-hat > 1.01, low ESS, maximum tree depth hits (with advice).
        PriorConflictWarning
            A posterior that the prior pulled far from the likelihood (see
            ``bayesglm.conflict``), with the prior to change; ``priors="auto"`` keeps
            rstanarm's defaults even where they disagree with the data.
        SeparationWarning, ConvergenceWarning
            From the MLE; NUTS then starts at the posterior mode.
        """
        from .bayes_results import BayesResults, check_draws
        from .conflict import check_prior_conflict
        from .convert import to_inference_data
        from .posterior import (MAPResults, choose_start, pointwise_loglik, sample,
                                sample_ahead, sampler_config)

        args = dict(draws=draws, warmup=warmup, chains=chains, seed=seed, progress=progress,
                    target_accept=target_accept, max_tree_depth=max_tree_depth,
                    chain_method=chain_method)
        guess = sampler_config(None, **args)  # bad arguments fail before any fitting
        resolved = self.resolved_priors
        # The sampler's program does not depend on where it starts: compile it (for the usual
        # start, the MLE) in a thread while the MLE is fitted. From the MAP (separation,
        # non-convergence) the sampler's settings differ and that compilation goes unused.
        ahead = sample_ahead(self.family, self.design, resolved, guess)
        start = choose_start(self.family, self.design, resolved, self.fit_mle)
        config = sampler_config(start, **args)
        result, kwargs = sample(self.family, self.design, resolved, start, config, ahead)
        posterior = dict(result.samples)
        disp = posterior.get(self.family.dispersion_name) if self.family.dispersion_name else None
        loglik = None
        if config.chains * config.draws * self.nobs <= LOGLIK_MAX:
            loglik = pointwise_loglik(self.family, kwargs, posterior["beta"], disp)
        d = self.design
        constant = {"X": d.X} if d.X.size <= LOGLIK_MAX else {}
        for name in ("offset", "exposure", "weights", "trials"):
            if getattr(d, name) is not None:
                constant[name] = getattr(d, name)
        y_obs = np.asarray(kwargs["y"])
        obs_index = np.arange(d.nobs) if d.row_index is None else np.asarray(d.row_index)
        spec = {"has_offset": d.offset is not None, "has_exposure": d.exposure is not None,
                "priors": resolved.table().astype(str).to_dict(orient="list")}
        idata = to_inference_data(
            posterior=posterior, sample_stats=result.stats, names=self.names, obs_index=obs_index,
            y=y_obs, constant_data=constant, log_likelihood=loglik,
            attrs={"inference_library": "bayesglm (numpyro NUTS)", "start": start.kind,
                   "chain_method": result.chain_method, "warmup": config.warmup},
        )
        map_fit = MAPResults(self.names, start, self.family) if start.kind == "map" else None
        res = BayesResults(idata, family=self.family, names=self.names, mle=start.mle if start.kind == "mle" else None,
                           map_fit=map_fit, start=start.kind, design=d, spec=spec,
                           config=config)
        res.formula_spec = self.formula_spec
        if config.chains * config.draws * self.nobs <= LOGLIK_MAX:
            # y_rep for az.plot_ppc(fit.idata), as small as the stored log-likelihood; one
            # vectorised draw, with the fit's seed (fit.posterior_predictive(seed) remakes it)
            res.posterior_predictive(seed=config.seed)
        check_draws(idata, config.max_tree_depth)
        check_prior_conflict(start, result.samples, resolved, self.names,
                             self.family.dispersion_name)
        return res

    @float64
    def sample_prior(self, draws: int = 500, seed: int = 0):
        """Prior predictive draws (InferenceData with prior, prior_predictive, observed_data)."""
        import jax

        from .convert import to_inference_data
        from .model import likelihood, sample_prior_draws
        from .posterior import model_kwargs

        resolved = self.resolved_priors
        k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
        prior = {k: np.asarray(v)[None] for k, v in sample_prior_draws(self.family, resolved, k1, draws).items()}
        kwargs = model_kwargs(self.design, resolved)
        eta = prior["beta"][0] @ np.asarray(kwargs["X"]).T
        if kwargs["offset"] is not None:
            eta = eta + np.asarray(kwargs["offset"])
        disp = prior.get(self.family.dispersion_name) if self.family.dispersion_name else None
        dist_ = likelihood(self.family, eta, None if disp is None else disp[0][:, None], kwargs["trials"])
        y_rep = np.asarray(dist_.sample(k2), dtype=float)[None]
        d = self.design
        obs_index = np.arange(d.nobs) if d.row_index is None else np.asarray(d.row_index)
        return to_inference_data(
            posterior=None, sample_stats=None, names=self.names, obs_index=obs_index,
            y=np.asarray(kwargs["y"]), constant_data={}, prior=prior, prior_predictive=y_rep,
        )

    def __repr__(self):
        return (
            f"GLM({type(self.family).__name__}({type(self.family.link).__name__}), "
            f"nobs={self.nobs}, coefficients={list(self.names)})"
        )


def glm(formula: str, data, family: Family | str | None = None, **kwargs) -> GLM:
    """``bg.glm("y ~ x", df, family="poisson", ...)``: the same as :meth:`GLM.from_formula`."""
    from .formula import caller_context, from_formula

    if kwargs.get("context") is None:
        kwargs["context"] = caller_context(1)
    return from_formula(GLM, formula, data, family, **kwargs)
