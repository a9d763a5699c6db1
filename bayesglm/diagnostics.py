"""Convergence diagnostics of many parameters at once: ArviZ's rank-normalised R-hat and bulk and
tail ESS (Vehtari et al. 2021), vectorised over the parameters.

``az.summary`` computes them one scalar parameter at a time in Python; a model with 1e5 group
levels has 1e5 such parameters, which took it more than 5 minutes for 1e5 x 40 draws. Here
every step works on a (chains, draws, K) block of K parameters at once, in blocks of at most
``BLOCK_BYTES``; the numbers are ArviZ's (the same ranks, Blom's back-transform, split chains,
FFT autocovariances, Geyer's initial positive and monotone sequences, type-7 quantiles;
``tests/unit/test_diagnostics.py`` compares them with ArviZ's to 1e-10).

The ranks are still the cost (a sort per parameter: 1e5 parameters x 4,000 draws took 6
minutes for R-hat and both ESS on 2 cores), so :func:`diagnostics` gives a variable of more
than ``RANKED_MAX`` scalars (the group effects of a model with many levels) the classic split
R-hat alone (Gelman et al., BDA3, 11.4: chain halves' means and variances, seconds at that
size) and no ESS.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["rhat", "split_rhat", "ess_bulk", "ess_tail", "ess_mean", "mcse_mean", "hdi",
           "Variable", "labels", "variables", "diagnostics", "summary", "BLOCK_BYTES",
           "RANKED_MAX", "RHAT_MAX"]

#: the largest (chains, draws, K) block of draws the functions work on at once
BLOCK_BYTES = 256 * 2**20
#: a variable of more scalars than this gets the classic split R-hat alone (:func:`diagnostics`)
RANKED_MAX = 5_000


#: R-hat above this says the chains disagree (Vehtari et al. 2021's threshold): the
#: ``SamplingWarning`` of :func:`bayesglm.bayes_results.check_draws`, and ``fit(ess=...)`` does
#: not stop sampling before every parameter is below it
RHAT_MAX = 1.01


def _split(x: np.ndarray) -> np.ndarray:
    """(chains, draws, K) -> (2 chains, draws // 2, K): each chain's two halves (ArviZ's
    ``_split_chains``: an odd draw in the middle is left out)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """The normal scores of each column's pooled ranks (average ranks for ties, Blom's 3/8)."""
    c, n, k = x.shape
    r = _average_ranks(x.reshape(c * n, k))
    return special.ndtri((r - 3 / 8) / (c * n - 2 * 3 / 8 + 1)).reshape(c, n, k)


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..N down each column of (N, K), ties given their average rank (SciPy's
    ``rankdata(method="average", axis=0)``, which ArviZ uses; a column with a NaN is all NaN)."""
    n = a.shape[0]
    order = np.argsort(a, axis=0, kind="stable")
    s = np.take_along_axis(a, order, axis=0)
    pos = np.broadcast_to(np.arange(n)[:, None], a.shape)
    starts = np.ones(a.shape, dtype=bool)  # the first of each run of equal values
    starts[1:] = s[1:] != s[:-1]
    ends = np.ones(a.shape, dtype=bool)  # the last of each run
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, pos, n)[::-1], axis=0)[::-1]
    ranks = np.empty(a.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=0)
    ranks[:, np.isnan(a).any(axis=0)] = np.nan
    return ranks


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.var(x, axis=1, ddof=1).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant column: NaN, as ArviZ
        return np.sqrt((between / within + n - 1) / n)


def _ess(x: np.ndarray) -> np.ndarray:
    """ArviZ's ``_ess`` of each column of (chains, draws, K)."""
    c, n, k = x.shape
    m = 2 * n
    centred = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=1)
    acov = np.fft.irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n  # (c, n, k)
    mean_acov = acov.mean(axis=0)  # (n, k)
    mean_var = mean_acov[0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if c > 1:
        var_plus = var_plus + np.var(x.mean(axis=1), axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - mean_acov) / var_plus  # (n, k)
    rho[0] = 1.0
    kept = np.zeros_like(rho)
    kept[0], kept[1] = 1.0, rho[1]
    # Geyer's initial positive sequence: pairs (t + 1, t + 2) kept while the sums stay >= 0,
    # the loop running while the previous pair's sum is > 0
    even, odd = np.ones(k), rho[1].copy()
    running = np.ones(k, dtype=bool)
    max_t = np.full(k, -1)  # t - 2 when the loop stops
    t = 1
    while t < n - 3:
        running &= (even + odd) > 0.0
        if not running.any():
            break
        e, o = rho[t + 1], rho[t + 2]
        even = np.where(running, e, even)
        odd = np.where(running, o, odd)
        keep = running & ((e + o) >= 0)
        kept[t + 1] = np.where(keep, e, kept[t + 1])
        kept[t + 2] = np.where(keep, o, kept[t + 2])
        max_t = np.where(running, t, max_t)
        t += 2
    # ArviZ's max_t is the t of a column's last pass (-1: none)
    improve = even > 0
    kept[(max_t + 1)[improve], np.arange(k)[improve]] = even[improve]
    # Geyer's initial monotone sequence
    t = 1
    top = int(max_t.max()) if k else 0
    while t <= top - 2:
        active = t <= max_t - 2
        prev = kept[t - 1] + kept[t]
        nxt = kept[t + 1] + kept[t + 2]
        fix = active & (nxt > prev)
        kept[t + 1] = np.where(fix, prev / 2.0, kept[t + 1])
        kept[t + 2] = np.where(fix, prev / 2.0, kept[t + 2])
        t += 2
    lag = np.arange(n)[:, None]
    tau = (-1.0 + 2.0 * np.where(lag <= max_t, kept, 0.0).sum(axis=0)
           + np.where(lag == max_t + 1, kept, 0.0).sum(axis=0))
    total = c * n
    tau = np.maximum(tau, 1 / np.log10(total))
    ess = total / tau
    ess[np.isnan(kept).any(axis=0)] = np.nan
    flat = (x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution
    ess[flat] = total
    return ess


def _blocks(x: np.ndarray):
    c, n, k = x.shape
    step = max(1, int(BLOCK_BYTES // max(1, c * n * 8 * 4)))
    for a in range(0, k, step):
        yield slice(a, min(k, a + step))


def _per_block(x, fn, min_chains: int) -> np.ndarray:
    """``fn`` of each block of columns of ``x`` (chains, draws, K), as floats; NaN for every
    column with fewer than ``min_chains`` chains or 4 draws (ArviZ's rule)."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape[2], np.nan)
    if x.shape[0] >= min_chains and x.shape[1] >= 4:
        for s in _blocks(x):
            out[s] = fn(x[:, :, s])
    return out


def _rank_rhat(b: np.ndarray) -> np.ndarray:
    sp = _split(b)
    folded = np.abs(sp - np.median(sp.reshape(-1, sp.shape[2]), axis=0))
    return np.maximum(_rhat(_z_scale(sp)), _rhat(_z_scale(folded)))


def _type7(x: np.ndarray, p: float) -> np.ndarray:
    return np.quantile(x.reshape(-1, x.shape[2]), p, axis=0, method="linear")


def _tail_ess(b: np.ndarray) -> np.ndarray:
    low = _ess(_split((b <= _type7(b, 0.05)).astype(float)))
    high = _ess(_split((b <= _type7(b, 0.95)).astype(float)))
    # a NaN draw makes the indicators all False, which would read as a constant column
    return np.where(np.isnan(b).any(axis=(0, 1)), np.nan, np.minimum(low, high))


def rhat(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat (the larger of the bulk's and the folded draws'), per column
    of ``x`` (chains, draws, K); NaN with fewer than 2 chains or 4 draws."""
    return _per_block(x, _rank_rhat, min_chains=2)


def split_rhat(x: np.ndarray) -> np.ndarray:
    """The classic split R-hat (no ranks) per column of (chains, draws, K); NaN with fewer
    than 2 chains or 4 draws."""
    return _per_block(x, lambda b: _rhat(_split(b)), min_chains=2)


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Bulk ESS (the ESS of the rank-normalised split chains), per column of (chains, draws, K)."""
    return _per_block(x, lambda b: _ess(_z_scale(_split(b))), min_chains=1)


def ess_tail(x: np.ndarray) -> np.ndarray:
    """Tail ESS: the smaller ESS of the indicators below the 5% and 95% quantiles."""
    return _per_block(x, _tail_ess, min_chains=1)


def ess_mean(x: np.ndarray) -> np.ndarray:
    """The ESS of the mean (of the split chains, not ranked: ArviZ's ``method="mean"``), per
    column of (chains, draws, K)."""
    return _per_block(x, lambda b: _ess(_split(b)), min_chains=1)


def mcse_mean(x: np.ndarray) -> np.ndarray:
    """The Monte Carlo standard error of the mean (ArviZ's: sd / sqrt(ESS of the mean)), per
    column of (chains, draws, K)."""
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1, x.shape[2])
    with np.errstate(invalid="ignore", divide="ignore"):
        return flat.std(axis=0, ddof=1) / np.sqrt(ess_mean(x))


def hdi(x: np.ndarray, prob: float) -> np.ndarray:
    """The highest-density interval of each column of (chains, draws, K), as (K, 2): ArviZ's
    (``az.hdi``, unimodal): the narrowest interval of ``floor(prob * N)`` + 1 sorted draws."""
    x = np.asarray(x, dtype=float)
    s = np.sort(x.reshape(-1, x.shape[2]), axis=0)
    n = s.shape[0]
    inc = int(np.floor(prob * n))
    if n - inc <= 0:
        raise ValueError("Too few draws for an interval of probability "
                         f"{prob!r} ({n} draws)")
    width = s[inc:] - s[:n - inc]
    low = np.argmin(width, axis=0)
    cols = np.arange(s.shape[1])
    return np.stack([s[low, cols], s[low + inc, cols]], axis=1)


class Variable(NamedTuple):
    """A posterior variable: its draws (chains, draws, K) and ArviZ's labels of its K scalars
    (``name``, ``name[a]``, ``name[a, b]``)."""

    name: str
    draws: np.ndarray
    labels: list


def labels(name: str, dims, coords: dict, shape) -> list:
    """ArviZ's labels of a variable's scalars, C order over its dimensions ``dims`` (besides
    chain and draw) of sizes ``shape``; a dimension without ``coords`` is numbered from 0."""
    if not dims:
        return [name]
    grids = np.meshgrid(*[np.asarray(coords[d]) if d in coords else np.arange(size)
                          for d, size in zip(dims, shape)], indexing="ij")
    flat = [g.reshape(-1) for g in grids]
    return [f"{name}[{', '.join(str(v[i]) for v in flat)}]" for i in range(flat[0].size)]


def variables(posterior, names=None) -> list:
    """The :class:`Variable` s of an InferenceData's posterior (an ``xarray.Dataset`` with chain
    and draw dimensions), all or those ``names``, in that order."""
    out = []
    for name in (list(posterior.data_vars) if names is None else names):
        da = posterior[name].transpose("chain", "draw", ...)
        dims = [d for d in da.dims if d not in ("chain", "draw")]
        x = np.asarray(da.values)
        coords = {d: da.coords[d].values for d in dims if d in da.coords}
        out.append(Variable(name, x.reshape(x.shape[0], x.shape[1], -1),
                            labels(name, dims, coords, x.shape[2:])))
    return out


def _as_variables(posterior) -> list:
    return list(posterior) if isinstance(posterior, (list, tuple)) else variables(posterior)


def diagnostics(posterior) -> pd.DataFrame:
    """``ess_bulk``, ``ess_tail`` and ``r_hat`` of every scalar of a posterior (an InferenceData's
    ``xarray.Dataset``, or a list of :class:`Variable` s), as ``az.summary(kind="diagnostics")``
    lays them out; a variable of more than :data:`RANKED_MAX` scalars has the classic split
    R-hat and no ESS (NaN)."""
    frames = []
    for v in _as_variables(posterior):
        x = v.draws
        if x.shape[2] > RANKED_MAX:
            cols = {"ess_bulk": np.nan, "ess_tail": np.nan, "r_hat": split_rhat(x)}
        else:
            cols = {"ess_bulk": ess_bulk(x), "ess_tail": ess_tail(x), "r_hat": rhat(x)}
        frames.append(pd.DataFrame(cols, index=v.labels))
    return pd.concat(frames) if frames else pd.DataFrame(columns=["ess_bulk", "ess_tail",
                                                                  "r_hat"])


def summary(posterior, hdi_prob: float) -> pd.DataFrame:
    """``az.summary(..., round_to="none")``'s ``mean``, ``sd``, HDI bounds (``hdi_3%``,
    ``hdi_97%`` for 0.94), ``mcse_mean``, ``ess_bulk``, ``ess_tail`` and ``r_hat`` of every
    scalar of a posterior (as :func:`diagnostics` takes it), without ArviZ (whose import is
    most of a new process's first fit) and vectorised over the scalars."""
    lo = 100 * (1 - hdi_prob) / 2
    frames = []
    for v in _as_variables(posterior):
        x = np.asarray(v.draws, dtype=float)
        flat = x.reshape(-1, x.shape[2])
        interval = hdi(x, hdi_prob)
        frames.append(pd.DataFrame({
            "mean": flat.mean(axis=0), "sd": flat.std(axis=0, ddof=1),
            f"hdi_{lo:g}%": interval[:, 0], f"hdi_{100 - lo:g}%": interval[:, 1],
            "mcse_mean": mcse_mean(x)}, index=v.labels))
    table = pd.concat(frames)
    return pd.concat([table, diagnostics(posterior)], axis=1)
