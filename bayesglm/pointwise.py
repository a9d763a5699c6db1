"""Quantities over every draw and every row, computed in chunks within a memory budget.

PSIS-LOO and WAIC need each observation's log-likelihood under every draw, and y_rep is one
value per draw and row: at n = 1e6 rows and 4000 draws either is 32 GB. Materialised at once
that can exhaust memory, and XLA aborts the whole process (SIGABRT) when an allocation fails.
Here

* :func:`loo` and :func:`waic` go through the rows in chunks whose working set (about
  :data:`LOO_COPIES` float64 copies of a draws x rows block) fits the budget; each row's PSIS
  smoothing needs only that row's draws, so the result is ArviZ's ``az.loo``/``az.waic`` on the
  whole matrix, to rounding;
* :func:`draw_y` allocates y_rep only after checking that it fits the budget (else a
  ``MemoryError`` giving its size and the remedy, before anything is allocated), and draws it in
  chunks of draws; each draw has its own random generator (seeded by the seed and the draw's
  number), so y_rep does not depend on the chunking, and ``thin`` keeps a subset of the same
  draws.

The budget (:func:`memory_budget`) is half the memory available now (``MemAvailable`` of
``/proc/meminfo`` and the cgroup's limit where there is one, else ``os.sysconf``), at most
:data:`MEMORY_CAP`; every function takes ``budget=`` (bytes) to choose another.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import jax
import numpy as np
from scipy.special import logsumexp

from ._warnings import warn
from ._xla import jit
from .families import Family
from .problem import Problem, eta_draws, loglik_rows, pad_rows, rows

__all__ = ["MEMORY_CAP", "LOO_COPIES", "PPC_COPIES", "available_memory", "memory_budget",
           "format_bytes", "rows_per_chunk", "loglik_draws", "loo", "waic", "draw_y"]

#: the most the default budget allows, whatever the machine has (8 GB)
MEMORY_CAP = 8 * 10**9
#: float64 (draws x rows) blocks of a chunk counted in LOO/WAIC: the device result and its host
#: copy, the transposed block, -log-lik, PSIS's copy and output, logsumexp's temporaries (8),
#: and the compiled map's buffers: measured peak memory (n = 20,000, 4000 draws, budgets of 100
#: and 200 MB) was 1.1-1.4 times the budget with 8, so 12
LOO_COPIES = 12
#: float64 (draws x rows) blocks alive at once while drawing y_rep, besides y_rep itself:
#: eta and the mean on the device, the mean's host copy, and room for the sampler's temporaries
PPC_COPIES = 4
_FLOAT = 8  # bytes
#: a word of every y_rep generator's seed: a random stream of its own, apart from the sampler's
_PPC_STREAM = 0x79726570


# -- the budget --------------------------------------------------------------------------------
def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_free() -> int | None:
    """Memory left under this process's cgroup limit (v2, then v1), if it has one."""
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        lim, used = _read_int(limit), _read_int(usage)
        if lim is not None and used is not None and lim < 1 << 60:
            return max(lim - used, 0)
    return None


def available_memory() -> int | None:
    """Bytes of memory available to this process now, or None where that cannot be read."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    cg = _cgroup_free()
    if cg is not None:
        found.append(cg)
    return min(found) if found else None


def memory_budget() -> int:
    """Bytes one LOO/WAIC/y_rep computation may use: half the available memory, at most
    :data:`MEMORY_CAP` (a quarter of the cap where the available memory cannot be read)."""
    avail = available_memory()
    if avail is None:
        return MEMORY_CAP // 4
    return max(min(avail // 2, MEMORY_CAP), 1)


def format_bytes(n: float) -> str:
    """``3.2 GB``, ``512 MB``, ``40 kB``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def _budget_text(given, budget: int) -> str:
    """``budget`` (bytes, as checked) described for an error; ``given`` what the caller passed."""
    how = ("half the available memory, at most " + format_bytes(MEMORY_CAP) if given is None
           else "memory_budget=")
    return f"the memory budget of {format_bytes(budget)} ({how})"


def _budget(budget) -> int:
    if budget is None:
        return memory_budget()
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {budget!r}")
    return int(budget)


def rows_per_chunk(n_draws: int, n_rows: int, budget: int, copies: int = LOO_COPIES) -> int:
    """Rows per chunk so that ``copies`` (draws x rows) float64 blocks fit ``budget`` bytes."""
    per_row = n_draws * _FLOAT * copies
    return int(min(n_rows, budget // per_row))


# -- log-likelihood in row chunks --------------------------------------------------------------
@jit(static_argnames=("family",))
def _loglik_draws(family, beta, disp, data: Problem, effects=()):
    def one(b, d, e):
        ll = loglik_rows(family, data, b, d, e)
        return ll if data.weights is None else ll * data.weights

    return jax.lax.map(lambda a: one(*a), (beta, disp, effects), batch_size=64)


def _flat_draws(beta, disp, effects):
    """(chains, draws, ...) -> (chains * draws, ...) of each."""
    c, s = beta.shape[:2]
    flat = lambda a: None if a is None else a.reshape((c * s,) + a.shape[2:])  # noqa: E731
    return flat(beta), flat(disp), tuple(flat(e) for e in effects)


def loglik_draws(family: Family, data: Problem, beta: np.ndarray, disp,
                 effects=()) -> np.ndarray:
    """log p(y_i | draw) for every draw: (chains, draws, n), weighted by frequency weights.

    ``data`` with X (device or host arrays); ``disp`` the dispersion's draws or None;
    ``effects`` the group terms' effects, (chains, draws, levels, q) each.
    """
    c, s, _ = beta.shape
    b, d, e = jax.device_put(_flat_draws(beta, disp, effects))
    return np.asarray(_loglik_draws(family, b, d, data, e)).reshape(c, s, -1)


def _loglik_chunks(family, data: Problem, beta, disp, budget: int, what: str, effects=()):
    """Yield ``(start, stop, ll)`` with ll (draws, stop - start): log p(y_i | draw), weighted."""
    c, s, _ = beta.shape
    n = data.nobs
    given, budget = budget, _budget(budget)
    size = rows_per_chunk(c * s, n, budget)
    if size < 1:
        raise MemoryError(
            f"{what} needs {format_bytes(c * s * _FLOAT * LOO_COPIES)} for a single row "
            f"({c * s} draws), more than {_budget_text(given, budget)}: pass a larger "
            "memory_budget= (bytes), or thin the draws"
        )
    for start in range(0, n, size):
        stop = min(start + size, n)
        ll = loglik_draws(family, rows(data, start, stop, size), beta, disp, effects)
        yield start, stop, ll.reshape(c * s, size)[:, : stop - start]


def _scale_value(scale: str) -> int:
    values = {"deviance": -2, "log": 1, "negative_log": -1}
    if scale not in values:
        raise TypeError('Valid scale values are "deviance", "log", "negative_log"')
    return values[scale]


def _pointwise_array(values, obs_index, name):
    import xarray as xr

    return xr.DataArray(values, dims=["obs"], coords={"obs": np.asarray(obs_index)}, name=name)


def loo(family: Family, data: Problem, beta: np.ndarray, disp, *, reff: float, obs_index,
        scale: str = "log", pointwise: bool = False, budget=None, effects=()):
    """PSIS-LOO as ``az.loo`` (same ELPDData fields and warning), the rows taken in chunks.

    ``beta`` is (chains, draws, p), ``disp`` (chains, draws) or None, ``effects`` the group
    terms' (chains, draws, levels, q) draws; ``reff`` the relative efficiency ArviZ computes
    from the posterior (mean ESS / draws).
    """
    import arviz as az

    scale_value = _scale_value(scale)
    n = data.nobs
    n_samples = beta.shape[0] * beta.shape[1]
    loo_i = np.empty(n)
    lppd_i = np.empty(n)
    k_hat = np.empty(n)
    for start, stop, ll in _loglik_chunks(family, data, beta, disp, budget, "loo()", effects):
        llt = np.ascontiguousarray(ll.T)  # (rows, draws): PSIS works on the last axis
        del ll
        lw, k = az.psislw(-llt, reff)
        lw += llt
        loo_i[start:stop] = logsumexp(lw, axis=-1)
        del lw
        lppd_i[start:stop] = logsumexp(llt, axis=-1) - math.log(n_samples)
        k_hat[start:stop] = k
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    flagged = bool(np.any(k_hat > good_k))
    if flagged:  # ArviZ's warning, once
        warn(
            f"Estimated shape parameter of Pareto distribution is greater than {good_k:.2f} "
            "for one or more samples. You should consider using a more robust model, this is "
            "because importance sampling is less likely to work well if the marginal posterior "
            "and LOO posterior are very different. This is more likely to happen with a "
            "non-robust model and highly influential observations.", UserWarning,
        )
    loo_i *= scale_value
    elpd = loo_i.sum()
    se = (n * np.var(loo_i)) ** 0.5
    p_loo = lppd_i.sum() - elpd / scale_value
    data_ = [elpd, se, p_loo, n_samples, n, flagged]
    index = ["elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning"]
    if pointwise:
        data_ += [_pointwise_array(loo_i, obs_index, "loo_i"),
                  _pointwise_array(k_hat, obs_index, "pareto_shape")]
        index += ["loo_i", "pareto_k"]
    return az.ELPDData(data=data_ + [scale, good_k], index=index + ["scale", "good_k"])


def waic(family: Family, data: Problem, beta: np.ndarray, disp, *, obs_index,
         scale: str = "log", pointwise: bool = False, budget=None, effects=()):
    """WAIC as ``az.waic`` (same ELPDData fields and warning), the rows taken in chunks."""
    import arviz as az

    scale_value = _scale_value(scale)
    n = data.nobs
    n_samples = beta.shape[0] * beta.shape[1]
    lppd_i = np.empty(n)
    var_i = np.empty(n)
    for start, stop, ll in _loglik_chunks(family, data, beta, disp, budget, "waic()", effects):
        lppd_i[start:stop] = logsumexp(ll, axis=0) - math.log(n_samples)
        var_i[start:stop] = ll.var(axis=0)
    flagged = bool(np.any(var_i > 0.4))
    if flagged:
        warn(
            "For one or more samples the posterior variance of the log predictive "
            "densities exceeds 0.4. This could be indication of WAIC starting to fail. \n"
            "See http://arxiv.org/abs/1507.04544 for details", UserWarning,
        )
    waic_i = scale_value * (lppd_i - var_i)
    data_ = [waic_i.sum(), (n * np.var(waic_i)) ** 0.5, var_i.sum(), n_samples, n, flagged]
    if pointwise:
        return az.ELPDData(
            data=data_ + [_pointwise_array(waic_i, obs_index, "waic_i"), scale],
            index=["elpd_waic", "se", "p_waic", "n_samples", "n_data_points", "warning",
                   "waic_i", "scale"],
        )
    return az.ELPDData(data=data_ + [scale],
                       index=["waic", "se", "p_waic", "n_samples", "n_data_points", "warning",
                              "scale"])


# -- y_rep in chunks of draws ------------------------------------------------------------------
@jit(static_argnames=("family",))
def _means(family, beta, X, offset, groups=(), effects=()):
    """mu (draws, rows) for a block of draws."""
    return family.link.inverse(eta_draws(beta, X, offset, groups, effects))


def draw_y(family: Family, data: Problem, beta: np.ndarray, disp, *, seed: int, thin: int = 1,
           budget=None, what: str = "posterior_predictive()", effects=()) -> np.ndarray:
    """Replicated responses y_rep, (chains, ceil(draws / thin), n): one per kept draw and row,
    on the observed scale (Binomial: success counts), by ``Family.draw``.

    ``data``: host arrays with X; ``disp``: the dispersion parameter's draws or None;
    ``effects``: the group terms' (chains, draws, levels, q) draws.

    Draw ``d`` of chain ``c`` has its own generator, seeded by ``(seed, stream, c * draws +
    d)``, so the result is the same in any chunking and thinning keeps those very values.
    Raises ``MemoryError`` (before allocating) when y_rep would not fit ``budget``.
    """
    given, budget = budget, _budget(budget)
    c, s, p = beta.shape
    n = data.nobs
    kept = len(range(0, s, thin))
    need = c * kept * n * _FLOAT
    per_draw = n * _FLOAT * PPC_COPIES
    if need + per_draw > budget:
        ratio = math.ceil((need + per_draw) / budget)
        raise MemoryError(
            f"{what} needs {format_bytes(need)} for y_rep ({c * kept} draws x {n:,} rows, "
            f"float64) plus {format_bytes(per_draw)} per draw while drawing, more than "
            f"{_budget_text(given, budget)}: keep fewer draws with thin= (thin={thin * ratio} "
            f"needs about {format_bytes(need / ratio)}), or fit with fewer draws, or pass a "
            "larger memory_budget= (bytes)"
        )
    ids = (np.arange(c)[:, None] * s + np.arange(0, s, thin)[None, :]).reshape(-1)
    b = beta[:, ::thin].reshape(-1, p)
    d = None if disp is None else disp[:, ::thin].reshape(-1)
    e = tuple(np.asarray(x)[:, ::thin].reshape((-1,) + x.shape[2:]) for x in effects)
    size = int(min(len(ids), max(1, (budget - need) // per_draw)))
    X = jax.device_put(data.X)
    off = None if data.offset is None else jax.device_put(data.offset)
    groups = jax.device_put(data.groups)
    trials = None if data.trials is None else np.asarray(data.trials)
    out = np.empty((len(ids), n))
    for start in range(0, len(ids), size):
        stop = min(start + size, len(ids))
        mu = np.asarray(_means(family, pad_rows(b, start, stop, size), X, off, groups,
                               tuple(pad_rows(x, start, stop, size) for x in e)))
        for j in range(stop - start):
            i = start + j
            rng = np.random.Generator(np.random.PCG64([seed, _PPC_STREAM, int(ids[i])]))
            phi = family.fixed_scale() if d is None else family.scale_from_dispersion(d[i])
            out[i] = family.draw(rng, mu[j], phi, trials)
        del mu
    return out.reshape(c, kept, n)
