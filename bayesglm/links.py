"""Link functions: ``link(mu) -> eta``, ``inverse(eta) -> mu`` and their derivatives.

Every link is a small immutable object whose methods are pure JAX functions, so they can be used
inside ``jax.jit`` and differentiated. The inverse links are written in forms that stay finite in
float32 and float64 for ``eta`` in [-700, 700] wherever the mathematics allows (``log_sigmoid``,
``log1p``/``expm1``, ``erfc`` tails), and clip ``mu`` away from the boundary of the mean's domain
by an amount taken from the dtype.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import nn
from jax.scipy import special

from ._args import real

__all__ = [
    "Link",
    "Identity",
    "Log",
    "Logit",
    "Probit",
    "CLogLog",
    "LogLog",
    "Cauchit",
    "Inverse",
    "InverseSquared",
    "Sqrt",
    "Power",
    "get_link",
    "LINKS",
]


def _tiny(x):
    """Smallest positive normal number of ``x``'s dtype (keeps logs and divisions finite)."""
    return jnp.finfo(jnp.result_type(x, float)).tiny


def _huge(x):
    """Largest finite number of ``x``'s dtype (exp overflows float32 beyond eta ~ 88.7)."""
    return jnp.finfo(jnp.result_type(x, float)).max


def _eps(x):
    return jnp.finfo(jnp.result_type(x, float)).eps


class Link:
    """Base class of link functions.

    Subclasses implement ``link``, ``inverse``, ``deriv`` (d eta / d mu) and ``inverse_deriv``
    (d mu / d eta). ``name`` is the lower-case string accepted wherever a link may be given.
    """

    name: str = ""

    def link(self, mu):
        """eta = g(mu)."""
        raise NotImplementedError

    def inverse(self, eta):
        """mu = g^{-1}(eta)."""
        raise NotImplementedError

    def deriv(self, mu):
        """g'(mu) = d eta / d mu."""
        raise NotImplementedError

    def inverse_deriv(self, eta):
        """d mu / d eta at eta."""
        raise NotImplementedError

    def valid_eta(self, eta):
        """Whether eta maps to a mean inside the link's range (all True for most links)."""
        return jnp.isfinite(eta)

    # value semantics: two links are equal when they are the same function
    def _key(self):
        return (type(self).__name__,)

    def __eq__(self, other):
        return isinstance(other, Link) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Link):
    name = "identity"

    def link(self, mu):
        return mu

    def inverse(self, eta):
        return eta

    def deriv(self, mu):
        return jnp.ones_like(mu)

    def inverse_deriv(self, eta):
        return jnp.ones_like(eta)


class Log(Link):
    name = "log"

    def link(self, mu):
        return jnp.log(mu)

    def inverse(self, eta):
        # exp underflows to 0 far left; keep mu strictly positive so V(mu) > 0. Far right it
        # overflows to inf (float32 beyond eta ~ 88.7): keep mu finite there.
        return jnp.clip(jnp.exp(eta), _tiny(eta), _huge(eta))

    def deriv(self, mu):
        return 1.0 / mu

    def inverse_deriv(self, eta):
        return jnp.clip(jnp.exp(eta), _tiny(eta), _huge(eta))


class _UnitLink(Link):
    """Links whose mean lies in (0, 1): the inverse is clipped to [eps, 1 - eps] as R does."""

    def _clip(self, mu):
        eps = _eps(mu)
        return jnp.clip(mu, eps, 1.0 - eps)


class Logit(_UnitLink):
    name = "logit"

    def link(self, mu):
        return jnp.log(mu) - jnp.log1p(-mu)

    def inverse(self, eta):
        return self._clip(nn.sigmoid(eta))

    def deriv(self, mu):
        return 1.0 / (mu * (1.0 - mu))

    def inverse_deriv(self, eta):
        # sigmoid(eta) * sigmoid(-eta) = exp(-|eta|) / (1 + exp(-|eta|))^2, finite everywhere
        a = jnp.exp(-jnp.abs(eta))
        return jnp.maximum(a / (1.0 + a) ** 2, _tiny(eta))


class Probit(_UnitLink):
    name = "probit"

    def link(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return self._clip(special.ndtr(eta))

    def deriv(self, mu):
        eta = special.ndtri(mu)
        return 1.0 / jnp.maximum(jnp.exp(-0.5 * eta**2) / math.sqrt(2 * math.pi), _tiny(mu))

    def inverse_deriv(self, eta):
        return jnp.maximum(jnp.exp(-0.5 * eta**2) / math.sqrt(2 * math.pi), _tiny(eta))


class CLogLog(_UnitLink):
    """Complementary log-log: eta = log(-log(1 - mu))."""

    name = "cloglog"

    def link(self, mu):
        return jnp.log(-jnp.log1p(-mu))

    def inverse(self, eta):
        return self._clip(-jnp.expm1(-jnp.exp(eta)))

    def deriv(self, mu):
        return -1.0 / ((1.0 - mu) * jnp.log1p(-mu))

    def inverse_deriv(self, eta):
        # exp(eta - exp(eta)); for large eta the exponent is very negative and underflows safely
        e = jnp.minimum(eta, 700.0)
        return jnp.maximum(jnp.exp(e - jnp.exp(e)), _tiny(eta))


class LogLog(_UnitLink):
    """Log-log: eta = -log(-log(mu))."""

    name = "loglog"

    def link(self, mu):
        return -jnp.log(-jnp.log(mu))

    def inverse(self, eta):
        return self._clip(jnp.exp(-jnp.exp(-eta)))

    def deriv(self, mu):
        return -1.0 / (mu * jnp.log(mu))

    def inverse_deriv(self, eta):
        e = jnp.maximum(eta, -700.0)
        return jnp.maximum(jnp.exp(-e - jnp.exp(-e)), _tiny(eta))


class Cauchit(_UnitLink):
    name = "cauchit"

    def link(self, mu):
        return jnp.tan(jnp.pi * (mu - 0.5))

    def inverse(self, eta):
        # 0.5 + arctan(eta)/pi loses everything in the far left tail; use arctan(1/|eta|)/pi there
        tail = jnp.arctan(1.0 / jnp.maximum(jnp.abs(eta), 1.0)) / jnp.pi
        left = jnp.where(jnp.abs(eta) > 1.0, tail, 0.5 - jnp.arctan(jnp.abs(eta)) / jnp.pi)
        mu = jnp.where(eta < 0, left, 1.0 - left)
        return self._clip(mu)

    def deriv(self, mu):
        return jnp.pi / jnp.cos(jnp.pi * (mu - 0.5)) ** 2

    def inverse_deriv(self, eta):
        return 1.0 / (jnp.pi * (1.0 + eta**2))


class Power(Link):
    """Power link eta = mu**power (power != 0; power 0 is the log link)."""

    name = "power"

    def __init__(self, power: float = 1.0):
        power = real(power, "Power link: power")
        if power == 0.0:
            raise ValueError("Power link: power 0 is the log link; use bg.links.Log()")
        self.power = power

    def _key(self):
        return (type(self).__name__, self.power)

    def __repr__(self):
        return f"{type(self).__name__}({self.power:g})"

    def link(self, mu):
        return mu**self.power

    def inverse(self, eta):
        if self.power == 1.0:
            return eta
        # the mean is positive for every non-identity power link: keep it so
        return jnp.maximum(eta, _tiny(eta)) ** (1.0 / self.power)

    def deriv(self, mu):
        return self.power * mu ** (self.power - 1.0)

    def inverse_deriv(self, eta):
        if self.power == 1.0:
            return jnp.ones_like(eta)
        e = jnp.maximum(eta, _tiny(eta))
        return e ** (1.0 / self.power - 1.0) / self.power

    def valid_eta(self, eta):
        if self.power == 1.0:
            return jnp.isfinite(eta)
        return jnp.isfinite(eta) & (eta > 0)  # mu = eta**(1/p) is real and positive only here


class Inverse(Power):
    """eta = 1 / mu (the canonical link of the Gamma family)."""

    name = "inverse"

    def __init__(self):
        super().__init__(-1.0)

    def _key(self):
        return (type(self).__name__,)

    def __repr__(self):
        return "Inverse()"


class InverseSquared(Power):
    """eta = 1 / mu**2 (the canonical link of the inverse Gaussian family)."""

    name = "inverse_squared"

    def __init__(self):
        super().__init__(-2.0)

    def _key(self):
        return (type(self).__name__,)

    def __repr__(self):
        return "InverseSquared()"


class Sqrt(Power):
    """eta = sqrt(mu)."""

    name = "sqrt"

    def __init__(self):
        super().__init__(0.5)

    def _key(self):
        return (type(self).__name__,)

    def __repr__(self):
        return "Sqrt()"


LINKS: dict[str, type[Link]] = {
    cls.name: cls
    for cls in (Identity, Log, Logit, Probit, CLogLog, LogLog, Cauchit, Inverse, InverseSquared, Sqrt)
}
_ALIASES = {"1/mu^2": "inverse_squared", "inverse_power": "inverse", "inversesquared": "inverse_squared"}


def get_link(link: Link | str) -> Link:
    """Turn a link object or its name ("logit", "log", ...) into a link object."""
    if isinstance(link, Link):
        return link
    if isinstance(link, type) and issubclass(link, Link) and link is not Power:
        return link()
    if isinstance(link, str):
        key = _ALIASES.get(link.lower(), link.lower())
        if key in LINKS:
            return LINKS[key]()
        raise ValueError(
            f"unknown link {link!r}; valid names are {', '.join(sorted(LINKS))}"
            " (or bg.links.Power(p))"
        )
    raise TypeError(f"link must be a bg.links.Link or its name, got {type(link).__name__}")
