"""The supports of a family's extra parameters and their maps to the real line.

A family's extra parameters (:class:`~bayesglm.families.Param`: a Beta's precision, a
Student-t's degrees of freedom, a Tweedie power, ordinal cutpoints) each live on a support:

* ``"positive"``: (0, inf), unconstrained ``u = log(v)``;
* ``"unit"``: (0, 1), ``u = logit(v)``;
* ``"interval"``: (lower, upper), ``u = logit((v - lower) / (upper - lower))``;
* ``"ordered"``: an increasing vector, ``u_0 = v_0``, ``u_k = log(v_k - v_{k-1})``;
* ``"real"``: the real line, ``u = v``.

These are NumPyro's ``biject_to`` maps of the matching constraints (``positive``,
``unit_interval``, ``interval``, ``ordered_vector``, ``real``), so the maximum-likelihood fit's
covariance in ``u`` is the sampler's mass matrix as it is. This module is the one owner of the
maps: the classical fit optimises in ``u``, the sampler starts from it, the results report
``v`` with delta-method standard errors (:func:`jacobian_diag`).

Every function takes the array module ``xp`` (``numpy`` or ``jax.numpy``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SUPPORTS", "to_unconstrained", "to_constrained", "jacobian", "log_abs_det_jacobian",
           "pack", "unpack"]

SUPPORTS = ("positive", "unit", "interval", "ordered", "real")


def _sigmoid(xp, u):
    return 1.0 / (1.0 + xp.exp(-u))


def to_unconstrained(param, v, xp=np):
    """``u`` from the constrained value ``v`` of ``param`` (a :class:`Param`)."""
    s = param.support
    if s == "positive":
        return xp.log(v)
    if s == "unit":
        return xp.log(v) - xp.log1p(-v)
    if s == "interval":
        t = (v - param.lower) / (param.upper - param.lower)
        return xp.log(t) - xp.log1p(-t)
    if s == "ordered":  # along the last axis (a vector, or draws of one)
        return xp.concatenate([v[..., :1], xp.log(xp.diff(v, axis=-1))], axis=-1)
    return v


def to_constrained(param, u, xp=np):
    """The constrained value from ``u`` (the inverse of :func:`to_unconstrained`)."""
    s = param.support
    if s == "positive":
        return xp.exp(u)
    if s == "unit":
        return _sigmoid(xp, u)
    if s == "interval":
        return param.lower + (param.upper - param.lower) * _sigmoid(xp, u)
    if s == "ordered":
        return xp.cumsum(xp.concatenate([u[..., :1], xp.exp(u[..., 1:])], axis=-1), axis=-1)
    return u


def jacobian(param, u) -> np.ndarray:
    """d v / d u at ``u`` (NumPy, (size, size)): the delta method's matrix."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    s = param.support
    if s == "positive":
        return np.diag(np.exp(u))
    if s in ("unit", "interval"):
        t = _sigmoid(np, u)
        width = 1.0 if s == "unit" else param.upper - param.lower
        return np.diag(width * t * (1.0 - t))
    if s == "ordered":  # v_k = u_0 + sum_{1 <= j <= k} exp(u_j)
        d = np.concatenate([[1.0], np.exp(u[1:])])
        return np.tril(np.ones((u.size, u.size))) * d[None, :]
    return np.eye(u.size)


def log_abs_det_jacobian(param, u, xp=np):
    """log |d v / d u| at ``u``, summed over a vector's entries: the term a density on ``v``
    needs to be one on ``u`` (the sampler's coordinates)."""
    s = param.support
    if s == "positive":
        return xp.sum(u)
    if s in ("unit", "interval"):
        width = 1.0 if s == "unit" else param.upper - param.lower
        # log(width sigmoid(u) sigmoid(-u)) = log width - |u| - 2 log(1 + exp(-|u|))
        a = xp.abs(u)
        return xp.sum(np.log(width) - a - 2.0 * xp.log1p(xp.exp(-a)))
    if s == "ordered":
        return xp.sum(u[1:])
    return xp.zeros((), dtype=getattr(u, "dtype", float))


def pack(params, values: dict, xp=np):
    """The unconstrained vector u of the parameters' values (``params``: Param, in order)."""
    parts = [xp.atleast_1d(to_unconstrained(p, xp.asarray(values[p.name], dtype=float), xp))
             for p in params]
    return xp.concatenate(parts) if parts else xp.zeros(0)


def unpack(params, u, xp=np) -> dict:
    """Constrained values by name from u, its last axis the parameters' entries (a vector, or
    draws of one); a scalar parameter loses that axis."""
    out, pos = {}, 0
    for p in params:
        v = to_constrained(p, u[..., pos:pos + p.size], xp)
        out[p.name] = v[..., 0] if p.size == 1 else v
        pos += p.size
    return out
