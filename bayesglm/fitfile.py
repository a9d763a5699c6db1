"""The file a Bayesian fit is saved in: an ArviZ InferenceData netCDF file with a model spec.

:func:`write` stores the InferenceData with the model's description (JSON, in the posterior
group's attribute ``bayesglm_spec``) and the data every pointwise quantity needs (the design
matrix ``X`` in constant_data even where the fit kept it out of memory, the observed ``y``, the
offsets, trials and weights), so a loaded fit can ``predict()``, ``posterior_predictive()`` and
``loo()`` without the original data. :func:`read` loads the whole file into memory and closes
it (the file may then be overwritten or deleted), and turns every way a file can fail to be a
fit (empty, truncated, text, another netCDF or InferenceData, a broken spec) into one
:class:`FitFileError`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .families import Family, from_spec

__all__ = ["FitFileError", "SPEC_ATTR", "write", "read", "family_from_spec"]

SPEC_ATTR = "bayesglm_spec"

#: exceptions the netCDF readers, xarray and the spec's parsing raise on a file that is not a fit
_READ_ERRORS = (OSError, ValueError, KeyError, AttributeError, TypeError, IndexError,
                RuntimeError, EOFError)


class FitFileError(ValueError):
    """A file that is not a readable bayesglm fit (``bg.load``); the message says why."""


def write(idata, spec: dict, path, X: np.ndarray | None = None, names=None) -> None:
    """Write ``idata`` with ``spec`` to ``path``; ``X`` is added to constant_data if missing.

    The groups are shared with ``idata``, not copied: only the posterior group's attributes
    (a fresh dict) and constant_data (a new dataset where X is added) differ.
    """
    import arviz as az
    import xarray as xr

    groups = {g: idata[g] for g in idata.groups()}
    post = groups["posterior"].copy(deep=False)
    post.attrs = {**post.attrs, SPEC_ATTR: json.dumps(spec)}
    groups["posterior"] = post
    cd = groups.get("constant_data")
    if X is not None and (cd is None or "X" not in cd):
        obs = idata.observed_data["y"].coords["obs"].to_numpy()
        x = xr.DataArray(np.asarray(X), dims=("obs", "coef"),
                         coords={"obs": obs, "coef": [str(n) for n in names]})
        groups["constant_data"] = x.to_dataset(name="X") if cd is None else cd.assign(X=x)
    az.InferenceData(**groups).to_netcdf(str(path))


def _not_a_fit(path, why: str) -> FitFileError:
    return FitFileError(f"{path} is not a readable bayesglm fit ({why}); bg.load reads the "
                        "files written by fit.save(path)")


def damaged_spec(path, err: Exception) -> FitFileError:
    """The error for a file whose model spec cannot be parsed (here or by ``load``)."""
    return _not_a_fit(path, f"its model spec is damaged: {type(err).__name__}: {err}")


def read(path):
    """``(idata, spec, family)`` from a file written by :func:`write`, in memory, file closed.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    FitFileError
        When the file is not a bayesglm fit.
    """
    import arviz as az

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"cannot load {path}: no such file")
    if p.is_dir():
        raise _not_a_fit(path, "it is a folder")
    if p.stat().st_size == 0:
        raise _not_a_fit(path, "the file is empty")
    try:
        with az.rc_context({"data.load": "eager"}):  # read everything, then close the file
            idata = az.from_netcdf(str(p))
    except _READ_ERRORS as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _not_a_fit(path, f"not a complete netCDF/HDF5 file: {msg}") from err
    groups = set(idata.groups())
    if "posterior" not in groups or SPEC_ATTR not in idata.posterior.attrs:
        raise _not_a_fit(path, "it has no bayesglm model spec: not written by fit.save")
    try:
        spec = json.loads(idata.posterior.attrs[SPEC_ATTR])
        family = family_from_spec(spec)
        names = [str(n) for n in spec["names"]]
        beta = idata.posterior["beta"]
        if beta.shape[-1] != len(names) or "y" not in idata.observed_data:
            raise ValueError("the draws do not match the model spec")
    except _READ_ERRORS as err:
        raise damaged_spec(path, err) from err
    spec["names"] = names
    return idata, spec, family


def family_from_spec(spec: dict) -> Family:
    """The family (with its link, and its fixed parameters) a spec describes."""
    return from_spec(spec)
