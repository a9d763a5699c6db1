"""The NumPyro model of a GLM: the only module that builds NumPyro distributions.

:func:`build_model` turns a family (with its link) and the structure of resolved priors into a
NumPyro model ``model(data, priors)`` of a :class:`~bayesglm.problem.Problem` and the priors'
numbers (:class:`PriorArrays`). Its sites:

* ``beta``: the coefficients, a vector site (an improper base measure) whose prior density is
  added by a ``numpyro.factor`` named ``beta_prior``, so that each coefficient can have its own
  prior and the intercept's prior can sit on the centred intercept ``b0 + x_means @ beta``
  (a linear map with unit Jacobian, :func:`bayesglm.priors.centre`);
* the dispersion, named as the family says (``sigma``, ``shape``, ``lam``, ``alpha``): a
  positive site whose prior density is the factor ``<name>_prior``;
* for a model with group-level terms, ``theta`` (every term's log sd's and unconstrained
  correlation factor, :mod:`bayesglm.group_cov`) and ``z``, the group effects (non-centred,
  z_l ~ N(0, I) with b_l = diag(sd) L z_l, centred, z_l = b_l ~ N(0, Sigma), or partially
  non-centred, b_lk = sd_k^w_lk z_lk, per term),
  their densities (the covariance's prior, rstanarm's decov or brms' LKJ style,
  :mod:`bayesglm.priors.covariance`, and the effects' normal) the factor ``theta_prior``;
* for a likelihood family (:class:`~bayesglm.families.LikelihoodFamily`), ``extra``: its
  extra parameters in their unconstrained coordinates (:mod:`bayesglm.transforms`), their
  priors and the maps' log Jacobians the factor ``extra_prior``;
* ``y``: the observations, on the mean's scale, scaled by the frequency weights.

Every density here is written once elsewhere: the priors' in :mod:`bayesglm.priors`
(``Prior.kernel``, evaluated with JAX's functions), the likelihood in the family
(``Family.loglike_eta``), so the model, the posterior mode and LOO share them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import gammaln
from numpyro.distributions import constraints

from . import priors as P
from .families import Family
from .priors.covariance import decov_logpdf
from . import transforms as T
from .problem import Problem, linear_predictor
from .subsample import loglike as subsample_loglike

__all__ = ["REAL_SITES", "build_model", "prior_structure", "prior_arrays", "with_terms", "PriorStructure",
           "PriorArrays", "FamilyLikelihood", "JAX_OPS", "with_extra", "extra_values",
           "ExactLikelihood"]

#: the model's sites on the whole real line (vectors); every other site (the dispersion) is a
#: positive scalar, sampled on the log scale. ``extra``: a likelihood family's extra parameters
#: in their unconstrained coordinates (:mod:`bayesglm.transforms`)
REAL_SITES = ("beta", "theta", "z", "extra")

#: the array functions the priors' densities are evaluated with inside the model
JAX_OPS = P.Ops(jnp.log, jnp.log1p, jnp.abs, gammaln)


class PriorStructure(NamedTuple):
    """The static part of the priors (which coefficient has which kind of prior).

    Hashable: together with the family it keys the compiled sampler. The numbers (locations,
    scales, the centring means) travel separately (:class:`PriorArrays`), so data sets of one
    shape share one compilation even when autoscaling gives them different priors.
    """

    groups: tuple  # ((class name, (coefficient indices...)), ...), flat priors left out
    centered_index: int | None  # the intercept, when its prior is on the centred intercept
    dispersion: str | None  # class name of the dispersion prior ("Flat" for improper)
    n_coef: int
    #: the group terms: ((TermLayout, kind, unit_sigma, sd prior class names), ...)
    terms: tuple = ()
    #: a likelihood family's extra parameters' priors: ((parameter index, prior class name,
    #: (entry indices, ...)), ...), flat ones left out
    extra: tuple = ()


class PriorArrays(NamedTuple):
    """The numbers of the priors (float64 host arrays), matching a :class:`PriorStructure`."""

    coef: tuple  # one {parameter: (k,) array} per group
    x_means: Any  # (p,) the centring vector
    dispersion: Any  # {parameter: scalar} or None
    terms: tuple = ()  # per group term: {"eta": ..., decov's or the sd priors' numbers}
    extra: tuple = ()  # per PriorStructure.extra group: {prior parameter: (entries,) array}


def prior_structure(resolved: P.ResolvedPriors) -> PriorStructure:
    groups: dict[str, list[int]] = {}
    for j, prior in enumerate(resolved.coef):
        if not isinstance(prior, P.Flat):
            groups.setdefault(type(prior).__name__, []).append(j)
    centered = resolved.intercept_index if resolved.intercept_centered else None
    disp = None if resolved.dispersion is None else type(resolved.dispersion).__name__
    return PriorStructure(
        tuple((k, tuple(v)) for k, v in groups.items()), centered, disp, len(resolved.coef)
    )


def prior_arrays(resolved: P.ResolvedPriors, structure: PriorStructure) -> PriorArrays:
    """The numbers of the priors as float64 host arrays, matching ``structure``.

    (Host arrays: they are arguments of compiled functions, and ``jnp.asarray`` would compile a
    conversion program of its own.)
    """
    coef = []
    for _, idx in structure.groups:
        ps = [resolved.coef[j].params() for j in idx]
        coef.append({k: np.asarray([q[k] for q in ps], dtype=np.float64) for k in ps[0]})
    disp = None
    if structure.dispersion not in (None, "Flat"):
        disp = {k: np.float64(v) for k, v in resolved.dispersion.params().items()}
    return PriorArrays(tuple(coef), np.asarray(resolved.x_means, dtype=np.float64), disp)


def with_terms(structure: PriorStructure, arrays: PriorArrays, layouts, term_priors,
               weights=None):
    """The structure and numbers of the priors with the group terms' covariance priors, and a
    partially non-centred term's weights (``weights``: per term, (levels, q) or None)."""
    terms, numbers = [], []
    weights = [None] * len(layouts) if weights is None else list(weights)
    for lay, tp, w in zip(layouts, term_priors, weights):
        names = tuple(type(pr).__name__ for pr in tp.sd)
        terms.append((lay, tp.kind, bool(tp.unit_sigma), names))
        num = {"eta": np.float64(tp.eta)}
        if tp.kind == "decov":
            num.update(shape=np.float64(tp.decov.shape), scale=np.float64(tp.decov.scale),
                       concentration=np.float64(tp.decov.concentration))
        else:
            num["sd"] = tuple({k: np.float64(v) for k, v in pr.params().items()} for pr in tp.sd)
        if lay.partial:
            if w is None or np.shape(w) != (lay.n_levels, lay.q):
                raise ValueError(f"a partially non-centred term needs ({lay.n_levels}, {lay.q}) "
                                 f"weights, got {None if w is None else np.shape(w)}")
            num["w"] = np.asarray(w, dtype=np.float64)
        numbers.append(num)
    return structure._replace(terms=tuple(terms)), arrays._replace(terms=tuple(numbers))


def with_extra(structure: PriorStructure, arrays: PriorArrays, extra) -> tuple:
    """The structure and numbers with a likelihood family's extra parameters' priors
    (``extra``: :class:`bayesglm.priors.ExtraPriors`); Flat ones add nothing."""
    groups, numbers = [], []
    for i, prs in enumerate(extra.priors):
        by_class: dict = {}
        for j, pr in enumerate(prs):
            if not isinstance(pr, P.Flat):
                by_class.setdefault(type(pr).__name__, []).append(j)
        for name, idx in by_class.items():
            ps = [prs[j].params() for j in idx]
            groups.append((i, name, tuple(idx)))
            numbers.append({k: np.asarray([q[k] for q in ps], dtype=np.float64) for k in ps[0]})
    return structure._replace(extra=tuple(groups)), arrays._replace(extra=tuple(numbers))


def extra_values(family, structure: PriorStructure, arrays: PriorArrays, u):
    """(the extra parameters' constrained values by name, fixed ones included; their log prior
    density on u: the priors' kernels plus the maps' log Jacobians) in JAX."""
    params = family.extra_params()
    total = jnp.zeros((), u.dtype)
    values, pos, flat = {}, 0, []
    for q in params:
        part = u[pos:pos + q.size]
        v = T.to_constrained(q, part, jnp)
        total = total + T.log_abs_det_jacobian(q, part, jnp)
        flat.append(v)
        values[q.name] = v[0] if q.size == 1 else v
        pos += q.size
    for (i, name, idx), num in zip(structure.extra, arrays.extra):
        x = flat[i][np.asarray(idx)]
        total = total + jnp.sum(P.PRIOR_CLASSES[name].kernel(JAX_OPS, x, **num))
    values.update(family.fixed_extra())
    return values, total


class ExactLikelihood(dist.Distribution):
    """y given the linear predictor and a likelihood family's extra parameters: the family's
    own density (``LikelihoodFamily.loglike``), summed in float64."""

    arg_constraints = {}
    support = constraints.real

    def __init__(self, family, eta, extra, trials, aux, *, validate_args=None):
        self.family, self.eta, self.extra, self.trials, self.aux = family, eta, extra, trials, aux
        super().__init__(batch_shape=jnp.shape(eta), validate_args=validate_args)

    def log_prob(self, value):
        return self.family.loglike(value, self.eta, self.extra, self.trials, self.aux).astype(
            jnp.result_type(float))

    def sample(self, key, sample_shape=()):
        raise NotImplementedError("draws of y come from LikelihoodFamily.draw_rows")


def _term_effects(structure: PriorStructure, arrays: PriorArrays, theta, z, sigma):
    """(log prior density of theta, the terms' (levels, q) group effects) in JAX."""
    from numpyro.distributions.transforms import CorrCholeskyTransform

    total = jnp.zeros((), theta.dtype)
    effects = []
    for (lay, kind, unit_sigma, sd_names), num in zip(structure.terms, arrays.terms):
        t = theta[lay.theta]
        s = t[:lay.q]
        sd = jnp.exp(s)
        L = jnp.eye(lay.q, dtype=theta.dtype)
        if lay.correlated:
            x = t[lay.q:]
            tr = CorrCholeskyTransform()
            L = tr(x)
            total = total + dist.LKJCholesky(lay.q, num["eta"]).log_prob(L) + \
                tr.log_abs_det_jacobian(x, L)
        if kind == "decov":
            unit = jnp.log(sigma) if unit_sigma else 0.0
            total = total + decov_logpdf(jnp, gammaln, s - unit, num["shape"], num["scale"],
                                         num["concentration"])
        else:
            for k, (cls, params) in enumerate(zip(sd_names, num["sd"])):
                total = total + P.PRIOR_CLASSES[cls].kernel(JAX_OPS, sd[k], **params) + s[k]
        C = sd[:, None] * L
        zl = z[lay.z].reshape(lay.n_levels, lay.q)
        if lay.partial:  # b_lk = sd_k^w_lk z_lk (C = diag(sd)); log|db/dz| = sum w_lk s_k
            w = num["w"]
            b = zl * jnp.exp(w * s)
            total = total - 0.5 * jnp.sum(jnp.square(b / sd)) - jnp.sum((1.0 - w) * s)
            effects.append(b)
        elif lay.centred:  # z_l = b_l ~ N(0, C C')
            w = jax.scipy.linalg.solve_triangular(C, zl.T, lower=True)
            total = total - 0.5 * jnp.sum(w * w) - lay.n_levels * jnp.sum(s + jnp.log(
                jnp.diagonal(L)))
            effects.append(zl)
        else:  # b_l = C z_l, z_l ~ N(0, I)
            total = total - 0.5 * jnp.sum(zl * zl)
            effects.append(zl @ C.T)
    return total, tuple(effects)


def _coef_log_prior(structure: PriorStructure, arrays: PriorArrays, beta):
    v = beta
    if structure.centered_index is not None:  # the intercept's prior is on the centred one
        v = P.centre(beta, arrays.x_means, structure.centered_index)
    total = jnp.zeros((), beta.dtype)
    for (name, idx), params in zip(structure.groups, arrays.coef):
        total = total + jnp.sum(P.PRIOR_CLASSES[name].kernel(JAX_OPS, v[np.asarray(idx)],
                                                             **params))
    return total


class FamilyLikelihood(dist.Distribution):
    """y given the linear predictor: the family's own density (``Family.loglike_eta``).

    The model's observed site only; draws of y are the family's (``Family.draw``, NumPy).
    """

    arg_constraints = {}
    support = constraints.real

    def __init__(self, family: Family, eta, phi, trials, *, validate_args=None):
        self.family, self.eta, self.phi, self.trials = family, eta, phi, trials
        super().__init__(batch_shape=jnp.shape(eta), validate_args=validate_args)

    def log_prob(self, value):
        # a float32 likelihood (the sampler's layout at large n) is summed in float64
        return self.family.loglike_eta(value, self.eta, self.phi, self.trials).astype(
            jnp.result_type(float))

    def sample(self, key, sample_shape=()):
        raise NotImplementedError("draws of y come from Family.draw (bayesglm.pointwise.draw_y)")


def build_model(family: Family, structure: PriorStructure):
    """The NumPyro model of ``family`` with priors of the given structure.

    The model is ``model(data, priors)``: ``data`` a :class:`~bayesglm.problem.Problem` (``y``
    on the mean's scale), ``priors`` the :class:`PriorArrays`. Data and prior numbers are
    arguments, so one compiled sampler serves every data set of the same shape.
    """
    disp_name = family.dispersion_param if structure.dispersion is not None else None
    disp_cls = None if structure.dispersion in (None, "Flat") else P.PRIOR_CLASSES[
        structure.dispersion]
    p = structure.n_coef

    exact = bool(getattr(family, "exact_likelihood", False))
    n_extra = sum(q.size for q in family.extra_params()) if exact else 0
    n_theta = sum(lay.theta_span[1] - lay.theta_span[0] for lay, *_ in structure.terms)
    n_z = sum(lay.z_span[1] - lay.z_span[0] for lay, *_ in structure.terms)

    def model(data: Problem, priors: PriorArrays):
        beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real_vector, (), (p,)))
        numpyro.factor("beta_prior", _coef_log_prior(structure, priors, beta))
        phi = family.fixed_scale()
        d = None
        if disp_name is not None:
            d = numpyro.sample(disp_name, dist.ImproperUniform(constraints.positive, (), ()))
            if disp_cls is not None:
                numpyro.factor(f"{disp_name}_prior",
                               disp_cls.kernel(JAX_OPS, d, **priors.dispersion))
            phi = family.scale_from_dispersion(d)
        effects = ()
        if structure.terms:
            theta = numpyro.sample(
                "theta", dist.ImproperUniform(constraints.real_vector, (), (n_theta,)))
            z = numpyro.sample("z", dist.ImproperUniform(constraints.real_vector, (), (n_z,)))
            lp, effects = _term_effects(structure, priors, theta, z, d)
            # the covariance parameters' prior and the effects' normal density (without its
            # constant, -n_z/2 log(2 pi))
            numpyro.factor("theta_prior", lp)
        if data.gram is not None:  # the rows as sufficient statistics (problem.Gram)
            numpyro.factor("y", family.gram_loglike(data.gram, beta, phi))
            return
        if data.subsample is not None:  # a subsample's estimate (bayesglm.subsample)
            numpyro.factor("y", subsample_loglike(family, data.subsample, beta, d))
            return
        if exact:
            u = numpyro.sample("extra",
                               dist.ImproperUniform(constraints.real_vector, (), (n_extra,)))
            extra, lp = extra_values(family, structure, priors, u)
            numpyro.factor("extra_prior", lp)
            like = ExactLikelihood(family, linear_predictor(data, beta, effects), extra,
                                   data.trials, data.aux)
        else:
            like = FamilyLikelihood(family, linear_predictor(data, beta, effects), phi,
                                    data.trials)
        if data.weights is not None:
            with numpyro.handlers.scale(scale=data.weights):
                numpyro.sample("y", like, obs=data.y)
        else:
            numpyro.sample("y", like, obs=data.y)

    return model
