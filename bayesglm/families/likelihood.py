"""Families outside the exponential-dispersion class: their extra parameters and exact density.

A :class:`LikelihoodFamily` (Beta, Student-t, beta-binomial, ...) has, besides the linear
predictor's coefficients, named extra parameters (:class:`Param`: a precision, degrees of
freedom, ...), each on a support of :mod:`bayesglm.transforms`. It declares them as data and
writes one function, :meth:`LikelihoodFamily.loglike`, the full log density of a row given its
linear predictor and the extra parameters' values; the classical fit maximises it by Newton's
method (:mod:`bayesglm.likelihood_mle`) in the extra parameters' unconstrained coordinates,
where the sampler will work too.

Pure JAX and NumPy, as every family module. The generic exponential-family methods of
:class:`~bayesglm.families.Family` (``variance``, ``unit_deviance``, ``loglike_obs``) do not
apply and raise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jax.scipy.special import gammaln

from .base import Family

__all__ = ["Param", "LikelihoodFamily", "FAR", "unit_parts", "log_beta_fn"]

#: a positive parameter estimated beyond this (or below 1 / FAR), or a probability within
#: 1 / FAR of 1 (or of 0), is taken to have run off to its limit (the likelihood still rising,
#: ever more slowly): the fit warns, naming the limit (``Param.limit``, ``Param.limit_low``)
FAR = 1e6


class Param(NamedTuple):
    """An extra parameter of a family: its name (the ``params`` entry and the Bayesian site),
    support (:data:`bayesglm.transforms.SUPPORTS`), size (> 1: a vector, as ordinal cutpoints),
    bounds of an ``"interval"`` support, what its running off to infinity (or a probability's to
    1) means (``limit``, the text of the warning; None where it cannot), what its running to its
    lower bound means (``limit_low``), and the labels of a vector's entries (``names``)."""

    name: str
    support: str
    size: int = 1
    lower: float = 0.0
    upper: float = 1.0
    limit: str | None = None
    meaning: str = ""
    names: tuple | None = None
    limit_low: str | None = None

    def labels(self) -> list[str]:
        """The names of its entries in ``params``: ``names`` where given, else ``name`` or
        ``name[1]`` ... ``name[size]``."""
        if self.names is not None:
            return list(self.names)
        if self.size == 1:
            return [self.name]
        return [f"{self.name}[{k}]" for k in range(1, self.size + 1)]


class LikelihoodFamily(Family):
    """Base class of the families fitted on their exact likelihood (not by IRLS).

    Subclasses declare ``name``, ``domain``, ``links``, ``default_link`` (as every family) and
    implement :meth:`extra_params`, :meth:`loglike`, :meth:`start_family` and
    :meth:`start_extra`; :meth:`mean` where the mean is not the inverse link of eta.
    """

    exact_likelihood = True
    #: E[y] is ``link.inverse(eta)`` (False: :meth:`mean` says what it is, e.g. (1 - zi) mu)
    mean_is_inverse_link = True

    # -- what the family declares ---------------------------------------------------------
    def extra_params(self) -> tuple[Param, ...]:
        """The extra parameters estimated with the coefficients, in ``params`` order."""
        raise NotImplementedError

    def fixed_extra(self) -> dict:
        """Extra parameters fixed by the user (e.g. ``Tweedie(power=1.5)``): name -> value."""
        return {}

    def default_extra_prior(self, param: Param, design) -> list:
        """The ``"auto"`` prior of each entry of ``param``: [(Prior, note), ...], the note naming
        the source (brms' or rstanarm's default)."""
        raise NotImplementedError

    # -- the mathematics (JAX) ------------------------------------------------------------
    def aux_formulas(self) -> dict:
        """The extra design matrices the family needs (name -> one-sided formula, as a
        zero-inflation model's ``"~ x"``); their columns reach :meth:`loglike` as ``aux``."""
        return {}

    def bind_aux(self, names: dict) -> LikelihoodFamily:
        """The family bound to its extra design matrices' column names (name -> names)."""
        return self

    def loglike(self, y, eta, extra: dict, trials=None, aux=None):
        """log p(y | eta, extra) of every row, normalising constants included (JAX).

        ``y`` on the mean's scale (a proportion of ``trials`` where the family has them),
        ``extra`` the constrained values by name (fixed ones included), ``aux`` the extra
        design matrices by name (:meth:`aux_formulas`; None where there are none).
        """
        raise NotImplementedError

    def mean(self, eta, extra: dict, aux=None):
        """E[y | eta] on the mean's scale (JAX or NumPy): the inverse link by default."""
        return self.link.inverse(eta)

    def draw_rows(self, rng: np.random.Generator, eta, extra: dict, trials=None,
                  aux=None) -> np.ndarray:
        """One draw of y per row (on the :meth:`observed` scale) given eta and the extra
        parameters (NumPy's generators)."""
        raise NotImplementedError

    # -- the classical fit's start ----------------------------------------------------------
    def start_family(self) -> Family | None:
        """An exponential-dispersion family whose IRLS fit starts the coefficients (None: they
        start at 0)."""
        raise NotImplementedError

    def start_extra(self, y: np.ndarray, mu, trials, weights, aux=None) -> dict:
        """Starting values of the extra parameters given the start's fitted means (NumPy; None
        without a start family)."""
        raise NotImplementedError

    # -- not an exponential-dispersion family ---------------------------------------------
    def _not_ed(self, what):
        raise TypeError(f"the {self.name} family is not an exponential-dispersion family: it "
                        f"has no {what}; its density is LikelihoodFamily.loglike")

    def variance(self, mu, phi=1.0):
        self._not_ed("variance function V(mu)")

    def unit_deviance(self, y, mu, phi=1.0):
        self._not_ed("unit deviance")

    def loglike_obs(self, y, mu, phi=1.0, trials=1.0):
        self._not_ed("loglike_obs(y, mu, phi)")


def unit_parts(link, eta):
    """(mu, 1 - mu) of a link onto (0, 1), 1 - mu without cancellation for the logit."""
    mu = link.inverse(eta)
    if link.name == "logit":
        return mu, link.inverse(-eta)
    return mu, 1.0 - mu


def log_beta_fn(a, b):
    """log B(a, b) from ``gammaln`` (``jax.scipy.special.betaln`` is less accurate here)."""
    return gammaln(a) + gammaln(b) - gammaln(a + b)
