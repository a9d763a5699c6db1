"""Load the posteriordb reference posteriors of ``shared/validation/posteriordb`` for bayesglm.

Each posterior directory holds ``data.json`` (posteriordb's data, verbatim), ``spec.json`` (the
model written out by hand: response and design-column expressions, priors, the map from Stan
parameter names to columns) and ``reference.json`` (summaries of Stan's 10 000 reference draws).
See that folder's README.md.

:func:`load_case` turns one directory into a :class:`Case`: the response ``y``, the design
matrix ``X`` (one column per ``design_columns`` entry, in Stan order), the coefficient names,
the bayesglm ``priors=`` dict and the reference summaries keyed by *our* parameter names.

Expressions are evaluated by a small whitelist evaluator over Python's ``ast`` (never ``eval``):
names (data.json variables, as float arrays), numeric literals, ``+ - * / **``, unary minus,
parentheses, ``==`` (a 0/1 indicator), the functions ``log``, ``log10``, ``mean`` and ``sd``
(sample SD, ddof=1, as Stan's ``sd()``), and the column subscript ``X[:, j]`` (0-based).
Anything else raises ``ValueError``.

Priors (spec.json encoding -> bayesglm):

* ``flat`` -> ``Flat()`` on a coefficient; on sigma ``Flat()``, which bayesglm turns into
  ``Flat(support="positive")``: uniform on sigma itself (an ``ImproperUniform(positive)`` site,
  whose log transform adds the Jacobian), as the README requires, not uniform on log sigma;
* ``normal(mean, sd)`` -> ``Normal(mean, sd)``; ``student_t(df, location, scale)`` ->
  ``StudentT(df, location, scale)``;
* ``half_normal`` / ``half_cauchy`` / ``half_student_t`` (location 0) -> ``HalfNormal`` /
  ``HalfCauchy`` / ``HalfStudentT`` on sigma.

Every coefficient gets an explicit prior (a dict entry), so none of bayesglm's autoscaled
defaults is used. A prior given for the intercept applies to the *uncentred* intercept in
bayesglm. That is what the Stan programs here do, except diamonds-diamonds (brms): brms puts
its t(3, 8, 10) prior on the intercept of the design whose 24 other columns are centred at
their means. spec.json writes those columns centred (``X[:, j] - mean(X[:, j])``), so with that
design our (uncentred) intercept *is* brms's centred ``Intercept``, and the prior lands on the
right parameter; the reference ``Intercept`` (centred) and ``b[j]`` compare directly.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import bayesglm.priors as P

#: the validation folder: the repository is checked out next to ``shared/``
POSTERIORDB_DIR = Path(__file__).resolve().parents[3] / "shared" / "validation" / "posteriordb"

#: name of the dispersion (the Gaussian noise SD) in bayesglm's posterior
SIGMA = "sigma"


def available() -> bool:
    return POSTERIORDB_DIR.is_dir() and any(POSTERIORDB_DIR.glob("*/spec.json"))


def posterior_names() -> list[str]:
    """Every posterior directory (one with spec.json, data.json and reference.json), sorted."""
    if not POSTERIORDB_DIR.is_dir():
        return []
    files = ("spec.json", "data.json", "reference.json")
    return sorted(d.name for d in POSTERIORDB_DIR.iterdir()
                  if d.is_dir() and all((d / f).is_file() for f in files))


# -- the expression evaluator ----------------------------------------------------------------
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def _sd(v):
    v = np.asarray(v, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise ValueError("sd() needs a vector of at least 2 values")
    return float(np.std(v, ddof=1))


def _mean(v):
    v = np.asarray(v, dtype=float)
    if v.ndim != 1:
        raise ValueError("mean() needs a vector")
    return float(np.mean(v))


_FUNCS = {"log": np.log, "log10": np.log10, "mean": _mean, "sd": _sd}


class Evaluator:
    """Evaluate one spec.json expression over the variables of data.json.

    >>> Evaluator({"a": [1, 2, 3]})("(a - mean(a)) / sd(a)").tolist()
    [-1.0, 0.0, 1.0]
    """

    def __init__(self, data: dict):
        self.data = data

    def __call__(self, expression: str):
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"cannot parse expression {expression!r}: {exc}") from None
        with np.errstate(all="raise"):  # log of 0 or a negative number is a spec/data error
            return self._eval(tree.body, expression)

    def _var(self, name: str, expression: str):
        if name not in self.data:
            raise ValueError(f"{expression!r}: unknown data variable {name!r}")
        value = np.asarray(self.data[name], dtype=float)
        if value.ndim not in (1, 2):
            raise ValueError(f"{expression!r}: variable {name!r} is not a vector or a matrix")
        return value

    def _eval(self, node, expression: str):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"{expression!r}: only numeric literals are allowed")
            return float(node.value)
        if isinstance(node, ast.Name):
            return self._var(node.id, expression)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](self._eval(node.left, expression),
                                          self._eval(node.right, expression))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self._eval(node.operand, expression)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
                raise ValueError(f"{expression!r}: only a single '==' comparison is allowed")
            left = self._eval(node.left, expression)
            right = self._eval(node.comparators[0], expression)
            return (np.asarray(left) == np.asarray(right)).astype(float)
        if isinstance(node, ast.Call):
            if (not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS
                    or len(node.args) != 1 or node.keywords):
                raise ValueError(f"{expression!r}: allowed calls are "
                                 f"{sorted(_FUNCS)} with one argument")
            return _FUNCS[node.func.id](self._eval(node.args[0], expression))
        if isinstance(node, ast.Subscript):
            return self._column(node, expression)
        raise ValueError(f"{expression!r}: {type(node).__name__} is not allowed")

    def _column(self, node: ast.Subscript, expression: str):
        """``NAME[:, j]``: column j (0-based) of a matrix variable."""
        sl = node.slice
        ok = (isinstance(node.value, ast.Name) and isinstance(sl, ast.Tuple) and len(sl.elts) == 2
              and isinstance(sl.elts[0], ast.Slice)
              and sl.elts[0].lower is None and sl.elts[0].upper is None and sl.elts[0].step is None
              and isinstance(sl.elts[1], ast.Constant) and type(sl.elts[1].value) is int)
        if not ok:
            raise ValueError(f"{expression!r}: the only subscript allowed is NAME[:, j]")
        matrix = self._var(node.value.id, expression)
        j = sl.elts[1].value
        if matrix.ndim != 2 or not 0 <= j < matrix.shape[1]:
            raise ValueError(f"{expression!r}: no column {j} in {node.value.id!r}")
        return matrix[:, j]


# -- priors ----------------------------------------------------------------------------------
def coef_prior(spec: dict) -> P.Prior:
    """A coefficient's prior from its spec.json encoding."""
    kind = spec["distribution"]
    if kind == "flat":
        return P.Flat()
    if kind == "normal":
        return P.Normal(spec["mean"], spec["sd"])
    if kind == "student_t":
        return P.StudentT(spec["df"], spec["location"], spec["scale"])
    raise ValueError(f"unsupported coefficient prior {spec!r}")


def sigma_prior(spec: dict) -> P.Prior:
    """The noise SD's prior. ``flat``: uniform on sigma itself (bayesglm: Flat on (0, inf))."""
    kind = spec["distribution"]
    if kind == "flat":
        return P.Flat()
    if spec.get("location", 0.0) != 0.0:
        raise ValueError(f"half distributions must be centred at 0: {spec!r}")
    if kind == "half_normal":
        return P.HalfNormal(spec["scale"])
    if kind == "half_cauchy":
        return P.HalfCauchy(spec["scale"])
    if kind == "half_student_t":
        return P.HalfStudentT(spec["df"], spec["scale"])
    raise ValueError(f"unsupported sigma prior {spec!r}")


# -- one posterior ---------------------------------------------------------------------------
@dataclass
class Case:
    """One posteriordb posterior, ready for ``bg.GLM(y, X, names=names, priors=priors)``."""

    name: str
    y: np.ndarray
    X: np.ndarray
    names: list[str]
    priors: dict
    #: our parameter name (a coefficient name or "sigma") -> Stan parameter name
    stan_names: dict
    #: our parameter name -> reference summary (mean, sd, q05, q50, q95, n_draws, ess_mean, ...)
    reference: dict = field(repr=False)
    spec: dict = field(repr=False)

    @property
    def n_obs(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_coef(self) -> int:
        return int(self.X.shape[1])

    @property
    def parameters(self) -> list[str]:
        """Our names of every compared parameter: the coefficients, then sigma."""
        return [*self.names, SIGMA]


def load_case(name: str, root: Path = POSTERIORDB_DIR) -> Case:
    folder = root / name
    spec = json.loads((folder / "spec.json").read_text())
    data = json.loads((folder / "data.json").read_text())
    ref = json.loads((folder / "reference.json").read_text())
    if (spec["family"], spec["link"]) != ("gaussian", "identity"):
        raise ValueError(f"{name}: only Gaussian identity-link posteriors are supported")

    ev = Evaluator(data)
    n = int(spec["n_obs"])
    y = np.asarray(ev(spec["response"]["expression"]), dtype=float)
    if y.shape != (n,):
        raise ValueError(f"{name}: response has shape {y.shape}, spec says n_obs={n}")

    cols, names, priors, stan_names = [], [], {}, {}
    for col in spec["design_columns"]:
        value = ev(col["expression"])
        if np.ndim(value) == 0:  # "1": the intercept
            value = np.full(n, float(value))
        value = np.asarray(value, dtype=float)
        if value.shape != (n,):
            raise ValueError(f"{name}: column {col['name']!r} has shape {value.shape}")
        if col["name"] in priors:
            raise ValueError(f"{name}: duplicate column name {col['name']!r}")
        cols.append(value)
        names.append(col["name"])
        priors[col["name"]] = coef_prior(col["prior"])
        stan_names[col["name"]] = col["stan_parameter"]
    X = np.column_stack(cols)
    if X.shape[1] != int(spec["n_coefficients"]):
        raise ValueError(f"{name}: {X.shape[1]} columns, spec says {spec['n_coefficients']}")
    priors["dispersion"] = sigma_prior(spec["dispersion"]["prior"])
    stan_names[SIGMA] = spec["dispersion"]["stan_parameter"]

    # parameter_map (Stan name -> column name) must agree with the design columns
    pmap = spec["parameter_map"]
    for ours, stan in stan_names.items():
        if ours != SIGMA and pmap.get(stan) != ours:
            raise ValueError(f"{name}: parameter_map[{stan!r}] = {pmap.get(stan)!r}, "
                             f"design column is {ours!r}")
    if set(pmap) != set(stan_names.values()):
        raise ValueError(f"{name}: parameter_map names {sorted(pmap)}, spec defines "
                         f"{sorted(stan_names.values())}")

    reference = {ours: ref["parameters"][stan] for ours, stan in stan_names.items()}
    if set(ref["parameters"]) != set(stan_names.values()):
        raise ValueError(f"{name}: reference.json parameters {sorted(ref['parameters'])} differ "
                         f"from the spec's {sorted(stan_names.values())}")
    for ours, r in reference.items():
        if not all(math.isfinite(r[k]) for k in ("mean", "sd", "q05", "q50", "q95", "ess_mean")):
            raise ValueError(f"{name}: non-finite reference summary for {ours!r}")
    return Case(name, y, X, names, priors, stan_names, reference, spec)
