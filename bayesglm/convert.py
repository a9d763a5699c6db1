"""Draws to ArviZ InferenceData: the only module that builds InferenceData.

ArviZ is imported when an InferenceData is first built: importing it (with xarray, SciPy's
stats and matplotlib) takes ~1.1 s, most of a new process's first fit of a small model. A GLM's
fit therefore keeps its draws as :class:`Pending` (what :func:`to_inference_data` needs), shows
its summary and warnings from them (:mod:`bayesglm.diagnostics`), and builds the InferenceData
when ``fit.idata`` is first read. (The fits of models with group-level terms and of likelihood
families still build theirs at once: their posterior predictive draws read it.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .diagnostics import Variable, labels

__all__ = ["to_inference_data", "add_group", "Pending"]


class Pending(NamedTuple):
    """An InferenceData not built yet: :func:`to_inference_data`'s arguments (``kwargs``); a
    group given as a function of no arguments (``posterior_predictive``: a fit's y_rep, drawn
    from a fixed seed) is computed when the InferenceData is built."""

    kwargs: dict

    def build(self):
        """The InferenceData (ArviZ imported here)."""
        kwargs = {k: v() if callable(v) else v for k, v in self.kwargs.items()}
        return to_inference_data(**kwargs)

    def variables(self, names=None) -> list:
        """The posterior's :class:`bayesglm.diagnostics.Variable` s (all, or ``names`` in that
        order), labelled as the built InferenceData's would be."""
        post = self.kwargs["posterior"]
        dims = {"beta": ["coef"], **(self.kwargs.get("dims") or {})}
        coords = {"coef": [str(n) for n in self.kwargs["names"]],
                  **(self.kwargs.get("coords") or {})}
        out = []
        for name in (list(post) if names is None else names):
            x = np.asarray(post[name])
            d = dims.get(name) or [f"{name}_dim_{i}" for i in range(x.ndim - 2)]
            out.append(Variable(name, x.reshape(x.shape[0], x.shape[1], -1),
                                labels(name, d, coords, x.shape[2:])))
        return out

    def with_posterior_predictive(self, y_rep) -> "Pending":
        """The same, with a (chains, draws, n) posterior_predictive group (or a function of no
        arguments that draws it)."""
        return Pending({**self.kwargs, "posterior_predictive": y_rep})


def to_inference_data(
    *,
    posterior: dict,
    sample_stats: dict | None,
    names,
    obs_index,
    y,
    constant_data: dict,
    log_likelihood: np.ndarray | None = None,
    posterior_predictive: np.ndarray | None = None,
    prior: dict | None = None,
    prior_predictive: np.ndarray | None = None,
    attrs: dict | None = None,
    dims: dict | None = None,
    coords: dict | None = None,
) -> "az.InferenceData":  # noqa: F821 - ArviZ is imported inside
    """Build InferenceData with coefficient names (``coef``) and observations (``obs``) as coords.

    ``posterior``/``prior`` hold ``beta`` as (chains, draws, p) and the dispersion as
    (chains, draws); ``log_likelihood``/``posterior_predictive`` are (chains, draws, n).
    ``dims``/``coords``: those of further variables (the group terms' ``r_<group>`` on
    ``<group>__level`` x ``<group>__term``, their columns in constant_data).
    """
    import arviz as az

    extra_dims, extra_coords = dims or {}, coords or {}
    coords = {"coef": [str(n) for n in names], "obs": np.asarray(obs_index), **extra_coords}
    dims = {"beta": ["coef"], "y": ["obs"], "X": ["obs", "coef"], **extra_dims}
    for k in constant_data:
        if k not in dims:
            dims[k] = ["obs"]
    kwargs = dict(
        posterior=posterior,
        sample_stats=sample_stats,
        observed_data={"y": np.asarray(y)},
        constant_data=constant_data,
        coords=coords,
        dims=dims,
    )
    if log_likelihood is not None:
        kwargs["log_likelihood"] = {"y": log_likelihood}
    if posterior_predictive is not None:
        kwargs["posterior_predictive"] = {"y": posterior_predictive}
    if prior is not None:
        kwargs["prior"] = prior
    if prior_predictive is not None:
        kwargs["prior_predictive"] = {"y": prior_predictive}
    if posterior is None:
        kwargs.pop("posterior")
        kwargs.pop("sample_stats")
    idata = az.from_dict(**kwargs)
    if attrs:
        for group in idata.groups():
            idata[group].attrs.update(attrs)
    return idata


def add_group(idata, group: str, values: np.ndarray, obs_index, draws=None) -> None:
    """Add (or replace) a (chains, draws, n) group variable ``y`` on the ``obs`` coordinate.

    ``draws``: the draw numbers (default 0, 1, ...), e.g. those a thinned y_rep was made from.
    """
    import arviz as az

    coords = {"obs": np.asarray(obs_index)}
    if draws is not None:
        coords["draw"] = np.asarray(draws)
    new = az.from_dict(**{group: {"y": values}}, coords=coords, dims={"y": ["obs"]})
    if group in idata.groups():
        del idata[group]
    idata.extend(new)
