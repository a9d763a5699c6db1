"""The NumPyro model of a GLM: the only module that builds NumPyro distributions.

:func:`build_model` turns a family (with its link) and resolved priors into a NumPyro model
function ``model(X, offset, weights, trials, y=None)``. Its sites:

* ``beta``: the coefficients, a vector site (an improper base measure) whose prior density is
  added by a ``numpyro.factor`` named ``beta_prior``, so that each coefficient can have its own
  prior and the intercept's prior can sit on the centred intercept ``b0 + x_means @ beta``
  (a linear map with unit Jacobian);
* the dispersion, named as the family says (``sigma``, ``shape``, ``lam``, ``alpha``);
* ``y``: the observations (Binomial: the number of successes out of ``trials``), scaled by the
  frequency weights.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import gammaln
from numpyro.distributions import constraints

from . import links as L
from . import priors as P
from .families import Family

__all__ = [
    "build_model",
    "prior_distribution",
    "prior_structure",
    "prior_arrays",
    "PriorStructure",
    "likelihood",
    "linear_predictor",
    "InverseGaussian",
    "sample_prior_draws",
]


class InverseGaussian(dist.Distribution):
    """Inverse Gaussian (Wald) distribution with mean ``mean`` and shape ``lam``: var = mean^3/lam."""

    arg_constraints = {"mean": constraints.positive, "lam": constraints.positive}
    support = constraints.positive
    reparametrized_params = []

    def __init__(self, mean, lam, *, validate_args=None):
        self.mean_, self.lam = jnp.broadcast_arrays(mean, lam)
        super().__init__(batch_shape=jnp.shape(self.mean_), validate_args=validate_args)

    @property
    def mean(self):
        return self.mean_

    @property
    def variance(self):
        return self.mean_**3 / self.lam

    def log_prob(self, value):
        mu, lam = self.mean_, self.lam
        return 0.5 * (jnp.log(lam) - jnp.log(2 * jnp.pi) - 3 * jnp.log(value)) - lam * (
            value - mu
        ) ** 2 / (2 * mu**2 * value)

    def sample(self, key, sample_shape=()):
        # Michael, Schucany & Haas (1976)
        shape = sample_shape + self.batch_shape
        k1, k2 = jax.random.split(key)
        mu, lam = self.mean_, self.lam
        nu = jax.random.normal(k1, shape)
        yy = nu**2
        x = mu + mu**2 * yy / (2 * lam) - mu / (2 * lam) * jnp.sqrt(4 * mu * lam * yy + (mu * yy) ** 2)
        u = jax.random.uniform(k2, shape)
        return jnp.where(u <= mu / (mu + x), x, mu**2 / x)


def _half_t(df, sigma):
    return dist.FoldedDistribution(dist.StudentT(df, 0.0, sigma))


# NumPyro constructors of the prior specs, from their parameters by name
_CTORS = {
    "Normal": lambda a: dist.Normal(a["mu"], a["sigma"]),
    "StudentT": lambda a: dist.StudentT(a["df"], a["mu"], a["sigma"]),
    "Cauchy": lambda a: dist.Cauchy(a["mu"], a["sigma"]),
    "Laplace": lambda a: dist.Laplace(a["mu"], a["b"]),
    "HalfNormal": lambda a: dist.HalfNormal(a["sigma"]),
    "HalfStudentT": lambda a: _half_t(a["df"], a["sigma"]),
    "HalfCauchy": lambda a: dist.HalfCauchy(a["sigma"]),
    "Exponential": lambda a: dist.Exponential(a["rate"]),
    "Gamma": lambda a: dist.Gamma(a["alpha"], a["beta"]),
}


def _params(prior: P.Prior) -> dict:
    """The numeric parameters of a prior spec, by name."""
    out = {}
    for f in dataclasses.fields(prior):
        v = getattr(prior, f.name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f.name] = float(v)
    return out


def prior_distribution(prior: P.Prior):
    """The NumPyro distribution of a backend-neutral prior spec (None for ``Flat``)."""
    if isinstance(prior, P.Flat):
        return None
    name = type(prior).__name__
    if name not in _CTORS:
        raise TypeError(f"no NumPyro distribution for prior {prior!r}")
    return _CTORS[name](_params(prior))


class PriorStructure(NamedTuple):
    """The static part of the priors (which coefficient has which kind of prior).

    Hashable: together with the family it keys the compiled sampler. The numbers (locations,
    scales, the centring means) travel separately as arrays (:func:`prior_arrays`), so data sets
    of one shape share one compilation even when autoscaling gives them different priors.
    """

    groups: tuple  # ((class name, (coefficient indices...)), ...), flat priors left out
    centered_index: int | None  # the intercept, when its prior is on the centred intercept
    dispersion: str | None  # class name of the dispersion prior ("Flat" for improper)
    n_coef: int


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


def prior_arrays(resolved: P.ResolvedPriors, structure: PriorStructure) -> dict:
    """The numbers of the priors as float64 host arrays, matching ``structure``.

    (Host arrays: they are arguments of compiled functions, and ``jnp.asarray`` would compile a
    conversion program of its own.)
    """
    coef = []
    for _, idx in structure.groups:
        ps = [_params(resolved.coef[j]) for j in idx]
        coef.append({k: np.asarray([q[k] for q in ps], dtype=np.float64) for k in ps[0]})
    disp = None
    if structure.dispersion not in (None, "Flat"):
        disp = {k: np.float64(v) for k, v in _params(resolved.dispersion).items()}
    return {"coef": coef, "x_means": np.asarray(resolved.x_means, dtype=np.float64),
            "dispersion": disp}


def _coef_log_prior(structure: PriorStructure, arrays: dict, beta):
    v = beta
    i0 = structure.centered_index
    if i0 is not None:  # the intercept's prior is on the centred intercept
        xm = jnp.asarray(arrays["x_means"]).at[i0].set(0.0)
        v = beta.at[i0].set(beta[i0] + xm @ beta)
    total = jnp.zeros((), beta.dtype)
    for (name, idx), params in zip(structure.groups, arrays["coef"]):
        total = total + jnp.sum(_CTORS[name](params).log_prob(v[np.asarray(idx)]))
    return total


# -- canonical links: the log-likelihood's derivative in eta written out -------------------
# NUTS evaluates the gradient of the log density at every leapfrog step. For the canonical
# links that derivative is simply (y - n mu); written by hand (custom_jvp) it reuses the
# forward pass's exp() instead of differentiating NumPyro's stable forms term by term, which
# measured ~40% of a logistic gradient's time at n = 1e4 (benchmarks/nuts.py).


def _logit_parts(eta, y, n):
    """(y eta - n log(1 + e^eta), sigmoid(eta)), sharing one exp, one log and one division.

    With e = exp(-|eta|) and q = 1/(1 + e): log(1 + e^eta) = max(eta, 0) - log(q) (absolute error
    ~1e-16, as log1p(e); log is the cheaper of the two here) and sigmoid(eta) = q for eta >= 0,
    e q below: no overflow, no cancellation.
    """
    e = jnp.exp(-jnp.abs(eta))
    q = 1.0 / (1.0 + e)
    value = y * eta - n * (jnp.maximum(eta, 0.0) - jnp.log(q))
    return value, jnp.where(eta >= 0, q, e * q)


@jax.custom_jvp
def _logit_kernel(eta, y, n):
    """y eta - n log(1 + e^eta): the Binomial log-likelihood in the log-odds, less log C(n, y)."""
    return _logit_parts(eta, y, n)[0]


@_logit_kernel.defjvp
def _logit_kernel_jvp(primals, tangents):
    eta, y, n = primals
    value, prob = _logit_parts(eta, y, n)
    return value, (y - n * prob) * tangents[0]


@jax.custom_jvp
def _log_kernel(eta, y):
    """y eta - e^eta: the Poisson log-likelihood in the log-mean, less log y!."""
    return y * eta - jnp.exp(eta)


@_log_kernel.defjvp
def _log_kernel_jvp(primals, tangents):
    eta, y = primals
    mu = jnp.exp(eta)
    return y * eta - mu, (y - mu) * tangents[0]


class _BernoulliLogit(dist.BernoulliLogits):
    """NumPyro's BernoulliLogits with the hand-written derivative in the log-odds."""

    def log_prob(self, value):
        return _logit_kernel(self.logits, value, 1.0)


class _BinomialLogit(dist.BinomialLogits):
    """NumPyro's BinomialLogits with the hand-written derivative in the log-odds."""

    def log_prob(self, value):
        n = jnp.asarray(self.total_count, dtype=jnp.result_type(float))
        log_choose = gammaln(n + 1) - gammaln(value + 1) - gammaln(n - value + 1)
        return log_choose + _logit_kernel(self.logits, value, n)


class _PoissonLog(dist.Poisson):
    """NumPyro's Poisson parametrised by the log-mean, with the hand-written derivative."""

    pytree_data_fields = ("log_rate",)  # kept when NumPyro flattens the distribution

    def __init__(self, log_rate, *, validate_args=None):
        self.log_rate = log_rate
        super().__init__(jnp.exp(log_rate), validate_args=validate_args)

    def log_prob(self, value):
        return _log_kernel(self.log_rate, value) - gammaln(value + 1)


def likelihood(family: Family, eta, dispersion, trials):
    """The NumPyro distribution of y given the linear predictor (Binomial: success counts)."""
    link = family.link
    name = family.name
    if name == "binomial":
        # integer counts: NumPyro's Binomial samples only with an integer total_count
        n = 1 if trials is None else jnp.round(trials).astype(jnp.int64)
        if isinstance(link, L.Logit):
            return _BinomialLogit(eta, n) if trials is not None else _BernoulliLogit(eta)
        mu = link.inverse(eta)
        return dist.Binomial(n, probs=mu) if trials is not None else dist.BernoulliProbs(mu)
    if name == "poisson" and isinstance(link, L.Log):
        return _PoissonLog(eta)
    mu = link.inverse(eta)
    if name == "gaussian":
        return dist.Normal(mu, dispersion)
    if name == "poisson":
        return dist.Poisson(mu)
    if name == "gamma":
        return dist.Gamma(dispersion, dispersion / mu)
    if name == "inverse_gaussian":
        return InverseGaussian(mu, dispersion)
    if name == "negative_binomial":
        if dispersion is None:  # alpha fixed in the family, not a parameter
            dispersion = family.alpha
        return dist.NegativeBinomial2(mu, 1.0 / dispersion)
    raise ValueError(f"no likelihood for family {family.name!r}")


@jax.custom_vjp
def _matvec_t(XT, beta):
    return beta @ XT


def _matvec_t_fwd(XT, beta):
    return beta @ XT, XT


def _matvec_t_bwd(XT, g):
    return None, XT @ g


_matvec_t.defvjp(_matvec_t_fwd, _matvec_t_bwd)


def linear_predictor(X, beta, XT=None):
    """``X @ beta``; given ``XT`` (X transposed, row-major) it is computed from ``XT`` alone.

    XLA on CPU forms both ``beta @ XT`` and the gradient's ``XT @ g`` from a row-major X' about
    twice as fast as ``X @ beta`` and (much) faster than the ``g @ X`` that autodiff makes of
    it (measured at n = 1e4, p = 11: 12 and 15 µs vs 21 and 45 µs), and one matrix of
    n x p instead of two stays in cache; so the sampler passes X' (and no X). Reverse mode only
    (``custom_vjp``); without ``XT`` this is the plain product, which every other caller (the
    mode search's Hessian, predictions) uses.
    """
    return X @ beta if XT is None else _matvec_t(XT, beta)


def build_model(family: Family, structure: PriorStructure):
    """The NumPyro model of ``family`` with priors of the given structure.

    The model is ``model(X, offset, weights, trials, y, priors, XT)``: ``y`` is on the count
    scale for Binomial (successes), ``priors`` the arrays of :func:`prior_arrays`, ``XT``
    optionally X transposed (see :func:`linear_predictor`). Data and prior numbers are
    arguments, so one compiled sampler serves every data set of the same shape.
    """
    disp_name = family.dispersion_name if structure.dispersion is not None else None
    p = structure.n_coef

    def model(X, offset=None, weights=None, trials=None, y=None, priors=None, XT=None):
        beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real_vector, (), (p,)))
        numpyro.factor("beta_prior", _coef_log_prior(structure, priors, beta))
        dispersion = None
        if disp_name is not None:
            if structure.dispersion == "Flat":
                d = dist.ImproperUniform(constraints.positive, (), ())
            else:
                d = _CTORS[structure.dispersion](priors["dispersion"])
            dispersion = numpyro.sample(disp_name, d)
        eta = linear_predictor(X, beta, XT)
        if offset is not None:
            eta = eta + offset
        like = likelihood(family, eta, dispersion, trials)
        if weights is not None:
            with numpyro.handlers.scale(scale=weights):
                numpyro.sample("y", like, obs=y)
        else:
            numpyro.sample("y", like, obs=y)

    return model


def sample_prior_draws(family: Family, resolved: P.ResolvedPriors, key, draws: int):
    """Draws of the parameters from their (proper) priors: ``{"beta": (draws, p), disp: (draws,)}``.

    The centred intercept's draw is turned into the intercept: ``b0 = a - x_means @ slopes``.
    """
    flat = [resolved.coef[j] for j in range(len(resolved.coef)) if isinstance(resolved.coef[j], P.Flat)]
    if flat or isinstance(resolved.dispersion, P.Flat):
        raise ValueError(
            "prior predictive draws need proper priors; this model has a flat (improper) prior. "
            'Use priors="auto" or give a proper prior for every coefficient and the dispersion.'
        )
    keys = jax.random.split(key, len(resolved.coef) + 1)
    cols = [prior_distribution(pr).sample(k, (draws,)) for pr, k in zip(resolved.coef, keys[:-1])]
    beta = jnp.stack(cols, axis=-1)
    if resolved.intercept_centered and resolved.intercept_index is not None:
        i0 = resolved.intercept_index
        xm = jnp.asarray(resolved.x_means).at[i0].set(0.0)
        beta = beta.at[:, i0].set(beta[:, i0] - beta @ xm)
    out = {"beta": beta}
    if resolved.dispersion is not None:
        out[family.dispersion_name] = prior_distribution(resolved.dispersion).sample(keys[-1], (draws,))
    return out

