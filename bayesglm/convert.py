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

__all__ = ["to_inference_data", "add_group", "Pending", "posterior", "variables",
           "sample_stats"]


def _layout(names, dims: dict | None, coords: dict | None) -> tuple[dict, dict]:
    """The dims and coords of a fit's variables: ``beta`` on the coefficient names (``coef``),
    ``y`` and ``X`` on the rows (``obs``), and those of further variables."""
    return ({"beta": ["coef"], "y": ["obs"], "X": ["obs", "coef"], **(dims or {})},
            {"coef": [str(n) for n in names], **(coords or {})})


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
        dims, coords = _layout(self.kwargs["names"], self.kwargs.get("dims"),
                               self.kwargs.get("coords"))
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


def posterior(source):
    """The posterior's variables by name (arrays (chains, draws, ...)) of an InferenceData or
    a :class:`Pending` one: its ``posterior`` group, or the draws it will be built from."""
    return source.kwargs["posterior"] if isinstance(source, Pending) else source.posterior


def variables(source, names=None) -> list:
    """The :class:`bayesglm.diagnostics.Variable` s (all, or ``names``) of an InferenceData's
    posterior or a :class:`Pending` one's, with the same labels."""
    if isinstance(source, Pending):
        return source.variables(names)
    from .diagnostics import variables as of_dataset

    return of_dataset(source.posterior, names)


def sample_stats(source) -> dict:
    """The sampler's statistics by name, as NumPy arrays (chains, draws), of an InferenceData
    or a :class:`Pending` one."""
    stats = source.kwargs["sample_stats"] if isinstance(source, Pending) else source.sample_stats
    return {k: np.asarray(v) for k, v in stats.items()}


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

    dims, coords = _layout(names, dims, {"obs": np.asarray(obs_index), **(coords or {})})
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
