"""Exponential-dispersion families: domain, variance, unit deviance and full log-likelihood.

Pure JAX (no NumPyro). Each family declares as data the domain of its response, the links it
allows (R's set at least), its canonical default link and whether it has a dispersion parameter.

Conventions (the same as R's ``glm`` and statsmodels):

* ``y`` is the response on the mean's scale: for Binomial the *proportion* of successes, with
  ``trials`` (the binomial index) passed alongside.
* ``variance(mu, dispersion)`` is the variance function V(mu), so Var(y) = scale * V(mu) / trials.
  Only NegativeBinomial uses ``dispersion`` here (its alpha: V(mu) = mu + alpha mu^2).
* ``unit_deviance(y, mu, dispersion)`` is d(y, mu), with deviance = sum(weights * trials * d).
* ``loglike_obs(y, mu, dispersion, trials)`` is the full log density of one observation, with its
  normalising constants, so that log-likelihood, AIC and BIC match R. ``dispersion`` is the
  family's dispersion on the variance scale: sigma^2 for Gaussian, 1/shape for Gamma, 1/lambda
  for the inverse Gaussian, alpha for the negative binomial; ignored by Binomial and Poisson.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
from jax.scipy.special import gammaln, xlogy

from . import links as L
from ._args import real

__all__ = [
    "Family",
    "Domain",
    "Gaussian",
    "Binomial",
    "Poisson",
    "Gamma",
    "InverseGaussian",
    "NegativeBinomial",
    "get_family",
    "FAMILIES",
]

_LOG_2PI = math.log(2.0 * math.pi)


def _ylogy_over(y, mu):
    """``y * log(y / mu)``, taken as 0 where ``y == 0`` whatever ``mu`` (R's ``y_log_y``).

    ``xlogy(y, y / mu)`` is NaN at ``y == mu == 0`` (``0 / 0``) and its gradient in ``mu`` is
    NaN at every ``y == 0`` (the custom JVP of ``xlogy`` divides by ``y / mu = 0``); the safe
    ``where`` below keeps both the value and the gradient finite there.
    """
    nonzero = y != 0
    y_safe = jnp.where(nonzero, y, 1.0)
    mu_safe = jnp.where(nonzero, mu, 1.0)
    return jnp.where(nonzero, y_safe * jnp.log(y_safe / mu_safe), 0.0)


class Domain(NamedTuple):
    """Allowed values of the response: an interval, possibly restricted to integers."""

    lower: float
    upper: float
    lower_open: bool = False
    upper_open: bool = False
    integer: bool = False

    def describe(self) -> str:
        lo = "(" if self.lower_open else "["
        hi = ")" if self.upper_open else "]"
        text = f"{lo}{self.lower:g}, {self.upper:g}{hi}"
        return f"integers in {text}" if self.integer else text

    def contains(self, y):
        """Boolean array: which values lie in the domain (integrality is checked separately).

        The domain is a set of real numbers: +-inf and NaN are never in it, whatever the bounds.
        """
        import numpy as np

        y = np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        ok &= (y > self.lower) if self.lower_open else (y >= self.lower)
        ok &= (y < self.upper) if self.upper_open else (y <= self.upper)
        return ok


class Family:
    """Base class of the GLM families.

    Attributes (data, read by validation and by the fitting code):
    ``name``, ``domain`` (of y), ``links`` (allowed link classes), ``default_link``,
    ``has_dispersion`` (scale estimated from the data), ``dispersion_name`` (the Bayesian
    dispersion parameter's name), ``allow_power`` (whether Power(p) links are allowed).
    """

    name: str = ""
    domain: Domain = Domain(-math.inf, math.inf, lower_open=True, upper_open=True)
    links: tuple[type[L.Link], ...] = ()
    default_link: type[L.Link] = L.Identity
    has_dispersion: bool = False
    dispersion_name: str | None = None
    allow_power: bool = False
    positive_mean: bool = True  # mu must be > 0 (Binomial: in (0, 1))

    def __init__(self, link: L.Link | str | None = None):
        link = self.default_link() if link is None else L.get_link(link)
        allowed = type(link) in self.links or (type(link) is L.Power and self.allow_power)
        if not allowed:
            names = [cls.name for cls in self.links] + (["power(p)"] if self.allow_power else [])
            raise ValueError(
                f"link {link!r} is not allowed for the {self.name} family; "
                f"allowed links: {', '.join(names)}"
            )
        self.link = link

    # -- identity and display -------------------------------------------------------------
    def __repr__(self):
        return f"{type(self).__name__}(link={self.link!r})"

    def __eq__(self, other):
        return type(self) is type(other) and self.link == other.link

    def __hash__(self):
        return hash((type(self).__name__, self.link))

    # -- the mathematics ------------------------------------------------------------------
    def variance(self, mu, dispersion=1.0):
        raise NotImplementedError

    def unit_deviance(self, y, mu, dispersion=1.0):
        raise NotImplementedError

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        raise NotImplementedError

    def valid_mu(self, mu):
        if self.positive_mean:
            return jnp.isfinite(mu) & (mu > 0)
        return jnp.isfinite(mu)

    def starting_mu(self, y, trials):
        """R's ``mustart``: a mean inside the domain to start IRLS from."""
        return y

    def llf_dispersion(self, deviance, sum_weights, pearson_chi2, df_resid):
        """Dispersion at which R evaluates the log-likelihood (and so AIC/BIC): dev / n."""
        return 1.0

    def scale(self, pearson_chi2, df_resid):
        """The reported dispersion (``scale``): Pearson chi2 / df_resid where estimated, else 1."""
        if self.has_dispersion:
            return pearson_chi2 / df_resid if df_resid > 0 else math.nan
        return 1.0


class Gaussian(Family):
    """Normal response: V(mu) = 1, dispersion sigma^2."""

    name = "gaussian"
    links = (L.Identity, L.Log, L.Inverse)
    default_link = L.Identity
    has_dispersion = True
    dispersion_name = "sigma"
    allow_power = True
    positive_mean = False

    def _positive_link(self):
        # log, inverse and power links map only positive means
        return isinstance(self.link, L.Log) or (
            isinstance(self.link, L.Power) and self.link.power != 1.0
        )

    def valid_mu(self, mu):
        if self._positive_link():
            return jnp.isfinite(mu) & (mu > 0)
        return jnp.isfinite(mu)

    def variance(self, mu, dispersion=1.0):
        return jnp.ones_like(mu)

    def unit_deviance(self, y, mu, dispersion=1.0):
        return (y - mu) ** 2

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        var = dispersion / trials
        return -0.5 * (_LOG_2PI + jnp.log(var) + (y - mu) ** 2 / var)

    def starting_mu(self, y, trials):
        if self._positive_link():
            return jnp.where(y > 0, y, jnp.maximum(jnp.mean(jnp.abs(y)), 1.0) * 0.1)
        return y

    def llf_dispersion(self, deviance, sum_weights, pearson_chi2, df_resid):
        return deviance / sum_weights


class Binomial(Family):
    """Binomial proportion of successes out of ``trials``: V(mu) = mu (1 - mu)."""

    name = "binomial"
    domain = Domain(0.0, 1.0)
    links = (L.Logit, L.Probit, L.Cauchit, L.Log, L.CLogLog, L.LogLog)
    default_link = L.Logit

    def valid_mu(self, mu):
        return jnp.isfinite(mu) & (mu > 0) & (mu < 1)

    def variance(self, mu, dispersion=1.0):
        return mu * (1.0 - mu)

    def unit_deviance(self, y, mu, dispersion=1.0):
        return 2.0 * (_ylogy_over(y, mu) + _ylogy_over(1.0 - y, 1.0 - mu))

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        k = y * trials
        log_comb = gammaln(trials + 1.0) - gammaln(k + 1.0) - gammaln(trials - k + 1.0)
        return log_comb + xlogy(k, mu) + xlogy(trials - k, 1.0 - mu)

    def starting_mu(self, y, trials):
        return (trials * y + 0.5) / (trials + 1.0)


class Poisson(Family):
    """Counts: V(mu) = mu."""

    name = "poisson"
    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Log, L.Identity, L.Sqrt)
    default_link = L.Log
    allow_power = True

    def variance(self, mu, dispersion=1.0):
        return mu

    def unit_deviance(self, y, mu, dispersion=1.0):
        return 2.0 * (_ylogy_over(y, mu) - (y - mu))

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        return xlogy(y, mu) - mu - gammaln(y + 1.0)

    def starting_mu(self, y, trials):
        return y + 0.1


class Gamma(Family):
    """Positive continuous response: V(mu) = mu^2, dispersion 1/shape."""

    name = "gamma"
    domain = Domain(0.0, math.inf, lower_open=True, upper_open=True)
    links = (L.Inverse, L.Identity, L.Log)
    default_link = L.Inverse
    has_dispersion = True
    dispersion_name = "shape"
    allow_power = True

    def variance(self, mu, dispersion=1.0):
        return mu**2

    def unit_deviance(self, y, mu, dispersion=1.0):
        return 2.0 * (-jnp.log(y / mu) + (y - mu) / mu)

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        shape = trials / dispersion
        return shape * jnp.log(shape * y / mu) - shape * y / mu - jnp.log(y) - gammaln(shape)

    def llf_dispersion(self, deviance, sum_weights, pearson_chi2, df_resid):
        return deviance / sum_weights


class InverseGaussian(Family):
    """Positive continuous response: V(mu) = mu^3, dispersion 1/lambda."""

    name = "inverse_gaussian"
    domain = Domain(0.0, math.inf, lower_open=True, upper_open=True)
    links = (L.InverseSquared, L.Inverse, L.Identity, L.Log)
    default_link = L.InverseSquared
    has_dispersion = True
    dispersion_name = "lam"
    allow_power = True

    def variance(self, mu, dispersion=1.0):
        return mu**3

    def unit_deviance(self, y, mu, dispersion=1.0):
        return (y - mu) ** 2 / (y * mu**2)

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        phi = dispersion / trials
        return -0.5 * (_LOG_2PI + jnp.log(phi) + 3.0 * jnp.log(y) + (y - mu) ** 2 / (phi * y * mu**2))

    def llf_dispersion(self, deviance, sum_weights, pearson_chi2, df_resid):
        return deviance / sum_weights


class NegativeBinomial(Family):
    """Overdispersed counts (NB2): V(mu) = mu + alpha mu^2, alpha = 1/theta of MASS::glm.nb.

    ``alpha=None`` (the default) means alpha is estimated by maximum likelihood in ``fit_mle``;
    a number fixes it (as statsmodels' GLM NegativeBinomial family does).
    """

    name = "negative_binomial"
    domain = Domain(0.0, math.inf, upper_open=True, integer=True)
    links = (L.Log, L.Sqrt, L.Identity)
    default_link = L.Log
    dispersion_name = "alpha"
    allow_power = True

    def __init__(self, link: L.Link | str | None = None, alpha: float | None = None):
        super().__init__(link)
        if alpha is not None:
            alpha = real(alpha, "NegativeBinomial: alpha", low=0.0, low_open=True)
        self.alpha = alpha

    def __repr__(self):
        extra = "" if self.alpha is None else f", alpha={self.alpha:g}"
        return f"NegativeBinomial(link={self.link!r}{extra})"

    def __eq__(self, other):
        return super().__eq__(other) and self.alpha == other.alpha

    def __hash__(self):
        return hash((type(self).__name__, self.link, self.alpha))

    def variance(self, mu, dispersion=1.0):
        return mu + dispersion * mu**2

    def unit_deviance(self, y, mu, dispersion=1.0):
        theta = 1.0 / dispersion
        return 2.0 * (_ylogy_over(y, mu) - (y + theta) * jnp.log((y + theta) / (mu + theta)))

    def loglike_obs(self, y, mu, dispersion=1.0, trials=1.0):
        theta = 1.0 / dispersion
        return (
            gammaln(y + theta)
            - gammaln(theta)
            - gammaln(y + 1.0)
            + xlogy(y, mu / (mu + theta))
            + theta * jnp.log(theta / (mu + theta))
        )

    def starting_mu(self, y, trials):
        return y + 0.1


FAMILIES: dict[str, type[Family]] = {
    cls.name: cls for cls in (Gaussian, Binomial, Poisson, Gamma, InverseGaussian, NegativeBinomial)
}
_ALIASES = {
    "normal": "gaussian",
    "bernoulli": "binomial",
    "logistic": "binomial",
    "inversegaussian": "inverse_gaussian",
    "inverse.gaussian": "inverse_gaussian",
    "negativebinomial": "negative_binomial",
    "negbin": "negative_binomial",
    "nb": "negative_binomial",
}


def get_family(family: Family | str | None, link: L.Link | str | None = None) -> Family:
    """Turn a family object or name, and an optional link, into a family object.

    A ``link`` given here replaces the family's own (it must be one the family allows).
    """
    if family is None:
        family = "gaussian"
    if isinstance(family, type) and issubclass(family, Family):
        family = family()
    if isinstance(family, str):
        key = _ALIASES.get(family.lower().replace("-", "_"), family.lower().replace("-", "_"))
        if key not in FAMILIES:
            raise ValueError(
                f"unknown family {family!r}; valid names are {', '.join(sorted(FAMILIES))}"
            )
        return FAMILIES[key](link)
    if not isinstance(family, Family):
        raise TypeError(
            f"family must be a bg.families.Family or its name, got {type(family).__name__}"
        )
    if link is None:
        return family
    link = L.get_link(link)
    if link == family.link:
        return family
    if isinstance(family, NegativeBinomial):
        return NegativeBinomial(link, alpha=family.alpha)
    return type(family)(link)
