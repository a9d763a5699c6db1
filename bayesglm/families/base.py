"""The base of the GLM families: what every family declares, and the generic forms of its rules.

Pure JAX and NumPy (no NumPyro). A family owns everything that depends on which family it is;
the rest of the package asks the family, never its name. What a family declares (as data):
the domain of its response, the links it allows (R's set at least), its canonical default link,
whether it has a dispersion and what the Bayesian model calls it.

Conventions (the same as R's ``glm`` and statsmodels):

* ``y`` is the response on the mean's scale everywhere inside the package: for Binomial the
  *proportion* of successes, with ``trials`` (the binomial index) passed alongside;
  :meth:`Family.observed` turns it into what the user sees in ``observed_data`` and y_rep (the
  success counts).
* ``phi`` is the dispersion on the *variance scale*, Var(y) = phi * V(mu) / trials: sigma^2
  for Gaussian, 1/shape for Gamma, 1/lambda for the inverse Gaussian, alpha for the negative
  binomial (in V(mu) = mu + alpha mu^2, with phi entering only there); 1 for Binomial and
  Poisson. The Bayesian model's dispersion parameter (``dispersion_name``: sigma, shape, lam,
  alpha) is a different quantity; :meth:`Family.scale_from_dispersion` and
  :meth:`Family.dispersion_from_scale` are the one conversion between the two.
* ``variance(mu, phi)`` is the variance function V(mu) (only NegativeBinomial reads phi);
  ``unit_deviance(y, mu, phi)`` is d(y, mu), with deviance = sum(weights * trials * d).
* ``loglike_obs(y, mu, phi, trials)`` is the full log density of one observation, normalising
  constants included, so that log-likelihood, AIC and BIC match R. It is *the* density: the
  MLE's log-likelihood, the NumPyro model, the posterior mode and LOO all evaluate it (through
  :meth:`Family.loglike_eta`, where a canonical link may override it with a faster form).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .. import links as L
from .. import priors as P

__all__ = ["Family", "Domain", "PrecisionParameter", "FAMILIES", "register", "get_family"]


#: the sampler's float32 likelihood (``Family.sampler_float32``) only where the log density's
#: rounding, :func:`float32_error`, is at most this: the accept step then reads a density
#: within a factor exp(1e-3) of the exact one (the positions, priors and accept step stay
#: float64; a float32 gradient changes only how often a trajectory is accepted)
FLOAT32_DENSITY_ERROR = 1e-3


def float32_error(term_bounds) -> float:
    """The log density's float32 rounding, estimated: float32's unit roundoff (eps / 2) x
    sqrt(sum of the squared bounds of the rows' terms): each row's term rounded about once,
    independently, the sum taken in float64. (Terms constant in the coefficients, such as
    Poisson's log y!, shift the density by the same amount everywhere: left out.)"""
    b = np.asarray(term_bounds, dtype=float)
    return float(np.finfo(np.float32).eps / 2 * np.sqrt(np.sum(b * b)))


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
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        ok &= (y > self.lower) if self.lower_open else (y >= self.lower)
        ok &= (y < self.upper) if self.upper_open else (y <= self.upper)
        return ok


class Family:
    """Base class of the GLM families.

    Data (read by validation and by the fitting code): ``name``, ``domain`` (of y), ``links``
    (allowed link classes), ``default_link``, ``has_dispersion`` (a scale estimated from the
    data), ``dispersion_name`` (the Bayesian dispersion parameter's name, or None),
    ``allow_power`` (whether Power(p) links are allowed), ``positive_mean``, ``has_trials``
    (the response is a proportion of ``trials``: Binomial), ``autoscale_by_sd_y`` (the default
    priors' scales are multiplied by sd(y): Gaussian, as rstanarm), ``ppc_kind`` (what a
    predictive check plots: "continuous", "count", "zero_count" (counts
    with a zero part: a rootogram), "ordinal" or "binomial"), ``boundary`` (how the MLE
    can fail to exist: "separation", "zero_counts" or None), ``count_response`` (whose
    exp(coefficient) under a log link is a rate ratio).

    A new family is one subclass (overriding the mathematics, and the rules below where the
    generic form does not fit) and one :func:`register` call.
    """

    name: str = ""
    domain: Domain = Domain(-math.inf, math.inf, lower_open=True, upper_open=True)
    links: tuple[type[L.Link], ...] = ()
    default_link: type[L.Link] = L.Identity
    has_dispersion: bool = False
    dispersion_name: str | None = None
    allow_power: bool = False
    positive_mean: bool = True  # mu must be > 0 (Binomial: in (0, 1))
    has_trials: bool = False
    autoscale_by_sd_y: bool = False
    ppc_kind: str = "continuous"
    boundary: str | None = None
    count_response: bool = False

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

    #: the constructor's keyword arguments beside the link (a fixed alpha, a Tweedie power,
    #: an ordinal family's levels): they make a family's identity with its link, and a saved
    #: fit's :meth:`spec` records them
    spec_params: tuple = ()

    def _spec_values(self) -> tuple:
        return tuple(getattr(self, k) for k in self.spec_params)

    def __eq__(self, other):
        return (type(self) is type(other) and self.link == other.link
                and self._spec_values() == other._spec_values())

    def __hash__(self):
        return hash((type(self).__name__, self.link, self._spec_values()))

    def with_link(self, link: L.Link) -> Family:
        """The same family (with the same fixed parameters) under another link."""
        return type(self)(link, **dict(zip(self.spec_params, self._spec_values())))

    def spec(self) -> dict:
        """What a saved fit records to rebuild this family (see :func:`from_spec`)."""
        out = {"family": self.name, "link": self.link.name,
               "link_power": getattr(self.link, "power", None)}
        for k, v in zip(self.spec_params, self._spec_values()):
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    # -- the mathematics (JAX) ------------------------------------------------------------
    def variance(self, mu, phi=1.0):
        raise NotImplementedError

    def unit_deviance(self, y, mu, phi=1.0):
        raise NotImplementedError

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        raise NotImplementedError

    def loglike_eta(self, y, eta, phi=1.0, trials=None):
        """``loglike_obs`` at the mean ``link.inverse(eta)``; ``trials=None`` means 1.

        The form the NumPyro model and LOO evaluate. Families override it for their canonical
        link with a form whose derivative in eta is written out (:mod:`.kernels`).

        Outside the link's domain (``link.valid_eta``: e.g. eta <= 0 for the inverse links,
        whose ``inverse`` clips eta to keep IRLS's means positive) the density is 0 (-inf):
        the model has no mean there, and the sampler must not go there.
        """
        ll = self.loglike_obs(y, self.link.inverse(eta), phi, 1.0 if trials is None else trials)
        return jnp.where(self.link.valid_eta(eta), ll, -jnp.inf)

    def sampler_gram(self) -> bool:
        """Whether the sampler may evaluate this family's log-likelihood from the rows'
        sufficient statistics (:class:`bayesglm.problem.Gram`, :meth:`gram_loglike`): only
        where it is a quadratic form in beta (the Gaussian with the identity link)."""
        return False

    def gram_loglike(self, gram, beta, phi=1.0):
        """The log-likelihood of all rows from their :class:`bayesglm.problem.Gram` (JAX):
        equal to the sum of ``loglike_eta`` over the rows, weighted by the frequency weights."""
        raise NotImplementedError(f"{self.name} has no sufficient-statistics likelihood")

    def sampler_float32(self, trials=None, y=None) -> bool:
        """Whether the sampler may evaluate this family's per-row log density in float32
        (summed in float64; :data:`bayesglm.sampling.FLOAT32_ROWS_MIN`) for rows with these
        ``trials`` and responses ``y`` (on the mean's scale): only where each row's term is
        computed in a form that is stable in float32 and the rows' rounding, summed, stays
        below :data:`FLOAT32_DENSITY_ERROR` (:func:`float32_error`)."""
        return False

    def valid_mu(self, mu):
        if self.positive_mean:
            return jnp.isfinite(mu) & (mu > 0)
        return jnp.isfinite(mu)

    def starting_mu(self, y, trials):
        """R's ``mustart``: a mean inside the domain to start IRLS from."""
        return y

    def deviance_divisor(self, phi):
        """s(phi) in -2 log p(y | mu, phi) = -2 log p(y | y, phi) + trials d(y, mu, phi) / s(phi):
        phi where the dispersion scales the deviance (an exponential-dispersion family with an
        estimated scale), else 1 (the negative binomial's alpha enters V(mu) and d instead)."""
        return phi if self.has_dispersion else 1.0

    def llf_dispersion(self, deviance, sum_weights, pearson_chi2, df_resid):
        """phi at which R evaluates the log-likelihood (and so AIC/BIC): dev / n where the
        family estimates a dispersion, else 1."""
        return deviance / sum_weights if self.has_dispersion else 1.0

    def scale(self, pearson_chi2, df_resid):
        """The reported dispersion (``scale``): Pearson chi2 / df_resid where estimated, else 1."""
        if self.has_dispersion:
            return pearson_chi2 / df_resid if df_resid > 0 else math.nan
        return 1.0

    # -- the dispersion: the one conversion and the rules about it ------------------------
    @property
    def dispersion_param(self) -> str | None:
        """The Bayesian model's dispersion parameter, or None where the model has none."""
        return self.dispersion_name

    def scale_from_dispersion(self, value):
        """phi (the variance scale) from the Bayesian dispersion parameter's value."""
        return value

    def dispersion_from_scale(self, phi):
        """The Bayesian dispersion parameter's value from phi (inverse of the above)."""
        return phi

    def fixed_scale(self) -> float:
        """phi where the model has no dispersion parameter."""
        return 1.0

    def mle_scale(self, scale: float, alpha: float | None) -> float:
        """phi estimated by the classical fit (the MLE's ``scale``; NB: its alpha)."""
        return scale

    def mle_dispersion(self, scale, alpha, alpha_se, n_eff):
        """(value, standard error) of the dispersion parameter from the classical fit's numbers.

        ``n_eff`` is the (weighted) number of observations. The standard error is NaN where the
        classical fit's estimate is a moment estimate without one.
        """
        return self.dispersion_from_scale(self.mle_scale(scale, alpha)), math.nan

    def log_dispersion_var(self, value: float, n_eff: float, alpha_se=None) -> float:
        """Asymptotic (Fisher) variance of log(dispersion parameter) at ``value``."""
        return 1.0 / n_eff

    def crude_dispersion(self, ybar: float, var: float) -> float:
        """A start for the dispersion parameter from the response's mean and variance."""
        return 1.0

    def crude_mean(self, ybar: float) -> float:
        """A mean inside the link's domain near the response's mean (the mode search's start)."""
        return float(np.clip(ybar, 1e-3, np.inf)) if self.positive_mean else ybar

    def default_dispersion_prior(self, s_y: float, sd_y_ok: bool):
        """rstanarm's ``prior_aux = exponential(autoscale = TRUE)``: (prior, specified, note)."""
        return P.Exponential(1.0), P.Exponential(1.0), "rstanarm prior_aux"

    # -- the response -----------------------------------------------------------------------
    def encode_response(self, endog, what: str = "endog"):
        """(endog, family): the response as the design reads it, and the family bound to what
        it learned from it (an ordinal family's categories); as given by default."""
        return endog, self

    def check_design(self, design) -> None:
        """Raise ValueError where the validated rows cannot identify the family's model (a
        rule of the family's own beyond its domain); called when the model is built."""

    def observed(self, y, trials):
        """y as the user sees it in ``observed_data`` and y_rep (Binomial: success counts)."""
        return y

    def from_observed(self, y_obs, trials):
        """The inverse of :meth:`observed`: back to the mean's scale."""
        return y_obs

    def valid_draw_mean(self, mu: np.ndarray) -> np.ndarray:
        """Which means (NumPy) the family's sampler can draw from (not overflowed)."""
        ok = np.isfinite(mu)
        return ok & (mu > 0) if self.positive_mean else ok

    def _draw(self, rng: np.random.Generator, mu: np.ndarray, phi, trials) -> np.ndarray:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, mu: np.ndarray, phi, trials) -> np.ndarray:
        """One draw of y (on the :meth:`observed` scale) given its mean and phi, in NumPy.

        NumPy's generators: JAX's Poisson (a rejection sampler) is ~20x slower on the CPU. A
        mean outside the family's domain (overflow) gives NaN.
        """
        mu = np.asarray(mu, dtype=float)
        valid = self.valid_draw_mean(mu)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # -> inf/NaN draws
            out = np.asarray(self._draw(rng, np.where(valid, mu, 0.5), phi, trials), dtype=float)
        if not valid.all():
            out = np.where(valid, out, np.nan)
        return out


class PrecisionParameter:
    """Mixin: the Bayesian dispersion parameter is a precision, 1 / phi (Gamma's shape, the
    inverse Gaussian's lambda)."""

    def scale_from_dispersion(self, value):
        return 1.0 / value

    def dispersion_from_scale(self, phi):
        return 1.0 / phi


#: the registry: name -> family class (the names ``get_family`` and saved fits use)
FAMILIES: dict[str, type[Family]] = {}
_ALIASES: dict[str, str] = {}


def register(cls: type[Family], *aliases: str) -> type[Family]:
    """Add a family class to the registry under ``cls.name`` (and ``aliases``)."""
    if not (isinstance(cls, type) and issubclass(cls, Family)) or not cls.name:
        raise TypeError(f"register: needs a Family subclass with a name, got {cls!r}")
    FAMILIES[cls.name] = cls
    for a in aliases:
        _ALIASES[a] = cls.name
    return cls


def _key(name: str) -> str:
    k = name.lower().replace("-", "_")
    return _ALIASES.get(k, k)


def get_family(family: Family | str | None, link: L.Link | str | None = None) -> Family:
    """Turn a family object or name, and an optional link, into a family object.

    A ``link`` given here replaces the family's own (it must be one the family allows).
    """
    if family is None:
        family = "gaussian"
    if isinstance(family, type) and issubclass(family, Family):
        family = family()
    if isinstance(family, str):
        key = _key(family)
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
    return family if link == family.link else family.with_link(link)


def from_spec(spec: dict) -> Family:
    """The family a saved fit's :meth:`Family.spec` describes (raises ValueError if unknown)."""
    link = L.Power(spec["link_power"]) if spec["link"] == "power" else L.get_link(spec["link"])
    key = _key(spec["family"])
    if key not in FAMILIES:
        raise ValueError(f"unknown family {spec['family']!r}; valid names are "
                         f"{', '.join(sorted(FAMILIES))} (register a family of your own with "
                         "bayesglm.families.register)")
    cls = FAMILIES[key]
    extra = {k: spec[k] for k in getattr(cls, "spec_params", ()) if spec.get(k) is not None}
    return cls(link, **extra)
