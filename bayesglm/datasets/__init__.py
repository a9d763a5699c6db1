"""Small data sets bundled with bayesglm: ``load(name)`` returns a DataFrame, ``list()`` the names."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load", "list", "DATASETS"]

DATASETS: dict[str, str] = {
    "dobson": (
        "Randomized controlled trial counts (Dobson 1990, An Introduction to Generalized Linear "
        "Models, p. 93; the example of R's ?glm). 9 rows: counts (Poisson response), outcome "
        "(1-3), treatment (1-3). Nine published numbers, reproduced as facts."
    ),
}


def list() -> dict[str, str]:  # noqa: A001 - the public name the design fixes
    """Names of the bundled data sets with a one-line description of each."""
    return dict(DATASETS)


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set as a pandas DataFrame."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as fh:
        return pd.read_csv(fh)
