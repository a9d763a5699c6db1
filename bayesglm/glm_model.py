"""The public model object, :class:`GLM`."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._x64 import float64
from .design import Design, make_design, response_word
from .families import Family, get_family
from .links import Link
from .mle import fit_mle as _fit_mle
from .results import MLEResults

__all__ = ["GLM", "glm"]

class GLM:
    """A generalized linear model: data, family, link and priors.

    The array interface mirrors statsmodels' ``sm.GLM``: no intercept is added to ``exog``.
    All input is validated here, before any JAX tracing; a fit never changes the model, and
    nothing else does: ``family``, ``design``, ``priors`` and ``formula_spec`` are read-only
    (build another model for other priors).

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
    copy : bool
        True (default): the model keeps its own copy of ``exog``, so that changing the array
        later does not change the model. False: a float64, C-ordered ``exog`` array whose data
        start on a 64-byte boundary is used in place, with no copy (JAX reads it where it
        lies): at large n a copy doubles the memory a fit needs. ``np.load(path,
        mmap_mode="r")`` of a ``.npy`` file gives such an array; any other is copied once, as
        with True. The array must not change while the model and its results are in use.
    formula_spec : bayesglm.formula.FormulaSpec, optional
        The formula the rows were made with (``from_formula`` passes it): ``predict`` then
        re-applies it to new data.
    aux : dict, optional
        The family's extra design matrices by name (a zero-inflation model's, ``zi="~ x"``);
        ``from_formula`` makes them from the family's formulas.
    groups : tuple, optional
        The group-level (random-effect) terms, ``((GroupFactor, GroupRows), ...)`` of
        :mod:`bayesglm.group_design`, one per term, on the same rows; ``from_formula`` makes them
        from lme4-style terms such as ``(1 + x | g)``. ``fit_mle()`` is then lme4's fit.

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
        copy: bool = True,
        formula_spec=None,
        groups=None,
        aux=None,
        data=None,
    ):
        from .priors import (check_priors, resolve_extra_priors, split_extra_priors,
                             split_group_priors)

        self._family = get_family(family, link)
        endog, self._family = self._family.encode_response(endog, response_word())
        self._design: Design = make_design(
            endog,
            exog,
            self.family,
            offset=offset,
            exposure=exposure,
            weights=weights,
            trials=trials,
            names=names,
            missing=missing,
            aux=aux,
            copy=bool(copy),
        )
        if self._design.aux_names:
            self._family = self._family.bind_aux(self._design.aux_names)
        self._family.check_design(self._design)
        # priors are checked (unknown coefficient names, misspelt strings) here, when the model
        # is built, not at the first fit; their autoscaling (passes over X) waits until they
        # are first needed, so that a maximum-likelihood fit never pays for it
        self._groups = tuple(groups or ())
        for factor, rows in self._groups:
            if np.shape(rows.index) != (self._design.nobs,):
                raise ValueError(f"groups: the term of {factor.group!r} has "
                                 f"{np.shape(rows.index)[0]} rows, the model "
                                 f"{self._design.nobs}")
        fixed, self._group_priors = split_group_priors(priors, self._groups, self._design,
                                                       self._family)
        fixed, extra = split_extra_priors(fixed, self._family)
        # a copy: editing the dict given afterwards must not change the model
        fixed = dict(fixed) if isinstance(fixed, Mapping) else fixed
        check_priors(fixed, self._design.names, self._family)
        self._fixed_priors = fixed
        self._extra_priors = resolve_extra_priors(priors, extra, self._design, self._family)
        self._priors = priors
        self._formula_spec = formula_spec
        self._data = data

    @property
    def groups(self) -> tuple:
        """The group-level terms ``((GroupFactor, GroupRows), ...)``; empty for a plain GLM."""
        return self._groups

    def _no_exact(self, what: str) -> None:
        if getattr(self.family, "exact_likelihood", False):
            raise NotImplementedError(
                f"{what} of the {self.family.name} family is not built yet (issue 12): "
                "fit_mle() gives its maximum-likelihood fit")

    def _no_groups(self, what: str) -> None:
        self._no_exact(what)
        if self._groups:
            raise NotImplementedError(
                f"{what} of a model with group-level terms is not built yet (issue 11): "
                "fit_mle() gives lme4's fit (glmer's Laplace approximation, lmer's ML/REML)")

    @property
    def family(self) -> Family:
        """Family: the response distribution, with its link."""
        return self._family

    @property
    def design(self) -> Design:
        """Design: the validated rows (read-only arrays the model owns)."""
        return self._design

    @property
    def data(self):
        """DataFrame or None: the raw rows a model made by :meth:`from_formula` was fitted on
        (the columns its formula and per-row arguments use, the rows kept); what
        ``predictions``, ``comparisons``, ``slopes`` and ``bg.datagrid`` evaluate by default.
        None for the array interface."""
        return self._data

    @property
    def formula_spec(self):
        """The formula of a model made by :meth:`from_formula` (a
        ``bayesglm.formula.FormulaSpec``: it re-applies the formula to new data in ``predict``);
        None for the array interface."""
        return self._formula_spec

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
    def fit_mle(self, *, maxiter: int = 100, tol: float = 1e-8, cov_type: str = "nonrobust",
                reml: bool = False, devices=None):
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
        reml : bool
            For a Gaussian model with group-level terms: lmer's REML instead of ML.
        devices : None, int or list of jax.Device
            Split the rows over several JAX devices (each sums its rows' share of X'WX and the
            deviance; one ``psum`` adds them). None (default): over all devices of JAX's default
            backend when it has more than one and there are at least
            ``bayesglm.sharding.SHARD_MIN_ROWS`` rows; an int: that many devices (1: one
            device); a list: those devices. The estimates equal the one-device fit's up to the
            order of floating-point additions. Plain GLMs only (not NegativeBinomial with alpha
            estimated, group-level terms or the likelihood families).

        Returns
        -------
        MLEResults, or ``bayesglm.mixed.MixedMLEResults`` for a model with group-level terms
        (lme4's ``lmer``/``glmer(nAGQ = 1)`` fit: ``varcorr()``, ``ranef()``, ``ngroups``).

        Raises
        ------
        RankDeficientError
            When columns of ``exog`` are linearly dependent; the message names them.

        Warns
        -----
        SeparationWarning, ConvergenceWarning
        """
        if devices is not None and (self._groups or getattr(self.family, "exact_likelihood",
                                                            False)):
            raise ValueError("devices: fit_mle splits the rows over devices for plain GLMs "
                             "only, not for models with group-level terms or the "
                             f"{self.family.name} family's exact likelihood")
        if self._groups:
            from .mixed import fit_mixed

            return fit_mixed(self, reml=reml)
        if reml:
            raise ValueError("fit_mle: reml=True applies to Gaussian models with group-level "
                             "terms (lmer's REML), not to a plain GLM")
        if getattr(self.family, "exact_likelihood", False):
            from .likelihood_mle import fit_likelihood
            from .likelihood_results import LikelihoodResults

            fit = fit_likelihood(self.design, self.family, maxiter=maxiter, tol=tol,
                                 cov_type=cov_type)
            return LikelihoodResults(self, self.design, self.family, fit)
        fit = _fit_mle(self.design, self.family, maxiter=maxiter, tol=tol, cov_type=cov_type,
                       devices=devices)
        return MLEResults(self, self.design, self.family, fit)

    # -- the Bayesian side ------------------------------------------------------------------
    @property
    def priors(self):
        """The priors as given (``"auto"``, a Prior, a dict, ...). Read-only: for other priors
        build another model (``bg.GLM(..., priors=...)``), so that the resolved priors can never
        disagree with these."""
        return self._priors

    @priors.setter
    def priors(self, value):
        raise AttributeError(
            "GLM.priors is read-only: a model does not change after it is built, so its "
            "resolved priors cannot go stale. Build a new model with the priors you want, "
            "e.g. bg.GLM(endog, exog, family, priors=...) or bg.glm(formula, data, priors=...)")

    @functools.cached_property
    def resolved_priors(self):
        """The priors actually used (after autoscaling; checked when the model is built,
        autoscaled when first needed)."""
        from .priors import resolve_priors

        return resolve_priors(self._fixed_priors, self._design, self._family)

    @property
    def extra_priors(self):
        """A likelihood family's extra parameters' priors (``bayesglm.priors.ExtraPriors``,
        resolved when the model is built); None for the other families."""
        return self._extra_priors

    @property
    def group_priors(self) -> tuple:
        """The group terms' covariance priors (``bayesglm.priors.covariance.TermPrior`` each,
        resolved when the model is built); empty for a plain GLM."""
        return self._group_priors

    def prior_summary(self) -> pd.DataFrame:
        """The priors actually used, after autoscaling (as rstanarm's ``prior_summary``)."""
        from .priors import group_prior_table

        table = self.resolved_priors.table()
        if self._extra_priors is not None:
            table = pd.concat([table, self._extra_priors.table()], ignore_index=True)
        if not self._groups:
            return table
        return pd.concat([table, group_prior_table(self._groups, self._group_priors)],
                         ignore_index=True)

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
            (~1e-14 standard errors on the cases of ``tests/reference/r/arm_bayesglm.R``). It takes
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
        from .fitting import fit_map

        if getattr(self.family, "exact_likelihood", False) and not self._groups:
            from .likelihood_bayes import fit_likelihood_map

            if method != "mode":
                raise ValueError(f"fit_map: the {self.family.name} family has method='mode' "
                                 f"only (arm's algorithm is for IRLS families); got {method!r}")
            return fit_likelihood_map(self)
        self._no_groups("fit_map()")
        return fit_map(self, method)

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
        ess: float | None = None,
        subsample: int | str | None = None,
        devices=None,
    ):
        """The Bayesian fit: the MLE (or the posterior mode), then NUTS started from it.

        Every chain starts at the MLE (the MAP where the MLE does not exist, e.g. under
        separation, or did not converge), jittered by a draw from the normal approximation there,
        with that approximation's covariance as the inverse mass matrix. A model with
        group-level terms starts at lme4's fit (the Laplace approximation; see
        ``bayesglm.mixed_bayes``) and returns a ``MixedBayesResults``.

        Parameters
        ----------
        draws : int
            Draws kept per chain (the most kept, with ``ess``).
        warmup : int, optional
            Warmup iterations per chain. Default 200 from a converged MLE (mass matrix fixed,
            step size adapted), 500 from the MAP (mass matrix adapted too), 1000 from a mixed
            model's Laplace fit (mass matrix adapted); see
            ``bayesglm.posterior.DEFAULT_WARMUP`` for the measurements behind them. A mixed
            model with 50,000 or more group effects (levels x terms) defaults to 300 warmup
            iterations and ``ess=100 x chains`` (``bayesglm.mixed_bayes.LARGE_EFFECTS``: the
            default iterations would take hours there); giving ``warmup`` or ``ess`` turns
            that off.
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
        chain_method : {"auto", "parallel", "threads", "sequential"}
            "parallel": a chain per JAX device; "threads": on one device, as many chains at
            once as there are cores (Python threads, each running the compiled sampler);
            "sequential": on one device, one chain at a time (the same draws as "threads").
            "auto" runs chains in parallel when JAX has a device per chain, else in threads
            (sequentially on one core); a model with group-level terms on more than 30,000
            rows runs them in threads (measured faster on the CPU:
            ``sampling.GROUPED_PARALLEL_ROWS_MAX``).
        ess : float, optional
            Stop sampling once every parameter of the summary (a mixed model's fixed effects,
            dispersion, sd's and correlations; not its group effects) has bulk and tail ESS of
            at least ``ess`` and R-hat of at most 1.01, checked after each chunk of iterations (tens) from 100 draws per
            chain on; ``draws`` is then the most kept. For large data, where a draw is costly
            and a few hundred effective draws say what is needed; the low-ESS warning
            (below ``100 x chains``) still applies.
        subsample : int or "auto", optional
            Energy-conserving subsampling (HMCECS; ``bayesglm.subsample``), for data in the
            millions of rows: every NUTS trajectory runs on an estimate of the log-likelihood
            from ``subsample`` rows (drawn with replacement; rounded up to a multiple of 20),
            made nearly exact by control variates, the second-order Taylor expansion of every
            row's log-likelihood at the start (the MLE). Between trajectories the subsample is
            updated by a Metropolis step, a twentieth of it at a time. "auto" picks the
            smallest subsample (at least 1,000 rows) whose estimate has variance at most 0.1
            at draws from the normal approximation at the start. The draws are of the
            perturbed posterior of Dang et al. (2019), which approaches the posterior as that
            variance goes to 0; after sampling it is measured at posterior draws
            (``fit.idata.posterior.attrs["subsample_variance"]``) and a SamplingWarning says when it
            exceeds 1. Default None: every row in every gradient. Not for models with
            group-level terms or likelihood families, and not needed for the Gaussian
            identity-link model (its sampler reads sufficient statistics).
        devices : None, int or list of jax.Device
            Split every chain's rows over several JAX devices (the MLE's too, as
            ``fit_mle(devices=)``): the compiled sampler sums each device's rows' share of the
            log-likelihood and its gradient and adds the shares across the devices; the chains
            then run in threads on those devices. None (default): automatic, which splits only
            on a GPU or TPU backend with fewer devices than chains (a chain per device needs no
            communication; on a CPU the host devices carry parallel chains) and from
            ``bayesglm.sharding.SHARD_MIN_ROWS`` rows; an int: that many devices (1: none); a
            list: those devices. Not for models with group-level terms or likelihood families.

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
        from .fitting import fit_bayes
        from .mixed_bayes import fit_mixed_bayes

        extra = {} if devices is None else {"devices": devices}
        if devices is not None and (self._groups or getattr(self.family, "exact_likelihood",
                                                            False)):
            raise ValueError("devices: fit() splits the rows over devices for plain GLMs "
                             "(no group-level terms, not a likelihood family); leave "
                             "devices=None")
        if subsample is not None:
            if self._groups or getattr(self.family, "exact_likelihood", False):
                what = ("group-level terms" if self._groups
                        else f"the {self.family.name} family")
                raise ValueError(f"subsample= is for GLMs of the six IRLS families without "
                                 f"group-level terms; this model has {what}. Leave "
                                 "subsample=None.")
            extra["subsample"] = subsample
        if self._groups:
            fit = fit_mixed_bayes
        elif getattr(self.family, "exact_likelihood", False):
            from .likelihood_bayes import fit_likelihood_bayes

            fit = fit_likelihood_bayes
        else:
            fit = fit_bayes
        return fit(self, draws=draws, warmup=warmup, chains=chains, seed=seed,
                   progress=progress, target_accept=target_accept,
                   max_tree_depth=max_tree_depth, chain_method=chain_method, ess=ess, **extra)

    @float64
    def sample_prior(self, draws: int = 500, seed: int = 0):
        """Prior predictive draws (InferenceData with prior, prior_predictive, observed_data).

        Parameters
        ----------
        draws : int
            Draws from the priors (all of them must be proper).
        seed : int
            Random seed (NumPy's generator: the same seed gives the same draws).
        """
        from ._args import integer
        from .fitting import sample_prior

        draws = integer(draws, "draws", low=1)
        seed = integer(seed, "seed", low=0)
        if getattr(self.family, "exact_likelihood", False) and not self._groups:
            from .likelihood_bayes import sample_likelihood_prior

            return sample_likelihood_prior(self, draws, seed)
        self._no_groups("sample_prior()")
        return sample_prior(self, draws, seed)

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
