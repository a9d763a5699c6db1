"""Draws to ArviZ InferenceData: the only module that builds InferenceData."""

from __future__ import annotations

import arviz as az
import numpy as np

__all__ = ["to_inference_data", "add_group"]


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
) -> az.InferenceData:
    """Build InferenceData with coefficient names (``coef``) and observations (``obs``) as coords.

    ``posterior``/``prior`` hold ``beta`` as (chains, draws, p) and the dispersion as
    (chains, draws); ``log_likelihood``/``posterior_predictive`` are (chains, draws, n).
    ``dims``/``coords``: those of further variables (the group terms' ``r_<group>`` on
    ``<group>__level`` x ``<group>__term``, their columns in constant_data).
    """
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


def add_group(idata: az.InferenceData, group: str, values: np.ndarray, obs_index,
              draws=None) -> None:
    """Add (or replace) a (chains, draws, n) group variable ``y`` on the ``obs`` coordinate.

    ``draws``: the draw numbers (default 0, 1, ...), e.g. those a thinned y_rep was made from.
    """
    coords = {"obs": np.asarray(obs_index)}
    if draws is not None:
        coords["draw"] = np.asarray(draws)
    new = az.from_dict(**{group: {"y": values}}, coords=coords, dims={"y": ["obs"]})
    if group in idata.groups():
        del idata[group]
    idata.extend(new)
