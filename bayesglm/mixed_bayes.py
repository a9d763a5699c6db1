"""The posterior of a model with group-level terms: Laplace fit -> start -> NUTS -> results.

:func:`fit_mixed_bayes` is ``GLM.fit`` for a model with ``(x | g)`` terms. The model
(:func:`bayesglm.model.build_model`) has the fixed effects ``beta``, the dispersion, the
covariance parameters ``theta`` (log sd's, unconstrained correlation factors:
:mod:`bayesglm.group_cov`) and the group effects ``z``. NUTS starts at the classical
fit (lme4's, :func:`bayesglm.mixed.fit_mixed`), mapped to those coordinates:

* ``beta`` at the estimates, ``theta`` at the estimated covariances (an sd estimated at 0, a
  singular fit, starts at ``SD_FLOOR`` times the unit: sigma for a linear mixed model, else 1), ``z``
  at the conditional modes;
* each term's effects are parametrised from the Laplace fit. An uncorrelated term (one column,
  or ``||``) is partially non-centred, b_lk = sd_k^w_lk z_lk with a weight per level and column
  (:func:`partial_weights`: w = 0 centred, 1 non-centred; the weight that makes the effects'
  conditional scale stop moving with the sd, Papaspiliopoulos, Roberts and Skold 2007). A
  correlated term is centred (z = b) where the data say more about a level's effects than the
  population does (the mean conditional variance of the non-centred z_l, given the estimates,
  below ``CENTRED_BELOW``) and its sd's are well determined (the Laplace sd of each log sd
  below ``CENTRED_SD_BELOW``), else non-centred (b_l = C z_l). Measured while choosing the
  binary rule (minimum bulk ESS of 4 x 1000 draws over the fixed effects and sd's, 3 seeds, a
  dense adapted mass matrix): sleepstudy (conditional variance 0.22) 1760-2360 centred against
  330-600 non-centred; cbpp (0.33) 2000-2700 against 1180-1660; a simulated logistic model with
  2 rows per level (0.89) 9-48 centred (R-hat up to 1.39) against 1180-1230; grouseticks'
  LOCATION (0.31, log-sd sd 0.37: its sd's posterior reaches 0) funnels when centred. With the
  whitening below, partial non-centring against that rule (2026-12-02, seeds 1-3, min bulk ESS
  over the fixed effects, sd's and sigma): cbpp 2494-2756 -> 3147-4144; Pastes 120-164 (45-105
  divergences) -> 145-228 (14-51); grouseticks (BROOD within LOCATION) stays hard either way,
  35-136 -> 53-100 (R-hat up to 1.08, 0-87 divergences); the simulated logistic model at 1e5
  rows and 1e4 levels (4 x 300 draws after 200 warmup), the sd's ESS 588-756 -> 2317, every
  parameter above one effective draw per draw;
* the mass matrix is the covariance of the normal approximation there
  (:class:`~bayesglm.sampling.BlockCovariance`), in three pieces: over (``beta``, the
  dispersion, ``theta``) dense, lme4's covariance of the fixed effects beside the inverse
  curvature of the Laplace approximation of the marginal likelihood in (log dispersion, theta)
  (lme4's deviance, by central differences, its eigenvalues kept within [1e-6, 1]); for ``z``,
  each level's q x q conditional covariance at the modes; and how ``z`` moves with the fixed
  effects and sd's, read by the sampler from the log density's curvature at the start. NUTS runs
  on the coordinates that whiten it (memory linear in the number of levels), and its warmup
  (``DEFAULT_WARMUP["laplace"]``) adapts the step size and, in those coordinates, a dense block
  for the first piece and a diagonal for the rest. The coupling matters: the fixed effects
  (an intercept against every level's effect) and the sd's (against the effects' scale) are
  tied to all the group effects, which a dense-plus-diagonal mass matrix cannot hold. Minimum
  bulk ESS of the default 4 x 1000 draws over the fixed effects, sd's, correlations and sigma,
  seeds 1-3, without it (NumPyro's structured mass matrix adapted over the same blocks, as
  measured before) and with it (2026-12-02): cbpp 1260-1490 -> 2494-2756; sleepstudy 830-1020
  -> 1595-2265, no divergences; grouseticks (BROOD within LOCATION) R-hat up to 1.22 with
  680-1049 divergences -> up to 1.08 with 0-54; Pastes (``(1 | batch/cask)``) up to 1.21 with 459-599
  -> up to 1.03 with 45-105; the simulated logistic model at 1e5 rows and 1e4 levels (4 x 300
  draws after 200 warmup), the intercept's ESS 768 -> 1304-2643 and the sd's 366 -> 588-756.

Then the draws become the parameters users read: ``sd_<group>__<term>``,
``cor_<group>__<t1>__<t2>`` and the group effects ``r_<group>`` (level x term), which
:class:`bayesglm.mixed_results.MixedBayesResults` shows next to the classical fit.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

from . import problem as pb
from . import transforms as T
from .group_cov import layouts, lme4_theta, term_theta, theta_draws
from .group_design import level_crossprods, term_labels
from .mixed import fit_mixed
from .model import prior_arrays, prior_structure, with_extra, with_terms
from .posterior import Start, sampler_config
from .sampling import BlockCovariance, make_plan, run_nuts

__all__ = ["fit_mixed_bayes", "laplace_start", "partial_weights", "term_priors", "derived_draws",
           "size_defaults", "LARGE_EFFECTS", "LARGE_WARMUP", "LARGE_ESS_PER_CHAIN", "SD_FLOOR",
           "PARTIAL_SD_BELOW",
           "CENTRED_BELOW", "CENTRED_SD_BELOW"]

#: a mixed model with at least this many group effects (levels x terms, summed over terms)
#: samples by default with LARGE_WARMUP warmup iterations and stops once every parameter of the
#: summary has LARGE_ESS_PER_CHAIN x chains bulk and tail ESS (``fit(ess=...)``; ``draws`` the
#: most kept): at 1e5 effects a draw costs ~1.1 s on 2 cores (63 leapfrog steps over 1e5
#: dimensions), so the default 4 x (1000 + 1000) iterations would take hours, and 1e6 rows with
#: 1e5 levels took 712 s this way with R-hat <= 1.0025 (benchmarks/README.md). 100 x chains is
#: the ESS below which the package warns anyway. Passing ``warmup`` or ``ess`` turns it off.
LARGE_EFFECTS = 50_000
LARGE_WARMUP = 300
LARGE_ESS_PER_CHAIN = 100

#: an sd estimated at 0 (a singular fit) starts NUTS at this fraction of its unit
SD_FLOOR = 0.05
#: a term is sampled centred when the mean conditional variance of its non-centred effects z
#: at the Laplace fit (1: the data say nothing about a level, 0: everything) is below this ...
CENTRED_BELOW = 0.5
#: ... and the Laplace sd of each of its log sd's is below this (an sd that may be near 0
#: makes a funnel of the centred effects)
CENTRED_SD_BELOW = 0.3
#: a partially non-centred term's weights are set for the sd this many of its Laplace sd's
#: (of the log sd) below the estimate (:func:`partial_weights`)
PARTIAL_SD_BELOW = 2.0


def size_defaults(n_effects: int, args: dict) -> dict:
    """``fit``'s arguments with a very large model's defaults filled in (:data:`LARGE_EFFECTS`):
    only where neither ``warmup`` nor ``ess`` was given."""
    if (n_effects < LARGE_EFFECTS or args.get("warmup") is not None
            or args.get("ess") is not None):
        return args
    return {**args, "warmup": LARGE_WARMUP, "ess": float(LARGE_ESS_PER_CHAIN * args["chains"])}


def _unit_sigma(mle) -> float:
    return float(mle.sigma) if mle.kind == "lmm" else 1.0


#: the central-difference step of the Laplace curvature in (log dispersion, theta): these
#: coordinates are of order 1, and the Laplace deviance's penalised IRLS leaves ~1e-7 of noise,
#: so the step is not small (1e-3 gave a curvature 12 times too large)
CURVATURE_STEP = 2e-2


def _bounded_inverse(H: np.ndarray, low: float = 1e-6, high: float = 1.0) -> np.ndarray:
    """H^-1 with its eigenvalues kept within [low, high] (a flat or curved-down direction gets
    ``high``)."""
    w, V = np.linalg.eigh((H + H.T) / 2)
    inv = np.where(w > 0, 1.0 / np.where(w > 0, w, 1.0), high)
    return (V * np.clip(inv, low, high)) @ V.T


def _covariance_block(model, mle, lays, theta0) -> np.ndarray:
    """The covariance of (log dispersion, theta) from the Laplace marginal likelihood's
    curvature, beta held at the estimates (the dispersion's coordinate only where estimated:
    the sampler's, the log of the Bayesian dispersion parameter)."""
    from .glmm import central_hessian, laplace_deviance
    from .lmm import marginal_deviance

    d, groups, family = model.design, list(model.groups), model.family
    factors = [f for f, _ in groups]
    beta = _fixed(model, mle)
    nd = 1 if mle.dispersion_estimated else 0
    x0 = np.concatenate([[math.log(_dispersion(mle))] * nd, theta0])
    if mle.kind == "lmm":  # a linear mixed model: theta relative to sigma
        y = d.y if d.total_offset is None else d.y - d.total_offset
        f = marginal_deviance(d.X, y, groups, d.weights)

        def dev(x):
            sigma = math.exp(x[0])
            return f(lme4_theta(x[1:], lays, factors, sigma), beta, sigma) / 2.0
    else:
        f = laplace_deviance(d.X, d.y, groups, family, trials=d.trials, offset=d.total_offset,
                             weights=d.weights, aux=d.aux)
        extra_u = _extra_u(model, mle)  # a LikelihoodFamily's, held at the estimates

        def dev(x):
            phi = float(family.scale_from_dispersion(math.exp(x[0]))) if nd else None
            return f(lme4_theta(x[nd:], lays, factors), beta, phi, extra_u) / 2.0

    return _bounded_inverse(central_hessian(dev, x0, CURVATURE_STEP))


def _fixed(model, mle) -> np.ndarray:
    """The fixed effects of the classical fit (a LikelihoodFamily's ``params`` go on with its
    extra parameters)."""
    return mle.params.to_numpy()[:len(model.design.names)]


def _extra_u(model, mle):
    """A LikelihoodFamily's extra parameters at the classical fit, unconstrained (the sampler's
    ``extra``); None for the other families."""
    if not getattr(mle, "exact", False):
        return None
    return np.asarray(mle.theta_u[len(model.design.names):])


def _dispersion(mle) -> float:
    """The classical fit's value of the Bayesian model's dispersion parameter."""
    return float(mle.family.dispersion_from_scale(mle.scale))


def _weights(model, mle, eta) -> np.ndarray:
    """The likelihood's working weights at the modes (1 / sigma^2 for the linear model), times
    the frequency weights."""
    from .glmm import working_weights

    d = model.design
    if mle.kind == "lmm":
        w = np.full(len(eta), 1.0 / mle.sigma**2)
        return w if d.weights is None else w * np.asarray(d.weights, dtype=float)
    return working_weights(model.family, d.y, eta, d.trials, mle.scale, d.weights,
                           extra_u=_extra_u(model, mle), aux=d.aux)


def _level_blocks(model, mle, chols):
    """Per term, the (levels, q, q) conditional covariance of each level's non-centred ``z`` at
    the modes, (C' Z_l' W Z_l C + I)^-1 (a centred term's b has C (...)^-1 C')."""
    d, groups = model.design, list(model.groups)
    eta = d.X @ _fixed(model, mle) + (0 if d.total_offset is None else d.total_offset)
    for (_, rows), b in zip(groups, mle.modes):
        eta = eta + (rows.Z * b[rows.index]).sum(axis=1)
    w = _weights(model, mle, eta)
    out = []
    for (f, rows), C in zip(groups, chols):
        blocks = level_crossprods(rows, w, f.n_levels)  # (L, q, q): Z_l' W Z_l
        out.append(np.linalg.inv(np.einsum("ki,lkj,jm->lim", C, blocks, C)
                                 + np.eye(C.shape[0])))
    return out


def laplace_start(model, mle, sizes: dict):
    """Where NUTS starts, the parametrisation of each term, and the mass matrix, from the
    classical (Laplace) fit ``mle``: ``(layouts, weights, Start)``, ``weights`` a partially
    non-centred term's (levels, q) weights (else None).

    ``sizes``: the fixed sites in order (beta, the dispersion) and their sizes; theta and z
    are added. The covariance is a :class:`~bayesglm.sampling.BlockCovariance`: dense over
    (beta, the dispersion, theta), each level's block of z. An uncorrelated term is partially
    non-centred (:func:`partial_weights`); a correlated one centred (:data:`CENTRED_BELOW`,
    :data:`CENTRED_SD_BELOW`) where the data say more about each level's effects than the
    population does and its sd's are well determined, else non-centred.
    """
    groups = list(model.groups)
    lays = layouts(groups)
    unit = _unit_sigma(mle)
    theta = np.concatenate([term_theta(cov, lay, SD_FLOOR * unit)
                            for cov, lay in zip(mle.covariances, lays)])
    chols = [theta_draws(theta[lay.theta], lay).chol for lay in lays]
    ct = _covariance_block(model, mle, lays, theta)
    nd = ct.shape[0] - len(theta)  # the dispersion's coordinate comes first
    sd_log = np.sqrt(np.diag(ct)[nd:])
    blocks = _level_blocks(model, mle, chols)
    partial = [not lay.correlated for lay in lays]
    centred = [bool(not p and np.mean(v.diagonal(axis1=1, axis2=2)) < CENTRED_BELOW
                    and np.all(sd_log[lay.theta][:lay.q] < CENTRED_SD_BELOW))
               for v, lay, p in zip(blocks, lays, partial)]
    lays = layouts(groups, centred, partial)
    weights = tuple(partial_weights(v, sd_log[lay.theta]) if lay.partial else None
                    for v, lay in zip(blocks, lays))
    z, z_blocks = [], []
    for C, b, v, lay, w in zip(chols, mle.modes, blocks, lays, weights):
        if lay.partial:  # z = sd^-w b = sd^(1 - w) z_nc (C = diag(sd))
            scale = np.diagonal(C)[None, :] ** (1.0 - w)  # (levels, q)
            z.append(b / np.diagonal(C)[None, :] ** w)
            z_blocks.append(scale[:, :, None] * v * scale[:, None, :])
        elif lay.centred:
            z.append(b)
            z_blocks.append(np.einsum("ij,ljk,mk->lim", C, v, C))
        else:
            z.append(linalg.solve_triangular(C, b.T, lower=True).T)
            z_blocks.append(v)
    z = np.concatenate([zz.reshape(-1) for zz in z])
    values = {"beta": _fixed(model, mle), "theta": theta, "z": z}
    disp = [k for k in sizes if k != "beta"]
    if disp and disp[0] == "extra":  # a LikelihoodFamily's (beta, extra) block, joint
        values["extra"] = _extra_u(model, mle)
        first = mle.cov_theta_u
    else:
        if disp:
            values[disp[0]] = _dispersion(mle)
        first = mle.cov_params().to_numpy()
    dense = linalg.block_diag(first, ct)
    sites = ("beta", *disp, "theta")
    cov = BlockCovariance(sites, dense, {"z": tuple(z_blocks)})
    return lays, weights, Start("laplace", values, cov, mle)


def partial_weights(v: np.ndarray, sd_log_se: np.ndarray) -> np.ndarray:
    """An uncorrelated term's weights w (levels, q) of b_lk = sd_k^w_lk z_lk, from each level's
    (levels, q, q) conditional covariance ``v`` of its non-centred effects at the Laplace fit and
    the Laplace sd's of the log sd's.

    Given sd, the conditional variance of sd^-w b_lk changes with sd as sd^(2 (kappa - w)) to
    first order, kappa = v_kk (Papaspiliopoulos, Roberts and Skold 2007): w = kappa makes it
    flat there, so the effects' scale no longer moves with the sd (centred: w = 0, kappa -> 0
    with much data; non-centred: w = 1, kappa -> 1 with none). kappa is taken at the sd
    ``PARTIAL_SD_BELOW`` Laplace sd's below its estimate, 1 / ((1 / kappa - 1) s^2 + 1) with s
    the ratio of the two sd's: where the sd's posterior reaches towards 0 (a funnel, which the
    non-centred form handles) the weights lean to non-centred.
    """
    kappa = np.clip(v.diagonal(axis1=1, axis2=2), np.finfo(float).tiny, 1.0)
    ratio2 = np.exp(-2.0 * PARTIAL_SD_BELOW * np.asarray(sd_log_se)[:v.shape[1]])
    return 1.0 / ((1.0 / kappa - 1.0) * ratio2[None, :] + 1.0)


def term_priors(model, lays, weights=None):
    """(structure, numbers) of the priors of a mixed model whose terms are laid out as ``lays``
    (:func:`bayesglm.group_cov.layouts`): the fixed part's and each term's covariance prior,
    and a partially non-centred term's weights (:func:`partial_weights`)."""
    base = prior_structure(model.resolved_priors)
    arrays = prior_arrays(model.resolved_priors, base)
    if model.extra_priors is not None:  # a LikelihoodFamily's extra parameters
        base, arrays = with_extra(base, arrays, model.extra_priors)
    return with_terms(base, arrays, lays, model.group_priors, weights)


def derived_draws(samples: dict, groups, lays, weights=None) -> dict:
    """The draws users read from the sampler's: ``sd_*``, ``cor_*`` and ``r_<label>`` (chains,
    draws, levels, q); ``theta`` and ``z`` are left out. ``weights``: a partially non-centred
    term's (levels, q) weights."""
    weights = [None] * len(lays) if weights is None else list(weights)
    out = {k: v for k, v in samples.items() if k not in ("theta", "z")}
    theta, z = np.asarray(samples["theta"]), np.asarray(samples["z"])
    factors = [f for f, _ in groups]
    for lay, f, label, w in zip(lays, factors, term_labels(factors), weights):
        td = theta_draws(theta[..., lay.theta], lay)
        for k, t in enumerate(f.terms):
            out[f"sd_{f.group}__{t}"] = td.sd[..., k]
        if f.correlated and lay.q > 1:
            Lc = td.chol / td.sd[..., :, None]
            R = Lc @ np.swapaxes(Lc, -1, -2)
            for j in range(lay.q):
                for i in range(j + 1, lay.q):
                    out[f"cor_{f.group}__{f.terms[j]}__{f.terms[i]}"] = R[..., i, j]
        zz = z[..., lay.z].reshape(z.shape[:-1] + (lay.n_levels, lay.q))
        if lay.partial:
            out[f"r_{label}"] = zz * td.sd[..., None, :] ** w
        elif lay.centred:
            out[f"r_{label}"] = zz
        else:
            out[f"r_{label}"] = np.einsum("cslk,csjk->cslj", zz, td.chol)
    return out


def fit_mixed_bayes(model, **args):
    """NUTS from the Laplace fit (see the module docstring): ``GLM.fit`` of a mixed model."""
    from .bayes_results import check_draws
    from .convert import to_inference_data
    from .fitting import LOGLIK_MAX
    from .mixed_results import effect_draws, mixed_results_class
    from .pointwise import loglik_draws

    early = sampler_config(None, kind="laplace", **args)  # bad arguments fail before fitting
    family, design, resolved = model.family, model.design, model.resolved_priors
    groups = list(model.groups)
    exact = bool(getattr(family, "exact_likelihood", False))
    sizes = {"beta": len(design.names)}
    if exact:  # a LikelihoodFamily's extra parameters, unconstrained
        sizes["extra"] = sum(q.size for q in family.extra_params())
    elif resolved.dispersion is not None:
        sizes[family.dispersion_param] = 1
    data = pb.with_groups(pb.from_design(design), groups)

    # lme4's fit: the start, and the parametrisation of each term (its bar off with the sampler's)
    mle = fit_mixed(model, progress=None if early.progress else False)
    lays, weights, start = laplace_start(model, mle, sizes)
    sizes["theta"], sizes["z"] = lays[-1].theta_span[1], lays[-1].z_span[1]
    structure, priors = term_priors(model, lays, weights)
    config = sampler_config(start, **size_defaults(sizes["z"], args))
    plan = make_plan(family, structure, data, priors, sizes, config, start.cov)
    result = run_nuts(plan, start.values, start.cov, config, list(sizes))
    del plan

    posterior = derived_draws(result.samples, groups, lays, weights)
    effects = effect_draws(posterior, groups)
    if exact:  # the extra parameters under their names, on their natural scale
        disp = np.asarray(posterior.pop("extra"))
        posterior.update(T.unpack(family.extra_params(), disp, np))
    else:
        disp = posterior.get(family.dispersion_param) if family.dispersion_param else None
    small = config.chains * config.draws * design.nobs <= LOGLIK_MAX
    loglik = loglik_draws(family, data, posterior["beta"], disp, effects) if small else None
    constant, dims, coords = _constant_data(design, groups)
    if exact:
        from .likelihood_bayes import extra_dims

        more_dims, more_coords = extra_dims(family, design, constant)
        dims.update(more_dims)
        coords.update(more_coords)
    obs_index = np.arange(design.nobs) if design.row_index is None else np.asarray(
        design.row_index)
    factors = [f for f, _ in groups]
    for f, label in zip(factors, term_labels(factors)):
        dims[f"r_{label}"] = [f"{label}__level", f"{label}__term"]
        coords[f"{label}__level"] = list(f.levels)
        coords[f"{label}__term"] = list(f.terms)
    idata = to_inference_data(
        posterior=posterior, sample_stats=result.stats, names=design.names,
        obs_index=obs_index, y=family.observed(design.y, design.trials),
        constant_data=constant, log_likelihood=loglik, dims=dims, coords=coords,
        attrs={"inference_library": "bayesglm (numpyro NUTS)", "start": start.kind,
               "chain_method": result.chain_method, "warmup": config.warmup},
    )
    spec = {"has_offset": design.offset is not None, "has_exposure": design.exposure is not None,
            "priors": model.prior_summary().astype(str).to_dict(orient="list")}
    if exact:
        spec["likelihood"] = True
    res = (mixed_results_class(exact))(
        idata, family=family, names=design.names, mle=mle, start=start.kind, design=design,
        spec=spec, config=config, formula_spec=model.formula_spec,
        sampler_run=result._replace(samples=None), groups=groups, data=model.data,
    )
    if small:
        res.posterior_predictive(seed=config.seed)
    check_draws(idata, config.max_tree_depth, labels=res._labels() if exact else None)
    return res


def _constant_data(design, groups):
    """constant_data (X, the per-row arguments, each term's columns and level index), and the
    dims and coords of the terms' entries."""
    from .fitting import LOGLIK_MAX

    constant = {"X": design.X} if design.X.size <= LOGLIK_MAX else {}
    for name in ("offset", "exposure", "weights", "trials"):
        if getattr(design, name) is not None:
            constant[name] = getattr(design, name)
    dims, coords = {}, {}
    factors = [f for f, _ in groups]
    for (f, rows), label in zip(groups, term_labels(factors)):
        constant[f"Z_{label}"] = np.asarray(rows.Z)
        constant[f"index_{label}"] = np.asarray(rows.index)
        dims[f"Z_{label}"] = ["obs", f"{label}__term"]
        dims[f"index_{label}"] = ["obs"]
    return constant, dims, coords
