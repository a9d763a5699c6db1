"""The Bayesian fit of a :class:`~bayesglm.families.LikelihoodFamily` (Beta, Student-t, ordinal,
zero-inflated, ...): NUTS from the exact-likelihood MLE, and its results.

The sampler's coordinates are the classical fit's: the coefficients and the extra parameters'
unconstrained u (:mod:`bayesglm.transforms`, NumPyro's maps), so NUTS starts at the MLE with the
inverse observed information as its mass matrix, as for the other families. Where the MLE did
not converge or an extra parameter ran off to its limit (a ConvergenceWarning has said so), or
where a coefficient's standard error exceeds its prior's scale (the prior, not the likelihood,
shapes the posterior there), NUTS starts at the posterior mode instead, with the mass matrix
adapted. The posterior's variables
are the coefficients (``beta``) and each extra parameter on its natural scale under its name
(``phi``, ``nu``, ``cutpoints``, ``zi``); ``summary()`` lists them by their ``params`` labels
beside the MLE.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from . import problem as pb
from . import transforms as T
from ._args import integer
from ._warnings import ConvergenceWarning, warn
from ._x64 import float64
from ._xla import jit
from .bayes_results import BayesResults, check_draws, draws_table
from .convert import add_group, to_inference_data
from .fitting import LOGLIK_MAX, rows_data
from .likelihood_mle import natural_scale
from .model import prior_arrays, prior_structure, with_extra
from .pointwise import loglik_draws
from .posterior import sampler_config
from .problem import eta_draws
from .sampling import find_mode, make_plan, run_nuts

__all__ = ["fit_likelihood_bayes", "fit_likelihood_map", "sample_likelihood_prior",
           "LikelihoodBayesResults", "extra_dims"]

SITES = ["beta", "extra"]
KINDS = ("mean", "linear", "response")


def _dims(family) -> tuple[dict, dict]:
    """(dims, coords) of the vector extra parameters in the InferenceData."""
    dims, coords = {}, {}
    for q in family.extra_params():
        if q.size > 1 or q.names is not None:
            dim = f"{q.name}_entry"
            dims[q.name] = [dim]
            coords[dim] = ([str(n) for n in family.zero_names] if q.names is not None
                           else [str(k) for k in range(1, q.size + 1)])
    return dims, coords


def extra_dims(family, design, constant: dict) -> tuple[dict, dict]:
    """(dims, coords) of the extra parameters' vectors, with the zero model's design added to
    ``constant`` (constant_data: the rows a saved fit predicts and replicates with)."""
    dims, coords = _dims(family)
    for name, Z in (design.aux or {}).items():
        constant[f"aux_{name}"] = Z
        dims[f"aux_{name}"] = ["obs", f"aux_{name}_coef"]
        coords[f"aux_{name}_coef"] = [str(c) for c in design.aux_names[name]]
    return dims, coords


def _prior_dominated(model, mle) -> bool:
    """Whether some coefficient's standard error exceeds its prior's scale: the likelihood says
    less than the prior there (a few informative rows, a quasi-separated zero part), so the
    normal approximation at the MLE is no start for the posterior; its mode (prior included)
    is."""
    for pr, se in zip(model.resolved_priors.coef, mle.bse.iloc[:len(model.design.names)]):
        scale = getattr(pr, "sigma", getattr(pr, "b", None))
        if scale is not None and np.isfinite(se) and se > scale:
            return True
    return False


@jit(static_argnames=("family",))
def _mean_draws(family, eta, extra, aux):
    """E[y] for every draw: eta (draws, rows), the extra parameters' draws by name (draws, ...)."""
    fixed = family.fixed_extra()
    return jax.vmap(lambda e, x: family.mean(e, {**x, **fixed}, aux))(eta, extra)


@jit(static_argnames=("family",))
def _probability_draws(family, eta, extra):
    """An ordinal family's P(Y = k) for every draw: (draws, rows, categories)."""
    fixed = family.fixed_extra()
    return jax.vmap(lambda e, x: family.probabilities(e, {**x, **fixed}))(eta, extra)


def _category_table(draws: np.ndarray, levels, index, hdi_prob: float) -> pd.DataFrame:
    """(draws, rows, K) probabilities -> a column per level (the posterior mean), then each
    level's ``<level>_sd`` and HDI bounds (``<level>_hdi_3%``, ...), as the MLE's columns
    ``<level>``, ``<level>_se``."""
    labels = [str(v) for v in levels]
    out = pd.DataFrame(draws.mean(0), columns=labels, index=index)
    for k, lab in enumerate(labels):
        t = draws_table(draws[:, :, k], index, hdi_prob)
        out[f"{lab}_sd"] = t["sd"].to_numpy()
        for c in t.columns[2:]:
            out[f"{lab}_{c}"] = t[c].to_numpy()
    return out


def _draw_y(family, rng, eta: np.ndarray, extra: dict, trials, aux) -> np.ndarray:
    """y for every draw: eta (draws, rows), the extra parameters' draws by name (draws, ...),
    the family's ``draw_rows`` with its fixed parameters."""
    fixed = family.fixed_extra()
    return np.stack([family.draw_rows(rng, eta[d], {**{k: v[d] for k, v in extra.items()},
                                                    **fixed}, trials, aux)
                     for d in range(eta.shape[0])])


def _structure(model):
    """(prior structure, prior arrays) of the model's coefficients and extra parameters."""
    resolved = model.resolved_priors
    structure = prior_structure(resolved)
    return with_extra(structure, prior_arrays(resolved, structure), model.extra_priors)


def _start(model, mle, structure, priors, data):
    """(values by site, covariance, kind): the MLE in the sampler's coordinates, or the
    posterior mode where the MLE did not converge or sits at a limit."""
    p = len(model.design.names)
    theta = np.asarray(mle.theta, dtype=float)
    if (mle.converged and not mle.limits and np.all(np.isfinite(mle.cov_theta))
            and not _prior_dominated(model, mle)):
        return {"beta": theta[:p], "extra": theta[p:]}, mle.cov_theta, "mle"
    return (*_posterior_mode(model, mle, structure, priors, data), "map")


def _posterior_mode(model, mle, structure, priors, data):
    """(values by site, inverse Hessian of the negative log posterior) at the posterior mode,
    in the sampler's coordinates (the coefficients, the extra parameters' u)."""
    p = len(model.design.names)
    theta = np.asarray(mle.theta, dtype=float)
    beta = theta[:p]
    if mle.separated or not np.all(np.abs(beta) < 30.0):
        beta = np.zeros(p)  # diverging coefficients: the mode search starts from 0
    # from the classical fit's point, else from a neutral one (u = 0: a precision of 1, a
    # probability of 1/2, the coefficients 0): Newton's damped steps can fail far out
    for init in ({"beta": beta, "extra": np.clip(theta[p:], -10.0, 10.0)},
                 {"beta": np.zeros(p), "extra": np.zeros(theta.size - p)}):
        values, cov, ok = find_mode(model.family, structure, data, priors, init, SITES)
        if ok and np.all(np.isfinite(cov)) and np.all(np.linalg.eigvalsh(cov) > 0):
            return values, cov
    raise ValueError(f"the {model.family.name} posterior's mode could not be found; check the "
                     "data against the family, or give proper priors to the extra parameters "
                     "and coefficients")


def fit_likelihood_bayes(model, **args):
    """``GLM.fit`` of a likelihood family (see the module)."""
    sampler_config(None, **args)  # bad arguments fail before any fitting
    family, design = model.family, model.design
    structure, priors = _structure(model)
    data = pb.from_design(design)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mle = model.fit_mle()
    for w in caught:  # the user's line, once
        warn(w.message, w.category)
    values, cov, kind = _start(model, mle, structure, priors, data)
    if kind == "map" and (not mle.converged or mle.limits):
        warn("NUTS starts at the posterior mode, not at the classical fit (which did not "
             "converge or ran off to a limit), with its mass matrix adapted during warmup.",
             ConvergenceWarning)
    config = sampler_config(None, kind=kind, **args)
    p, k = len(design.names), int(np.size(values["extra"]))
    plan = make_plan(family, structure, data, priors, {"beta": p, "extra": k}, config)
    result = run_nuts(plan, values, cov, config, SITES)
    del plan
    u = np.asarray(result.samples["extra"])
    posterior = {"beta": np.asarray(result.samples["beta"]),
                 **T.unpack(family.extra_params(), u, np)}
    chains, draws = u.shape[:2]
    small = chains * draws * design.nobs <= LOGLIK_MAX
    loglik = None
    if small:  # weighted by frequency weights, as the other families' (pointwise module)
        loglik = loglik_draws(family, data, posterior["beta"], u)
    constant, obs_index = rows_data(design)
    dims, coords = extra_dims(family, design, constant)
    idata = to_inference_data(
        posterior=posterior, sample_stats=result.stats, names=design.names,
        obs_index=obs_index, y=family.observed(design.y, design.trials),
        constant_data=constant, log_likelihood=loglik, dims=dims, coords=coords,
        attrs={"inference_library": "bayesglm (numpyro NUTS)", "start": kind,
               "chain_method": result.chain_method, "warmup": config.warmup},
    )
    res = LikelihoodBayesResults(
        idata, family=family, names=design.names, mle=mle, start=kind, design=design,
        spec={"has_offset": design.offset is not None,
              "has_exposure": design.exposure is not None, "likelihood": True},
        config=config, formula_spec=model.formula_spec,
        sampler_run=result._replace(samples=None), data=model.data,
    )
    if small:
        res.posterior_predictive(seed=config.seed)
    check_draws(idata, config.max_tree_depth, labels=res._labels())
    return res


def fit_likelihood_map(model):
    """``GLM.fit_map()`` of a likelihood family: the posterior mode with the model's priors
    (every extra parameter's too) and its Laplace covariance, as ``MAPResults`` whose
    ``params``/``bse`` are the coefficients and the extra parameters under their labels, on
    their natural scale (the standard errors by the delta method from the unconstrained
    coordinates the mode is found in)."""
    from .posterior import MAPResults, Start

    family, design = model.family, model.design
    structure, priors = _structure(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the classical fit's warnings are its own
        mle = model.fit_mle()
    values, cov = _posterior_mode(model, mle, structure, priors, pb.from_design(design))
    p = len(design.names)
    theta = np.concatenate([np.asarray(values["beta"]), np.atleast_1d(values["extra"])])
    params, cov_nat = natural_scale(family, theta, cov, p)
    labels = list(design.names) + [lab for q in family.extra_params() for lab in q.labels()]
    return MAPResults(labels, Start("map", {"beta": params}, cov_nat, None), family)


def sample_likelihood_prior(model, draws: int, seed: int):
    """``GLM.sample_prior`` of a likelihood family: the coefficients and every extra parameter
    drawn from their priors, y from the family (``draw_rows``) at each draw."""
    family, design = model.family, model.design
    rng = np.random.default_rng(seed)
    beta = model.resolved_priors.draw(rng, draws)["beta"]
    extra = model.extra_priors.draw(rng, draws)
    eta = eta_draws(beta, design.X, design.total_offset)
    y_rep = _draw_y(family, rng, eta, extra, design.trials, design.aux)
    constant, obs_index = rows_data(design)
    constant.pop("X", None)
    dims, coords = _dims(family)
    return to_inference_data(
        posterior=None, sample_stats=None, names=design.names, obs_index=obs_index,
        y=family.observed(design.y, design.trials), constant_data=constant,
        prior={"beta": beta[None], **{k: v[None] for k, v in extra.items()}},
        prior_predictive=y_rep[None], dims=dims, coords=coords,
    )


class LikelihoodBayesResults(BayesResults):
    """``BayesResults`` of a likelihood family: the extra parameters beside the coefficients.

    ``summary()`` has a row per coefficient and per extra parameter's entry (``phi``,
    ``cutpoints[1]``, ``zi_Intercept``: the MLE's labels) with the classical estimate and its
    standard error beside the posterior; ``predict(kind="mean")`` is the posterior of E[y]
    (``(1 - zi) mu`` for a zero-inflated model; an ordinal model's expected category code),
    ``kind="response"`` draws y; ``loo()``/``waic()`` use the stored pointwise log-likelihood.
    """

    def _extra_params(self) -> list[str]:
        return [q.name for q in self.family.extra_params()]

    def _labels(self) -> dict:
        """az.summary's row names of the extra parameters -> the MLE's labels."""
        out = {}
        dims, coords = _dims(self.family)
        for q in self.family.extra_params():
            if q.name in dims:
                for c, label in zip(coords[dims[q.name][0]], q.labels()):
                    out[f"{q.name}[{c}]"] = label
        return out

    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        table = super().summary(hdi_prob).rename(index=self._labels())
        if self.mle is not None:
            rows = [r for r in self.mle.params.index if r in table.index]
            table.loc[rows, "mle"] = self.mle.params[rows].to_numpy()
            table.loc[rows, "mle_se"] = self.mle.bse[rows].to_numpy()
        return table

    def _extra_draws(self) -> dict:
        """The extra parameters' draws flattened over chains: name -> (draws,) or (draws, k)."""
        post = self.idata.posterior
        out = {}
        for q in self.family.extra_params():
            a = post[q.name].to_numpy()
            out[q.name] = a.reshape((-1,) + a.shape[2:])
        return out

    def _obs_data(self, what: str):
        d = self._design
        if d is not None:
            return pb.Problem(d.X, None, d.y, d.total_offset, d.weights, d.trials, aux=d.aux)
        rows = super()._obs_data(what)  # a loaded fit: the rows from the file
        cd = self.idata.constant_data
        aux = {name: cd[f"aux_{name}"].to_numpy().astype(float)
               for name in self.family.aux_formulas()}
        return rows._replace(aux=aux or None)

    def _aux_of(self, data):
        if not self.family.aux_formulas():
            return None
        if data is None:
            return self._obs_data("predict()").aux
        return self.formula_spec.aux_matrices(data, "data")

    def _predict(self, data, kind, hdi_prob, offset, exposure, trials, seed, options: dict):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
        seed = integer(seed, "seed", low=0)
        eta, index, trials = self._new_eta(data, offset, exposure, trials, seed=seed,
                                           **options)
        aux = self._aux_of(data)
        fam = self.family
        extra = self._extra_draws()
        ordinal = getattr(fam, "ordinal", False)
        if kind == "linear":
            draws = eta
        elif kind == "mean" and ordinal:  # the category probabilities' posterior
            P = _probability_draws(fam, jnp.asarray(eta),
                                   {k: jnp.asarray(v) for k, v in extra.items()})
            return _category_table(np.asarray(P), fam.levels, index, hdi_prob)
        elif kind == "mean":
            auxj = None if aux is None else {k: jnp.asarray(v) for k, v in aux.items()}
            draws = np.asarray(_mean_draws(fam, jnp.asarray(eta),
                                           {k: jnp.asarray(v) for k, v in extra.items()}, auxj))
        else:
            rng = np.random.default_rng(seed)
            t = trials if trials is not None else (np.ones(eta.shape[1]) if fam.has_trials
                                                   else None)
            draws = _draw_y(fam, rng, eta, extra, t, aux)
            if t is not None:
                draws = fam.from_observed(draws, t)
            if ordinal:  # the posterior predictive distribution of each row's category
                codes = np.arange(len(fam.levels))
                freq = (draws[:, :, None] == codes).mean(axis=0)
                return pd.DataFrame(freq, columns=[str(v) for v in fam.levels], index=index)
        return draws_table(draws, index, hdi_prob)

    @float64
    def posterior_predictive(self, seed: int = 0, *, thin: int = 1, memory_budget=None):
        """y_rep for the observed rows (one draw per posterior draw, the family's
        ``draw_rows``), stored as the posterior_predictive group."""
        seed = integer(seed, "seed", low=0)
        thin = integer(thin, "thin", low=1)
        data = self._obs_data("posterior_predictive()")
        post = self.idata.posterior
        beta = post["beta"].to_numpy()[:, ::thin]
        chains, draws = beta.shape[:2]
        effects = [np.asarray(e)[:, ::thin].reshape((-1,) + e.shape[2:])
                   for e in self._effects()]  # a mixed model's group effects
        eta = eta_draws(beta.reshape(-1, beta.shape[-1]), data.X, data.offset, data.groups,
                        effects)
        extra = {q.name: post[q.name].to_numpy()[:, ::thin].reshape(
            (chains * draws,) + post[q.name].shape[2:]) for q in self.family.extra_params()}
        y = _draw_y(self.family, np.random.default_rng(seed), eta, extra, data.trials, data.aux)
        y_rep = y.reshape(chains, draws, -1)
        add_group(self.idata, "posterior_predictive", y_rep,
                  self.idata.observed_data["y"].coords["obs"].to_numpy(),
                  draws=post.coords["draw"].to_numpy()[::thin])
        return self.idata.posterior_predictive

    def _mean_rows(self, eta, obs, start, stop):
        """E[y] (draws, rows) of rows ``start:stop``: the family's mean with the extra
        parameters' draws and the rows' zero-model design (ordinal: the category code's)."""
        aux = None if obs.aux is None else {k: jnp.asarray(v[start:stop])
                                            for k, v in obs.aux.items()}
        extra = {k: jnp.asarray(v) for k, v in self._extra_draws().items()}
        return np.asarray(_mean_draws(self.family, jnp.asarray(eta), extra, aux))

    def _draws(self):
        """beta (chains, draws, p) and, in the place of a dispersion, the extra parameters'
        u (chains, draws, k) on the real line, which the pointwise module's likelihood takes
        (loo/waic of fits whose pointwise log-likelihood was not stored)."""
        post = self.idata.posterior
        beta = post["beta"].to_numpy()
        lead = beta.shape[:2]
        parts = [np.asarray(T.to_unconstrained(q, post[q.name].to_numpy(), np)).reshape(
            *lead, q.size) for q in self.family.extra_params()]
        return beta, np.concatenate(parts, axis=-1) if parts else np.zeros((*lead, 0))

    def _mle_record(self) -> dict:
        """The classical fit's estimates and SEs under their labels (the coefficients and every
        extra parameter's entries), which a saved fit's ``summary()`` shows."""
        m = self.mle
        return {"names": [str(n) for n in m.params.index], "params": m.params.tolist(),
                "bse": m.bse.tolist(), "scale": None, "alpha": None, "alpha_se": None,
                "nobs": m.nobs, "df_resid": m.df_resid, "llf": m.llf,
                "converged": bool(m.converged)}
