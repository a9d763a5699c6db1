"""Rows split across JAX devices: when a fit does it, and how the arrays are placed.

The likelihood of a GLM is a sum over rows, so its rows can live on several devices: each
device sums its own rows' share of X'WX, X'Wz, the deviance and the domain checks, and one
``psum`` over the mesh axis :data:`ROWS` adds the shares (``bayesglm.irls.irls_sharded``). The
p x p solve is then the same on every device. This module owns the rule of when that happens
(:func:`row_devices`) and the placement (:func:`put_rows`): shard ``i`` holds rows
``[i m, (i + 1) m)`` with ``m`` about ``n / k`` (a multiple of 8); the shards past row n (the
last one, or for small n the last few) are padded with copies of the last row whose prior
weight is 0 (a copy of a valid row: its eta and mu stay in their domains, and it adds nothing
to any sum), so only those shards are ever copied on the host. A NumPy shard that is
C-ordered and 64-byte aligned is used in place by a CPU device (no copy).
"""

from __future__ import annotations

import math
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

__all__ = ["ROWS", "SHARD_MIN_ROWS", "row_devices", "sampler_devices", "block_devices",
           "put_rows", "RowShards", "gather_processes", "sum_processes", "padded"]

#: the mesh axis of the row shards
ROWS = "rows"

#: below this many rows a fit stays on one device (the psum and the per-device dispatch cost
#: more than the split saves); ``BAYESGLM_SHARD_MIN_ROWS`` overrides it
SHARD_MIN_ROWS = 1 << 18


def _min_rows() -> int:
    text = os.environ.get("BAYESGLM_SHARD_MIN_ROWS", "").strip()
    if not text:
        return SHARD_MIN_ROWS
    if not text.isdigit():
        raise ValueError(f"the environment variable BAYESGLM_SHARD_MIN_ROWS must be a number of "
                         f"rows, got {text!r}")
    return int(text)


def padded(a: np.ndarray, size: int, fill=None, last=None) -> np.ndarray:
    """``a`` (rows, ...) grown to ``size`` rows (one program shape for every block or shard):
    copies of its last row (of ``last``'s where ``a`` has none), or ``fill``. Where the rows'
    prior weights are 0 a copied row adds nothing to any sum, and its eta and mu stay in their
    domains (a row of zeros would not, for the identity or inverse links)."""
    extra = size - a.shape[0]
    if extra == 0:
        return a
    if fill is None:
        src = a if a.shape[0] or last is None else last
        tail = np.repeat(src[-1:], extra, axis=0)
    else:
        tail = np.full((extra,) + a.shape[1:], fill, dtype=a.dtype)
    return np.concatenate([a, tail])


def row_devices(n: int, devices=None) -> tuple | None:
    """The devices a fit of ``n`` rows splits its rows over, or None for one device.

    Parameters
    ----------
    n : int
        Rows of the data.
    devices : None, int or sequence of jax.Device
        None: every device of JAX's default backend in this process (``jax.local_devices()``)
        when there is more than one and ``n`` is at least :data:`SHARD_MIN_ROWS`
        (``BAYESGLM_SHARD_MIN_ROWS``); an int: that many of them (1: no split); a sequence:
        those devices.
    """
    if devices is None:
        found = jax.local_devices()
        return tuple(found) if len(found) > 1 and n >= _min_rows() else None
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        found = jax.local_devices()
        if not 1 <= devices <= len(found):
            raise ValueError(f"devices: must be between 1 and the {len(found)} devices JAX has "
                             f"({found[0].platform}), got {devices}")
        return tuple(found[:devices]) if devices > 1 else None
    try:
        chosen = tuple(devices)
    except TypeError:
        raise TypeError(f"devices: None, a number of devices or a list of jax devices, got "
                        f"{devices!r}") from None
    if not chosen or not all(isinstance(d, jax.Device) for d in chosen):
        raise TypeError(f"devices: a list of jax devices (jax.devices()), got {devices!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError("devices: the list names a device more than once")
    return chosen if len(chosen) > 1 else None


def sampler_devices(n: int, chains: int, devices=None) -> tuple | None:
    """The devices the sampler splits each chain's rows over, or None (each chain's rows on one
    device).

    ``devices`` as in :func:`row_devices`, except that None (automatic) splits only where the
    chains cannot each have a device of their own (fewer devices than chains) and the backend
    is not the CPU: there a chain per device needs no communication, and bayesglm's host
    devices on a CPU are for parallel chains: on 2 cores, a logistic fit (n = 1e5, p = 10, 4
    chains) took 3.7-5.1 s with a chain per host device and 11.9-14.0 s with every chain's rows
    over the 4 host devices (chains in threads; 2026-12-04).
    """
    if devices is not None:
        return row_devices(n, devices)
    found = jax.local_devices()
    if found[0].platform == "cpu" or len(found) >= chains:
        return None
    return row_devices(n, None)


def block_devices(devices=None) -> tuple:
    """The devices that blocks of rows read one at a time take turns on (out-of-core IRLS):
    None, every device of JAX's default backend in this process; an int or a list as in
    :func:`row_devices` (no threshold: a block is large already)."""
    if devices is None:
        return tuple(jax.local_devices())
    chosen = row_devices(1, devices)
    if chosen is None:  # one device
        one = isinstance(devices, (int, np.integer))
        chosen = (jax.local_devices()[0] if one else tuple(devices)[0],)
    return chosen


class RowShards:
    """The placement of ``n`` rows on ``devices``: ``k`` shards of ``m`` rows, the last padded
    by ``pad`` rows."""

    def __init__(self, n: int, devices: tuple):
        self.n, self.devices = n, tuple(devices)
        self.k = len(self.devices)
        # a multiple of 8 rows: every shard of a C-ordered float64 array then starts 64-byte
        # aligned where the array does (used in place on a CPU device)
        self.m = 8 * math.ceil(n / (8 * self.k))
        self.pad = self.m * self.k - n
        self.mesh = Mesh(np.array(self.devices), (ROWS,))

    def spec(self, ndim: int) -> P:
        return P(ROWS, *([None] * (ndim - 1)))

    def put(self, a: np.ndarray, fill=None) -> jax.Array:
        """``a`` (n, ...) as one array sharded by rows; padding rows repeat the last row, or are
        ``fill``."""
        parts = []
        for i, dev in enumerate(self.devices):
            block = padded(a[i * self.m:(i + 1) * self.m], self.m, fill, last=a)
            parts.append(jax.device_put(block, dev))
        shape = (self.m * self.k,) + a.shape[1:]
        return jax.make_array_from_single_device_arrays(
            shape, NamedSharding(self.mesh, self.spec(a.ndim)), parts)


    def gather(self, a: jax.Array) -> jax.Array:
        """A row-sharded vector's first ``n`` rows as one array on the default device: the
        shards copied into one 64-byte aligned host buffer, which a CPU device then uses in
        place (one copy of the vector, none on the way)."""
        from .design import aligned

        out = aligned(None, shape=(self.n,))
        for shard in a.addressable_shards:
            lo = shard.index[0].start or 0
            hi = min(lo + self.m, self.n)
            if hi > lo:
                out[lo:hi] = np.asarray(shard.data)[:hi - lo]
        return jax.device_put(out)


def put_rows(shards: RowShards, X, y, offset, prior_weights):
    """(X, y, offset, prior weights) placed by rows; where rows are padded the prior weights
    exist (1 where they were None) and are 0 on the padding."""
    if prior_weights is None and shards.pad:
        prior_weights = np.ones(shards.n)
    return (shards.put(X), shards.put(y), None if offset is None else shards.put(offset),
            None if prior_weights is None else shards.put(prior_weights, 0.0))


def gather_processes(tree):
    """Every JAX process's values of ``tree`` (a pytree of host numbers of the same shapes in
    every process), stacked on a new first axis in process order (``jax.distributed`` must be
    initialised where there are several processes; one process: its own values)."""
    if jax.process_count() == 1:
        return jax.tree_util.tree_map(lambda a: np.asarray(a)[None], tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree)


def sum_processes(tree):
    """The sum of ``tree`` over every JAX process (see :func:`gather_processes`)."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a).sum(axis=0), gather_processes(tree))
