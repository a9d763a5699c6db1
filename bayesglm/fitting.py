"""The Bayesian fit from top to bottom: MLE (or MAP) -> start -> NUTS -> InferenceData -> results.

:func:`fit_bayes` is ``GLM.fit``; :func:`fit_map` is ``GLM.fit_map``; :func:`sample_prior` is
``GLM.sample_prior``. Each reads the model's public parts (family, design, resolved priors,
formula) and hands the results container everything it shows, so that no container refits.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import problem as pb
from .conflict import check_prior_conflict
from .mle import RankDeficientError
from .model import prior_arrays, prior_structure
from .posterior import (MAPResults, MLEOutcome, Start, choose_start, map_start,
                        sampler_config, site_order)
from . import subsample as SS
from .sampling import compile_in_background, jitter_factor, make_plan, run_nuts

__all__ = ["fit_bayes", "fit_map", "sample_prior", "rows_data", "check_subsample",
           "LOGLIK_MAX"]

#: store the pointwise log-likelihood (for LOO/WAIC), y_rep and X in the InferenceData up to
#: this many numbers (chains x draws x rows, 80 MB); beyond it the fit stays lean and
#: ``loo()``/``waic()``/``posterior_predictive()`` compute what they need when asked
LOGLIK_MAX = 10_000_000


def _classical(model, *, quiet: bool = False, devices=None) -> MLEOutcome:
    """The MLE and the warnings it raised (kept, to be handed on or dropped by the caller)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore" if quiet else "always")
        try:
            mle = model.fit_mle(devices=devices)
        except RankDeficientError:
            return MLEOutcome(None, [])
        except ValueError:
            if not quiet:
                raise
            return MLEOutcome(None, [])
    return MLEOutcome(mle, list(caught))


def _sizes(family, design, resolved) -> dict:
    sizes = {"beta": len(design.names)}
    if resolved.dispersion is not None:
        sizes[family.dispersion_param] = 1
    return sizes


def rows_data(design) -> tuple[dict, np.ndarray]:
    """(constant_data, obs coordinate) of a fit's InferenceData: X (when at most
    :data:`LOGLIK_MAX` numbers), the offset, exposure, weights and trials; the rows' labels."""
    constant = {"X": design.X} if design.X.size <= LOGLIK_MAX else {}
    for name in ("offset", "exposure", "weights", "trials"):
        if getattr(design, name) is not None:
            constant[name] = getattr(design, name)
    obs_index = np.arange(design.nobs) if design.row_index is None else np.asarray(
        design.row_index)
    return constant, obs_index


def check_subsample(family, nobs: int, subsample):
    """``fit(subsample=...)`` checked (before any fitting): None, "auto" or a number of rows
    (rounded up to a multiple of ``subsample.BLOCKS``)."""
    size = SS.check_size(subsample, nobs)
    if size is not None and family.sampler_gram():
        raise ValueError(
            "subsample= is not needed for a Gaussian identity-link model: its sampler reads "
            "the rows' sufficient statistics (X'WX and the residuals), so a gradient costs "
            "O(p^2) whatever the number of rows. Leave subsample=None.")
    return size


def _subsampled_plan(family, structure, data, priors, sizes, config, start: Start, size):
    """(plan, proxy) of a subsampled run: the rows' Taylor expansion at the start, and the
    subsample size (``"auto"``: from the estimate's variance at draws from the start's normal
    approximation, :func:`bayesglm.subsample.choose_size`)."""
    disp = start.values.get(family.dispersion_param) if family.dispersion_param else None
    proxy = SS.make_proxy(family, data, start.values["beta"], disp)
    if size == "auto":
        rng = np.random.default_rng(config.seed)
        eps = rng.standard_normal((SS.CHECK_DRAWS, start.cov.shape[0]))
        z = np.concatenate([np.ravel(start.values["beta"])]
                           + ([[np.log(disp)]] if disp is not None else []))
        draws = z[None, :] + eps @ jitter_factor(start.cov).T
        p = len(start.values["beta"])
        size = SS.choose_size(family, proxy, draws[:, :p],
                              None if disp is None else np.exp(draws[:, p]))
    proxy = SS.with_size(proxy, size)
    plan = make_plan(family, structure, pb.Problem(None, None, None, subsample=proxy), priors,
                     sizes, config)
    return plan, proxy


def _check_subsample(family, proxy, samples: dict) -> float:
    """sigma^2 of the subsample's estimate at :data:`bayesglm.subsample.CHECK_DRAWS` posterior
    draws spread over the chains (warns where it is large)."""
    beta = np.asarray(samples["beta"])
    flat = beta.reshape(-1, beta.shape[-1])
    pick = np.linspace(0, flat.shape[0] - 1, min(SS.CHECK_DRAWS, flat.shape[0])).astype(int)
    disp = None
    if family.dispersion_param and family.dispersion_param in samples:
        disp = np.asarray(samples[family.dispersion_param]).reshape(-1)[pick]
    return SS.check(family, proxy, proxy.size, flat[pick], disp)


def fit_bayes(model, subsample=None, **args):
    """NUTS from the MLE (the MAP where it does not exist or did not converge): ``GLM.fit``.

    ``subsample``: None (every row), "auto" or a number of rows: energy-conserving subsampling
    (:mod:`bayesglm.subsample`)."""
    from .bayes_results import BayesResults, check_draws
    from .convert import Pending
    from .pointwise import loglik_draws

    guess = sampler_config(None, **args)  # bad arguments fail before any fitting
    family, design, resolved = model.family, model.design, model.resolved_priors
    size = check_subsample(family, design.nobs, subsample)
    structure = prior_structure(resolved)
    priors = prior_arrays(resolved, structure)
    data = pb.from_design(design)
    sizes = _sizes(family, design, resolved)
    order = site_order(family, resolved)

    # 1. The sampler's program does not depend on where it starts: compile it (for the usual
    #    start, the MLE) in a thread while the MLE is fitted. From the MAP (separation,
    #    non-convergence) the settings differ and that compilation goes unused. (A subsampled
    #    run's data are the Taylor expansion at the start: its plan waits for the start.)
    ahead = None if size is not None else compile_in_background(
        make_plan(family, structure, data, priors, sizes, guess))
    # 2. The start: the MLE, or the posterior mode.
    start = choose_start(family, design, data, resolved,
                         _classical(model, devices=args.get("devices")))
    config = sampler_config(start, **args)
    # 3. NUTS (on the very device arrays compiled for, so the ahead-of-time program is used).
    proxy = None
    if size is None:
        plan = make_plan(family, structure, ahead.plan.data, priors, sizes, config)
    else:
        plan, proxy = _subsampled_plan(family, structure, data, priors, sizes, config, start,
                                       size)
    result = run_nuts(plan, start.values, start.cov, config, order, ahead)
    del plan, ahead  # the sampler's copy of X' is not kept
    attrs = {}
    if proxy is not None:
        attrs = {"subsample": proxy.size,
                 "subsample_variance": _check_subsample(family, proxy, result.samples)}
        del proxy
    # 4. InferenceData: draws, statistics, the rows, and (small fits) the log-likelihood.
    posterior = dict(result.samples)
    disp = posterior.get(family.dispersion_param) if family.dispersion_param else None
    small = config.chains * config.draws * design.nobs <= LOGLIK_MAX
    loglik = loglik_draws(family, data, posterior["beta"], disp) if small else None
    constant, obs_index = rows_data(design)
    # built when fit.idata is first read (bayesglm.convert: importing ArviZ takes ~1 s)
    idata = Pending(dict(
        posterior=posterior, sample_stats=result.stats, names=design.names,
        obs_index=obs_index, y=family.observed(design.y, design.trials),
        constant_data=constant, log_likelihood=loglik,
        attrs={"inference_library": "bayesglm (numpyro NUTS)", "start": start.kind,
               "chain_method": result.chain_method, "warmup": config.warmup, **attrs},
    ))
    # 5. The results, given all they show.
    spec = {"has_offset": design.offset is not None, "has_exposure": design.exposure is not None,
            "priors": resolved.table().astype(str).to_dict(orient="list")}
    res = BayesResults(
        idata, family=family, names=design.names,
        mle=start.mle if start.kind == "mle" else None,
        map_fit=MAPResults(design.names, start, family) if start.kind == "map" else None,
        start=start.kind, design=design, spec=spec, config=config,
        formula_spec=model.formula_spec, sampler_run=result._replace(samples=None),
        data=model.data,
    )
    if small:
        # y_rep for az.plot_ppc(fit.idata), as small as the stored log-likelihood, drawn with
        # the fit's seed (fit.posterior_predictive(seed) remakes it)
        res._posterior_predictive(config.seed)
    # 6. The package's warnings about the draws.
    check_draws(idata, config.max_tree_depth)
    check_prior_conflict(start, result.samples, resolved, design.names, family.dispersion_param)
    return res


def fit_map(model, method: str = "mode") -> MAPResults:
    """The posterior mode and its Laplace covariance, or arm::bayesglm's estimate."""
    methods = ("mode", "arm")
    if not isinstance(method, str) or method not in methods:
        raise ValueError(f"fit_map: method must be one of {', '.join(map(repr, methods))}; "
                         f"got {method!r}")
    family, design, resolved = model.family, model.design, model.resolved_priors
    if method == "arm":
        from .arm import check_arm, fit_arm

        check_arm(family, resolved)  # bad priors/family: before fitting
        beta, cov, disp = fit_arm(family, design, resolved)
        values = {"beta": beta}
        p = len(beta)
        if disp is not None:  # arm gives no uncertainty for its dispersion: NaN
            values[family.dispersion_param] = disp
            full = np.full((p + 1, p + 1), np.nan)
            full[:p, :p] = cov
            cov = full
        return MAPResults(design.names, Start("map", values, cov, None), family)
    mle = _classical(model, quiet=True).mle
    start = map_start(family, design, pb.from_design(design), resolved, mle)
    return MAPResults(design.names, start, family)


def sample_prior(model, draws: int, seed: int):
    """Prior predictive draws: InferenceData with prior, prior_predictive and observed_data."""
    from .convert import to_inference_data
    from .pointwise import draw_y

    family, design, resolved = model.family, model.design, model.resolved_priors
    rng = np.random.default_rng(seed)
    prior = {k: v[None] for k, v in resolved.draw(rng, draws).items()}
    disp = prior.get(family.dispersion_param) if family.dispersion_param else None
    y_rep = draw_y(family, pb.from_design(design, device=False), prior["beta"], disp, seed=seed,
                   what="sample_prior()")
    obs_index = np.arange(design.nobs) if design.row_index is None else np.asarray(
        design.row_index)
    return to_inference_data(
        posterior=None, sample_stats=None, names=design.names, obs_index=obs_index,
        y=family.observed(design.y, design.trials), constant_data={}, prior=prior,
        prior_predictive=y_rep,
    )
