"""Priors of a likelihood family's extra parameters (a precision, degrees of freedom, cutpoints,
a zero model's coefficients): the defaults each family names and the user's entries.

The ``priors=`` dict of a model may name an extra parameter (``"phi"``, ``"nu"``,
``"cutpoints"``, ``"zi"``: one prior for each of its entries) or one entry of a vector
parameter by its label (``"cutpoints[2]"``, ``"zi_x"``); every other key goes to the
coefficients (:func:`bayesglm.priors.resolve_priors`). A prior must suit the parameter's support:
a positive one takes a positive-support prior (or ``Flat()``, improper); a probability or an
interval takes ``Flat()``, the uniform density there (proper); a real or ordered one a
real-support prior. The defaults (``"auto"``) are the families' (``default_extra_prior``, each
naming its source: brms' or rstanarm's defaults); ``"flat"`` makes every one ``Flat``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .specs import Flat, Prior

__all__ = ["ExtraPriors", "split_extra_priors", "resolve_extra_priors"]


class ExtraPriors(NamedTuple):
    """Per extra parameter (``params``, in order): a prior per entry and its note."""

    params: tuple
    priors: tuple  # per parameter: (Prior per entry, ...)
    notes: tuple  # per parameter: (str per entry, ...)

    def draw(self, rng: np.random.Generator, draws: int) -> dict:
        """Draws of every extra parameter from its prior: name -> (draws,) or (draws, size),
        on its natural scale. A probability's or an interval's ``Flat()`` is the uniform there;
        an ordered vector (cutpoints) is drawn from its entries' priors restricted to the
        ordered region (the sorted draws where the entries share one prior, which is exactly
        that; rejection otherwise). Raises ValueError for an improper prior."""
        out = {}
        for q, prs in zip(self.params, self.priors):
            cols = []
            for label, pr in zip(q.labels(), prs):
                if isinstance(pr, Flat) and q.support in ("unit", "interval"):
                    lo, hi = (0.0, 1.0) if q.support == "unit" else (q.lower, q.upper)
                    cols.append(rng.uniform(lo, hi, draws))
                elif not pr.proper:
                    raise ValueError(
                        f"prior predictive draws need proper priors; {label} has "
                        f"{pr.describe()}: give it a proper prior (priors={{{label!r}: ...}}) "
                        'or use priors="auto"')
                else:
                    cols.append(np.asarray(pr.sample(rng, draws), dtype=float))
            x = np.stack(cols, axis=-1)
            if q.support == "ordered":
                x = _ordered(rng, x, prs, q.name)
            out[q.name] = x[:, 0] if q.size == 1 and q.names is None else x
        return out

    def table(self) -> pd.DataFrame:
        rows = []
        for q, prs, notes in zip(self.params, self.priors, self.notes):
            for label, pr, note in zip(q.labels(), prs, notes):
                rows.append((label, pr.describe(), pr.describe(), False, note))
        return pd.DataFrame(rows, columns=["parameter", "prior", "specified", "adjusted",
                                           "note"])


#: rounds of rejection sampling of an ordered vector whose entries have different priors
ORDERED_ROUNDS = 200


def _ordered(rng, x: np.ndarray, priors, name: str) -> np.ndarray:
    """(draws, K) independent draws of the entries -> draws of the ordered vector."""
    if all(pr == priors[0] for pr in priors):
        return np.sort(x, axis=1)  # iid entries restricted to the ordered region: sorted draws
    ok = np.all(np.diff(x, axis=1) > 0, axis=1)
    for _ in range(ORDERED_ROUNDS):
        if ok.all():
            return x
        redo = np.flatnonzero(~ok)
        fresh = np.stack([np.asarray(pr.sample(rng, redo.size), dtype=float) for pr in priors],
                         axis=-1)
        x[redo] = fresh
        ok[redo] = np.all(np.diff(fresh, axis=1) > 0, axis=1)
    raise ValueError(f"prior predictive draws: the priors of {name}'s entries put too little "
                     f"mass on ordered values to draw them by rejection ({ORDERED_ROUNDS} "
                     "rounds); give every entry the same prior, or priors in increasing order")


def _keys(family) -> dict:
    """Every key that names an extra parameter or one of its entries: key -> (index, entry)."""
    out = {}
    for i, q in enumerate(family.extra_params()):
        out[q.name] = (i, None)
        if q.size > 1 or q.names is not None:
            for k, label in enumerate(q.labels()):
                out[label] = (i, k)
    return out


def split_extra_priors(priors, family):
    """(the coefficients' part of ``priors``, the extra parameters' entries as a dict)."""
    if not getattr(family, "exact_likelihood", False) or not isinstance(priors, dict):
        return priors, {}
    keys = _keys(family)
    coef = {k: v for k, v in priors.items() if k not in keys}
    if "dispersion" in coef:
        names = ", ".join(q.name for q in family.extra_params())
        raise ValueError(f"priors: the {family.name} family has no 'dispersion'; its extra "
                         f"parameters are {names} (name them in the dict)")
    return coef, {k: v for k, v in priors.items() if k in keys}


def _check(prior, q, where: str) -> Prior:
    if isinstance(prior, type) and issubclass(prior, Prior):
        raise TypeError(f"{where}: got the class {prior.__name__}, not an instance")
    if not isinstance(prior, Prior):
        raise TypeError(f"{where}: must be a bayesglm.priors.Prior, got {prior!r}")
    if isinstance(prior, Flat):
        return Flat(support="positive") if q.support == "positive" else Flat()
    if q.support in ("unit", "interval"):
        bounds = "(0, 1)" if q.support == "unit" else f"({q.lower:g}, {q.upper:g})"
        raise ValueError(f"{where}: {q.name} lies in {bounds}; its prior is Flat() (uniform "
                         f"there), not {prior.describe()}")
    want = "positive" if q.support == "positive" else "real"
    if prior.support != want:
        raise ValueError(f"{where}: {prior.describe()} has {prior.support} support, but "
                         f"{q.name} is {'positive' if want == 'positive' else 'real'}")
    return prior


def resolve_extra_priors(priors, given: dict, design, family) -> ExtraPriors | None:
    """The extra parameters' priors: the family's defaults (``priors`` a string other than
    ``"flat"``, a Prior or a dict) with the dict's ``given`` entries in their place."""
    if not getattr(family, "exact_likelihood", False):
        return None
    params = family.extra_params()
    flat = isinstance(priors, str) and priors.strip().lower() == "flat"
    out, notes = [], []
    for q in params:
        if flat:
            pr = Flat(support="positive") if q.support == "positive" else Flat()
            entries = [(pr, "flat" + (" (uniform)" if q.support in ("unit", "interval")
                                      else " (improper)"))] * q.size
        else:
            entries = list(family.default_extra_prior(q, design))
        out.append([e[0] for e in entries])
        notes.append([e[1] for e in entries])
    keys = _keys(family)
    for key, value in given.items():
        i, k = keys[key]
        q = params[i]
        pr = _check(value, q, f"priors[{key!r}]")
        for j in (range(q.size) if k is None else [k]):
            out[i][j], notes[i][j] = pr, "as given"
    return ExtraPriors(tuple(params), tuple(tuple(p) for p in out),
                       tuple(tuple(n) for n in notes))
