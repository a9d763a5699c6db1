"""Results of the Bayesian fit: ``BayesResults``, the posterior beside the classical fit."""

from __future__ import annotations


import jax.numpy as jnp
import numpy as np
import pandas as pd

from . import fitfile
from . import pointwise as pw
from ._args import integer
from ._warnings import SamplingWarning, warn
from ._x64 import float64
from . import convert
from . import diagnostics as dg
from .convert import Pending, add_group
from .design import new_rows
from .diagnostics import RHAT_MAX
from .families import Family
from .fitfile import FitFileError
from .interpret import Evaluator, Interpretation, Source
from .pointwise import draw_y
from .problem import Problem, eta_draws

__all__ = ["BayesResults", "load", "compare", "check_draws", "hdi_columns", "FitFileError"]

_KINDS = ("mean", "response", "linear")


def _arviz():
    """ArviZ, imported where it is used (not by ``fit()``: ``bayesglm.convert``)."""
    import arviz

    return arviz


def hdi_columns(hdi_prob: float) -> tuple[str, str]:
    """The names of the HDI bounds' columns, ``hdi_3%`` and ``hdi_97%`` for 0.94."""
    lo = 100 * (1 - hdi_prob) / 2
    return f"hdi_{lo:g}%", f"hdi_{100 - lo:g}%"


def draws_table(draws: np.ndarray, index, hdi_prob: float) -> pd.DataFrame:
    """``mean``, ``sd`` and the HDI of (draws, rows) predictions, a row each."""
    lo, hi = hdi_columns(hdi_prob)
    hdi = dg.hdi(draws[None, ...], hdi_prob)  # (n, 2)
    return pd.DataFrame(
        {"mean": draws.mean(0), "sd": draws.std(0, ddof=1), lo: hdi[:, 0], hi: hdi[:, 1]},
        index=index,
    )


def check_draws(idata, max_tree_depth: int, labels: dict | None = None) -> list[str]:
    """The package's sampling warnings, each with the advice that fixes it. Returns the messages.

    ``idata``: an InferenceData or a :class:`bayesglm.convert.Pending` one (a fit's, not built
    yet). ``labels`` renames ArviZ's row names (``zi[physlm]``) to the ones ``summary()``
    shows."""
    messages = []
    ss = convert.sample_stats(idata)
    n_div = int(ss["diverging"].sum())
    total = ss["diverging"].size
    if n_div:
        messages.append(
            f"{n_div} of {total} draws ended in a divergence: the sampler could not follow the "
            "posterior's geometry, and the draws may be biased. Raise target_accept (e.g. "
            "fit(target_accept=0.95)), use stronger priors, or rescale the predictors."
        )
    # ArviZ's numbers, vectorised (a model with many group levels has as many parameters)
    s = dg.diagnostics(convert.variables(idata))
    if labels:
        s = s.rename(index=labels)
    worst = s["r_hat"].max()
    if np.isfinite(worst) and worst > RHAT_MAX:
        messages.append(
            f"R-hat is {worst:.3f} > {RHAT_MAX:g} (for {s['r_hat'].idxmax()}): the chains "
            "disagree. "
            "Run more draws and warmup (fit(draws=..., warmup=...)), and look at plot_trace."
        )
    n_chains = ss["diverging"].shape[0]
    low = min(float(s["ess_bulk"].min()), float(s["ess_tail"].min()))
    if low < 100 * n_chains:
        bulk_lower = s["ess_bulk"].min() <= s["ess_tail"].min()
        which = s["ess_bulk"].idxmin() if bulk_lower else s["ess_tail"].idxmin()
        messages.append(
            f"the effective sample size is low ({low:.0f} < {100 * n_chains}, for {which}): "
            "Monte Carlo errors are large. Increase draws (fit(draws=...))."
        )
    hits = int((ss["tree_depth"] >= max_tree_depth).sum())
    if hits:
        messages.append(
            f"{hits} of {total} draws hit the maximum tree depth ({max_tree_depth}): sampling "
            "was cut short. Raise max_tree_depth, or reparameterise / rescale the predictors."
        )
    for m in messages:
        warn(m, SamplingWarning)
    return messages


class BayesResults(Interpretation):
    """The posterior of a GLM, next to its classical fit (what ``GLM.fit`` returns).

    ``idata`` holds the draws for all of ArviZ; ``summary()`` puts the MLE beside the posterior;
    ``predict``, ``posterior_predictive``, ``loo``/``waic`` and ``save``/:func:`load` work on
    fits of any size (pointwise quantities are computed in chunks within a memory budget, see
    :mod:`bayesglm.pointwise`).
    """

    def __init__(self, idata, *, family: Family, names, mle=None, map_fit=None, start="mle",
                 design=None, spec: dict | None = None, config=None, formula_spec=None,
                 sampler_run=None, data=None):
        self._idata = idata  # an InferenceData, or a Pending one (a fit's): see ``idata``
        self.family = family
        """Family: the response distribution, with its link."""
        self.names = list(names)
        """list of str: the coefficient names (the ``coef`` coordinate)."""
        self.mle = mle
        """MLEResults or None: the classical fit (None where the MLE does not exist; after
        :func:`load`, its saved numbers: ``params``, ``bse``, ``scale``, ``alpha``)."""
        self.map = map_fit
        """MAPResults or None: the posterior mode NUTS started from, when it started there."""
        self.start = start
        """str: where NUTS started: ``"mle"`` or ``"map"``."""
        self.formula_spec = formula_spec
        """The model's formula (``bayesglm.formula.FormulaSpec``) when it was made by
        ``GLM.from_formula``: ``predict(new_df)`` re-applies it; None for the array interface."""
        self.sampler_run = sampler_run
        """``bayesglm.sampling.Draws`` without the draws, or None after :func:`load`: what the
        sampler measured, e.g. ``steps_all`` (chains, iterations), the leapfrog steps of every
        iteration run, the warmup's included (``idata.sample_stats.n_steps`` keeps the kept
        draws'), and ``chunk_seconds``, the time of each compiled chunk."""
        self._design = design
        # every per-row computation reads the rows from ``design`` or the file (:meth:`_obs_data`)
        self.data = data
        """DataFrame or None: the model's raw fitted rows (``GLM.data``; None for the array
        interface and after :func:`load`): what ``predictions``/``comparisons``/``slopes``
        evaluate by default."""
        self._config = config
        self._spec = spec or {}

    # -- draws ------------------------------------------------------------------------------
    @property
    def idata(self):
        """arviz.InferenceData: groups posterior (``beta`` on the ``coef`` coordinate, and the
        dispersion), sample_stats, observed_data (``y``; Binomial: success counts),
        constant_data (``X``, offsets, trials, weights), and, for fits of at most
        ``bayesglm.fitting.LOGLIK_MAX`` draws x rows, log_likelihood and
        posterior_predictive (drawn with the fit's seed; :meth:`posterior_predictive` redraws
        it). A fit builds it (and imports ArviZ) when it is first read (``bayesglm.convert``):
        ``summary()`` and the sampling warnings do not need it."""
        if isinstance(self._idata, Pending):
            self._idata = self._idata.build()
        return self._idata

    @idata.setter
    def idata(self, value) -> None:
        self._idata = value

    @property
    def dispersion_name(self) -> str | None:
        """The dispersion's name in the posterior (``sigma``, ``shape``, ``lam``, ``alpha``),
        or None for families without one (or a NegativeBinomial with alpha fixed)."""
        name = self.family.dispersion_param
        return name if name in convert.posterior(self._idata) else None

    # -- tables -----------------------------------------------------------------------------
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """One table: MLE, its standard error, and the posterior (ArviZ) side by side.

        Parameters
        ----------
        hdi_prob : float
            Probability of the highest-density interval (columns ``hdi_<lo>%``, ``hdi_<hi>%``).

        Returns
        -------
        DataFrame
            Indexed by coefficient name (and the dispersion), columns ``mle``, ``mle_se``,
            ``mean``, ``sd``, the HDI bounds, ``mcse_mean``, ``ess_bulk``, ``ess_tail``,
            ``r_hat``. Every number is kept at full precision (ArviZ's ``round_to="none"``):
            a coefficient of 5e-5 is not shown as 0.0, and ``to_csv`` writes what was computed;
            round where you display it (pandas shows 6 significant digits).
        """
        if not 0 < hdi_prob < 1:
            raise ValueError(f"hdi_prob must lie in (0, 1), got {hdi_prob!r}")
        extra = self._extra_params()
        var_names = ["beta"] + extra + ([self.dispersion_name] if self.dispersion_name else [])
        s = dg.summary(convert.variables(self._idata, var_names), hdi_prob)
        s.index = [i[5:-1] if i.startswith("beta[") else i for i in s.index]
        mle = pd.Series(np.nan, index=s.index)
        mle_se = pd.Series(np.nan, index=s.index)
        if self.mle is not None:
            mle[self.names] = self.mle.params[self.names].to_numpy()
            mle_se[self.names] = self.mle.bse[self.names].to_numpy()
            for name, value in self._mle_extras().items():
                mle[name] = value
            disp = self.mle_dispersion()
            if disp is not None and self.dispersion_name:
                mle[self.dispersion_name], mle_se[self.dispersion_name] = disp
        lo, hi = hdi_columns(hdi_prob)
        out = pd.DataFrame({"mle": mle, "mle_se": mle_se})
        cols = ["mean", "sd", lo, hi, "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
        table = pd.concat([out, s[cols]], axis=1)
        if self.response_note():
            table.attrs["note"] = self.response_note()
        return table

    def _extra_params(self) -> list[str]:
        """Posterior variables shown between the coefficients and the dispersion (a mixed
        model's sd's and correlations); none for a plain GLM."""
        return []

    def _mle_extras(self) -> dict:
        """The classical estimates of :meth:`_extra_params` (no standard errors)."""
        return {}

    def response_note(self) -> str | None:
        """For a two-level string/categorical binomial response: which level is the success."""
        fs = self.formula_spec
        return None if fs is None else fs.response_note()

    def mle_dispersion(self) -> tuple[float, float] | None:
        """(estimate, standard error) of the dispersion parameter on the posterior's scale from
        the classical fit (the family's rule; the standard error is NaN where the classical
        estimate is a moment estimate), or None without an MLE or a dispersion."""
        m = self.mle
        if m is None or self.dispersion_name is None:
            return None
        # the (weighted) number of observations: df_resid + the number of coefficients
        n = m.df_resid + len(m.params)
        return self.family.mle_dispersion(m.scale, m.alpha, m.alpha_se, n)

    def diagnostics(self) -> pd.DataFrame:
        """Sampler diagnostics per chain and overall, and the package's warnings as a list."""
        ss = self.idata.sample_stats
        depth = self._config.max_tree_depth if self._config else 10
        per_chain = pd.DataFrame(
            {
                "divergences": ss["diverging"].sum("draw").to_numpy(),
                "max_tree_depth_hits": (ss["tree_depth"] >= depth).sum("draw").to_numpy(),
                "mean_tree_depth": ss["tree_depth"].mean("draw").to_numpy(),
                "step_size": ss["step_size"].mean("draw").to_numpy(),
                "gradient_evals": ss["n_steps"].sum("draw").to_numpy(),
                "mean_accept": ss["acceptance_rate"].mean("draw").to_numpy(),
                "bfmi": _arviz().bfmi(self.idata),
            },
            index=pd.Index(range(ss.sizes["chain"]), name="chain"),
        )
        return per_chain

    # -- data -------------------------------------------------------------------------------
    def fitted_rows(self) -> Problem:
        """The fitted rows (a :class:`bayesglm.problem.Problem` of host arrays, ``y`` on the
        mean's scale): from the model's design, or (a loaded fit) from the file."""
        return self._obs_data("the fitted rows")

    @float64
    def fitted_mean(self) -> np.ndarray:
        """E[mu_i | data] for the fitted rows, in row chunks (never all draws x rows at once)."""
        obs = self._obs_data("the posterior mean of the fitted rows")
        beta = self._draws()[0]
        beta = beta.reshape(-1, beta.shape[-1])
        effects = [e.reshape((-1,) + e.shape[2:]) for e in self._effects()]
        n = obs.nobs
        step = max(1, 2**22 // beta.shape[0])
        out = np.empty(n)
        for s in range(0, n, step):
            off = None if obs.offset is None else obs.offset[s:s + step]
            part = tuple(g._replace(Z=g.Z[s:s + step], index=g.index[s:s + step])
                         for g in obs.groups)
            eta = eta_draws(beta, obs.X[s:s + step], off, part, effects)
            out[s:s + step] = self._mean_rows(eta, obs, s, s + step).mean(axis=0)
        return out

    def _mean_rows(self, eta: np.ndarray, obs: Problem, start: int, stop: int) -> np.ndarray:
        """E[y] (draws, rows) of the fitted rows ``start:stop`` from their eta draws: the
        inverse link (a family with more to its mean overrides this)."""
        return np.asarray(self.family.link.inverse(jnp.asarray(eta)))

    def _obs_data(self, what: str) -> Problem:
        """The fitted rows (host arrays): from the model's design, or (a loaded fit) the file."""
        d = self._design
        if d is not None:
            return Problem(d.X, None, d.y, d.total_offset, d.weights, d.trials)
        cd = self.idata.constant_data if "constant_data" in self.idata.groups() else {}
        if "X" not in cd:
            raise ValueError(
                f"{what} needs the fitted rows, and this fit has no design matrix (a large fit "
                "saved by an older bayesglm without constant_data X): refit it, or pass the rows "
                "explicitly where the method takes them"
            )

        def col(name):
            return cd[name].to_numpy().astype(float) if name in cd else None

        offset, exposure, trials = col("offset"), col("exposure"), col("trials")
        if exposure is not None:
            offset = np.log(exposure) if offset is None else offset + np.log(exposure)
        y = self.family.from_observed(self.idata.observed_data["y"].to_numpy(), trials)
        return Problem(cd["X"].to_numpy().astype(float), None, y, offset, col("weights"), trials)

    def _row_index(self):
        if self._design is not None:
            return self._design.row_index
        return pd.Index(self.idata.observed_data["y"].coords["obs"].to_numpy())

    def _effects(self) -> tuple:
        """The group terms' (chains, draws, levels, q) effects; none in a plain GLM."""
        return ()

    def _draws(self):
        """beta (chains, draws, p) and the dispersion (chains, draws) or None."""
        post = convert.posterior(self._idata)  # the draws, before the InferenceData is built
        disp = np.asarray(post[self.dispersion_name]) if self.dispersion_name else None
        return np.asarray(post["beta"]), disp

    def _evaluator(self, re: str = "include") -> Evaluator:
        """The draws' evaluator (bayesglm.interpret): every draw's coefficients (and a
        likelihood family's extra parameters, unconstrained; with ``re="include"``, the group
        effects of a model with group-level terms: :meth:`_group_effects`)."""
        beta, disp = self._draws()
        parts = [beta.reshape(-1, beta.shape[-1])]
        if getattr(self.family, "exact_likelihood", False):
            parts.append(np.asarray(disp).reshape(parts[0].shape[0], -1))
        src = Source(tuple(self.names), self._design, self.formula_spec, self.data,
                     self.family, bool(self._spec.get("has_offset")),
                     bool(self._spec.get("has_exposure")))
        return Evaluator(src, draws=np.concatenate(parts, axis=1),
                         groups=self._group_effects() if re == "include" else None)

    def _group_effects(self):
        """A model with group-level terms: bayesglm.interpret.GroupEffects; else None."""
        return None

    # -- prediction -------------------------------------------------------------------------
    def _rows_of(self, data, offset, exposure, trials):
        """(X, offset, row labels, trials) of the fitted rows (``data`` None) or of new ones."""
        if data is None:
            obs = self._obs_data("predict() of the fitted rows")
            return obs.X, obs.offset, self._row_index(), trials
        rows = new_rows(data, names=self.names, family=self.family,
                        formula_spec=self.formula_spec, offset=offset, exposure=exposure,
                        trials=trials, has_offset=bool(self._spec.get("has_offset")),
                        has_exposure=bool(self._spec.get("has_exposure")))
        return rows.X, rows.offset, rows.index, rows.trials

    def _new_eta(self, data, offset, exposure, trials, *, seed: int = 0):
        """eta (chains * draws, rows) of the fitted rows or of new ones, their labels, trials.

        (``seed``: for what a subclass draws, e.g. a new group level's effects.)"""
        X, off, index, trials = self._rows_of(data, offset, exposure, trials)
        beta = self._draws()[0]
        return eta_draws(beta.reshape(-1, beta.shape[-1]), X, off), index, trials

    @float64
    def predict(self, data=None, *, kind: str = "mean", hdi_prob: float = 0.94, offset=None,
                exposure=None, trials=None, seed: int = 0) -> pd.DataFrame:
        """Posterior predictions for new rows (or the fitted ones).

        ``kind="mean"``: the posterior of the mean mu; ``"linear"``: of eta; ``"response"``:
        posterior predictive draws of y (Binomial: as proportions of ``trials``, default 1).
        Returns a DataFrame with ``mean``, ``sd`` and the HDI bounds.

        For a model made by ``from_formula``, ``data`` may be a DataFrame of raw columns: the
        formula is re-applied (an unseen category level is an error), and ``offset``/
        ``exposure``/``trials`` may name its columns (by default, the columns the model was
        fitted with, when ``data`` has them).
        """
        return self._predict(data, kind, hdi_prob, offset, exposure, trials, seed, {})

    def _predict(self, data, kind, hdi_prob, offset, exposure, trials, seed, options: dict):
        """``predict``, with the options of a subclass's ``_new_eta`` (a mixed model's ``re``)."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {', '.join(_KINDS)}; got {kind!r}")
        seed = integer(seed, "seed", low=0)
        eta, index, trials = self._new_eta(data, offset, exposure, trials, seed=seed, **options)
        if kind == "linear":
            draws = eta
        else:
            family = self.family
            mu = np.asarray(family.link.inverse(jnp.asarray(eta)))
            draws = mu
            if kind == "response":
                t = None
                if family.has_trials:
                    t = np.ones(eta.shape[1]) if trials is None else trials
                disp = self._draws()[1]
                phi = (family.fixed_scale() if disp is None
                       else family.scale_from_dispersion(disp.reshape(-1, 1)))
                rng = np.random.default_rng(seed)
                draws = family.draw(rng, mu, phi, t)
                if t is not None:  # as proportions of the trials
                    draws = family.from_observed(draws, t)
        return draws_table(draws, index, hdi_prob)

    @float64
    def posterior_predictive(self, seed: int = 0, *, thin: int = 1, memory_budget=None):
        """Draw y_rep for the observed rows and store it as the posterior_predictive group.

        ``fit()`` already adds this group, drawn with ``seed=`` the fit's seed, when the fit is
        small enough to store its pointwise log-likelihood
        (``bayesglm.fitting.LOGLIK_MAX`` numbers), so ``az.plot_ppc(fit.idata)`` works at
        once; call this to redraw it, or to make it for a large fit.

        Parameters
        ----------
        seed : int
            Random seed. Each posterior draw gets its own key (the seed folded with the draw's
            number), so the result does not depend on chunking and ``thin`` keeps a subset of
            the very same replicates.
        thin : int
            Keep every ``thin``-th draw of each chain (y_rep then has ``ceil(draws / thin)``
            draws, on the draw numbers it was made from).
        memory_budget : int, optional
            Bytes y_rep and its computation may use; default
            :func:`bayesglm.pointwise.memory_budget` (half the available memory, at most
            8 GB). y_rep (chains x draws x rows float64) must fit it, else a ``MemoryError``
            that gives its size is raised before anything is allocated; it is drawn in chunks
            of draws within the rest.

        Returns
        -------
        xarray.Dataset
            The posterior_predictive group, variable ``y`` (chain, draw, obs); Binomial: success
            counts, as observed_data.
        """
        seed = integer(seed, "seed", low=0)
        thin = integer(thin, "thin", low=1)
        self._posterior_predictive(seed, thin, memory_budget)
        return self.idata.posterior_predictive

    def _posterior_predictive(self, seed: int, thin: int = 1, memory_budget=None) -> None:
        """Draw y_rep and store it in the InferenceData; where that is not built yet (``fit()``'s
        own y_rep), it is drawn when it is built (the same draws: they depend on the seed
        alone), so that ``fit()`` neither imports ArviZ nor draws what may never be read."""
        data = self._obs_data("posterior_predictive()")
        beta, disp = self._draws()

        @float64  # it may run later, outside this method's float64
        def y_rep():
            return draw_y(self.family, data, beta, disp, seed=seed, thin=thin,
                          budget=memory_budget, effects=self._effects())

        if isinstance(self._idata, Pending) and thin == 1:
            self._idata = self._idata.with_posterior_predictive(y_rep)
            return
        y_rep = y_rep()
        draws = self.idata.posterior.coords["draw"].to_numpy()[::thin]
        add_group(self.idata, "posterior_predictive", y_rep,
                  self.idata.observed_data["y"].coords["obs"].to_numpy(), draws=draws)

    # -- model comparison -------------------------------------------------------------------
    def _reff(self) -> float:
        """ArviZ's relative efficiency for PSIS: the posterior's mean ESS / number of draws."""
        post = self.idata.posterior
        if post.sizes["chain"] == 1:
            return 1.0
        ess = _arviz().ess(post, method="mean")
        n = post.sizes["chain"] * post.sizes["draw"]
        return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / n)

    def _ic_args(self, pointwise, scale):
        az = _arviz()
        pointwise = az.rcParams["stats.ic_pointwise"] if pointwise is None else bool(pointwise)
        scale = az.rcParams["stats.ic_scale"] if scale is None else str(scale).lower()
        return pointwise, scale

    @float64
    def loo(self, *, pointwise: bool | None = None, reff: float | None = None,
            scale: str | None = None, memory_budget=None):
        """PSIS-LOO cross-validation (ArviZ's ``az.loo``), for fits of any size.

        From the stored log_likelihood group when the fit has one (fits up to
        ``bayesglm.fitting.LOGLIK_MAX`` numbers), else computed from the draws and the fitted
        rows in row chunks within ``memory_budget`` bytes (default: half the available memory, at
        most 8 GB), without storing it: the same numbers as ``az.loo`` on the whole matrix.

        Parameters
        ----------
        pointwise, reff, scale
            As ``az.loo``.
        memory_budget : int, optional
            Bytes the chunked computation may use.

        Returns
        -------
        arviz.ELPDData

        Raises
        ------
        MemoryError
            When not even one row's log-likelihood over all draws fits ``memory_budget``.
        """
        if "log_likelihood" in self.idata.groups():
            return _arviz().loo(self.idata, pointwise=pointwise, reff=reff, scale=scale)
        pointwise, scale = self._ic_args(pointwise, scale)
        data = self._obs_data("loo()")
        beta, disp = self._draws()
        return pw.loo(self.family, data, beta, disp, reff=self._reff() if reff is None else reff,
                      obs_index=self.idata.observed_data["y"].coords["obs"].to_numpy(),
                      scale=scale, pointwise=pointwise, budget=memory_budget,
                      effects=self._effects())

    @float64
    def waic(self, *, pointwise: bool | None = None, scale: str | None = None,
             memory_budget=None):
        """WAIC (ArviZ's ``az.waic``), for fits of any size: as :meth:`loo`."""
        if "log_likelihood" in self.idata.groups():
            return _arviz().waic(self.idata, pointwise=pointwise, scale=scale)
        pointwise, scale = self._ic_args(pointwise, scale)
        data = self._obs_data("waic()")
        beta, disp = self._draws()
        return pw.waic(self.family, data, beta, disp,
                       obs_index=self.idata.observed_data["y"].coords["obs"].to_numpy(),
                       scale=scale, pointwise=pointwise, budget=memory_budget,
                       effects=self._effects())

    # -- persistence ------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the fit to one netCDF file (ArviZ InferenceData), for :func:`load`.

        The file holds the draws, the model's description (family, link, names, priors, the
        MLE's numbers, the formula) and the fitted rows (the design matrix, y, offsets, trials,
        weights), so a loaded fit can ``summary()``, ``predict()`` (new rows or the fitted
        ones), ``posterior_predictive()``, ``plot_ppc``, ``loo()`` and ``waic()``. A large
        fit's pointwise log-likelihood is not stored (``loo()`` recomputes it from the draws
        and the design matrix).
        """
        spec = dict(self._spec)
        spec.update(self.family.spec())
        spec.update(names=self.names, start=self.start)
        if self.mle is not None:
            spec["mle"] = self._mle_record()
        if self.formula_spec is not None:
            spec["formula"] = self.formula_spec.to_dict()
        X = None if self._design is None else self._design.X
        fitfile.write(self.idata, spec, path, X=X, names=self.names)

    def _mle_record(self) -> dict:
        """The classical fit's numbers that a saved fit keeps (for ``summary()``)."""
        return {
            "params": self.mle.params.tolist(),
            "bse": self.mle.bse.tolist(),
            "scale": self.mle.scale,
            "alpha": self.mle.alpha,
            "alpha_se": self.mle.alpha_se,
            "nobs": self.mle.nobs,
            "df_resid": self.mle.df_resid,
        }

    @classmethod
    def load(cls, path) -> BayesResults:
        """Read a fit written by :meth:`save` (in any process), wholly into memory.

        The file is closed when this returns: it may be overwritten (also by ``save`` of the
        loaded fit) or deleted.

        Raises
        ------
        FileNotFoundError
            No such file.
        FitFileError
            (a ``ValueError``) The file is not a readable bayesglm fit: empty, truncated, not
            netCDF, or a netCDF / InferenceData file that ``save`` did not write.
        """
        idata, spec, family = fitfile.read(path)
        try:
            formula = None
            if spec.get("formula"):
                from .formula import FormulaSpec

                formula = FormulaSpec.from_dict(spec["formula"])
            if spec.get("groups"):  # a model with group-level terms
                from .mixed_results import factors_from_spec, mixed_results_class, saved_mle

                mle = saved_mle(spec["mle"], spec["names"]) if spec.get("mle") else None
                kind = mixed_results_class(bool(spec.get("likelihood")))
                return kind(idata, family=family, names=spec["names"], mle=mle,
                            start=spec.get("start", "laplace"), spec=spec, formula_spec=formula,
                            groups=factors_from_spec(spec["groups"]))
            if spec.get("likelihood"):  # a LikelihoodFamily's fit (Beta, ordinal, ...)
                from .likelihood_bayes import LikelihoodBayesResults

                mle = (_SavedMLE(spec["mle"], spec["mle"]["names"]) if spec.get("mle")
                       else None)
                return LikelihoodBayesResults(idata, family=family, names=spec["names"],
                                              mle=mle, start=spec.get("start", "mle"),
                                              spec=spec, formula_spec=formula)
            mle = _SavedMLE(spec["mle"], spec["names"]) if spec.get("mle") else None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise fitfile.damaged_spec(path, err) from err
        return cls(idata, family=family, names=spec["names"], mle=mle,
                   start=spec.get("start", "mle"), spec=spec, formula_spec=formula)

    def __repr__(self):
        post = self.idata.posterior
        note = self.response_note()
        return (
            f"<BayesResults {type(self.family).__name__}({type(self.family.link).__name__}) "
            f"chains={post.sizes['chain']} draws={post.sizes['draw']} start={self.start}"
            + ("" if self.formula_spec is None else f" formula={self.formula_spec.formula!r}")
            + ("" if note is None else f"; {note}") + ">"
        )


class _SavedMLE:
    """The classical fit's numbers as saved with a Bayesian fit (enough for summary())."""

    def __init__(self, d: dict, names):
        self.params = pd.Series(d["params"], index=names)
        self.bse = pd.Series(d["bse"], index=names)
        self.scale = d["scale"]
        self.alpha = d["alpha"]
        self.alpha_se = d["alpha_se"]
        self.nobs = d["nobs"]
        # files saved before df_resid was recorded: the unweighted count
        self.df_resid = d.get("df_resid", d["nobs"] - len(names))
        # recorded by the likelihood families' fits; the others save their MLE only when NUTS
        # started there (converged)
        self.converged = bool(d.get("converged", True))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals from the saved estimates and standard errors (as MLEResults')."""
        from .results import wald_interval

        return wald_interval(self.params, self.bse, alpha)


def load(path) -> BayesResults:
    """Load a Bayesian fit saved with ``BayesResults.save``."""
    return BayesResults.load(path)


def compare(fits: dict, **kwargs) -> pd.DataFrame:
    """LOO (or WAIC) comparison of several fits (``{"name": BayesResults, ...}``), via ArviZ.

    Each fit's criterion is computed by its own :meth:`BayesResults.loo` / ``waic``, so large
    fits are compared in row chunks; the keyword arguments are ``az.compare``'s.
    """
    if not isinstance(fits, dict) or not fits:
        raise ValueError("compare() takes a non-empty dict {name: BayesResults}")
    az = _arviz()
    ic = str(kwargs.get("ic") or az.rcParams["stats.information_criterion"]).lower()
    if ic not in ("loo", "waic"):
        raise ValueError(f"ic must be 'loo' or 'waic', got {kwargs.get('ic')!r}")
    scale = kwargs.get("scale")  # None: ArviZ's default, in loo()/waic() as in az.compare
    table = {k: getattr(v, ic)(pointwise=True, scale=scale) if isinstance(v, BayesResults) else v
             for k, v in fits.items()}
    return az.compare(table, **kwargs)
