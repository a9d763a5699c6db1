"""Data read a block of rows at a time: numpy arrays, memmaps and ``.npy`` files, or Parquet files.

A :class:`Source` knows the number of rows and the columns' names and yields raw row blocks;
:func:`device_blocks` validates each block with :func:`bayesglm.design.make_design` (the one
owner of the input rules: its messages name the column and the row, counted in the whole data
set) and puts it on the device as IRLS problem data, padded to a fixed number of rows so that
every block runs the same compiled program. Memory is one or two blocks, whatever the number
of rows (a memmap's pages are the operating system's file cache, which it reclaims under
pressure).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import jax
import numpy as np

from .design import aligned, make_design, naming
from .irls import IRLSData
from .sharding import padded

__all__ = ["Source", "ArraySource", "ParquetSource", "Block", "Scan", "device_blocks",
           "default_block_rows", "EXTRAS"]

#: the per-row arguments besides the response and the design, as ``make_design`` names them
EXTRAS = ("offset", "exposure", "weights", "trials")

#: bytes of the design per block when ``chunk_rows`` is not given (~32 MB: large enough that
#: the per-block dispatch is noise, small enough for any machine)
BLOCK_BYTES = 32 * 2**20


def default_block_rows(p: int, nobs: int) -> int:
    """Rows per block: a power of two near ``BLOCK_BYTES`` of float64 design, at most ``nobs``
    rounded up to a power of two."""
    want = max(1024, BLOCK_BYTES // (8 * max(p, 1)))
    rows = 1 << int(np.log2(want))
    return int(min(rows, 1 << int(np.ceil(np.log2(max(nobs, 1))))))


class Source:
    """Rows of a GLM's data, read in blocks. ``nobs`` rows, ``names`` the design's columns,
    ``endog_name`` the response's; :meth:`read` yields ``(start, endog, exog, extras)``."""

    nobs: int
    names: tuple[str, ...]
    endog_name: str
    given: frozenset  # the EXTRAS this source has
    generated: bool = False  # names made up (x0, x1, ...)

    def read(self, rows: int) -> Iterator[tuple]:
        raise NotImplementedError


def _open(value, what):
    """An array, or a ``.npy`` file opened as a read-only memmap."""
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise ValueError(f"{what}: cannot open {path!r} as a .npy file ({exc})") from None
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: cannot be read as an array ({exc})") from None


def _file_rows(arr):
    """``(path, offset, bytes per row)`` where ``arr`` is a whole C-ordered memmap of a file
    (what ``np.load(..., mmap_mode="r")`` returns), else None."""
    import mmap

    # not a copy-on-write map ("c"): its edits live in this process only, not in the file
    if (isinstance(arr, np.memmap) and isinstance(arr.base, mmap.mmap)
            and getattr(arr, "mode", None) in ("r", "r+", "w+")
            and arr.flags.c_contiguous and arr.filename and arr.ndim >= 1):
        return arr.filename, int(arr.offset), int(arr.strides[0]) if arr.ndim else 0
    return None


class _Rows:
    """Row slices of an array; of a file's memmap read from the file itself (into a new
    buffer), so that the process maps none of the file's pages (its resident memory stays
    a few blocks; the file cache is the system's)."""

    def __init__(self, arr):
        self.arr = arr
        self.file = _file_rows(arr)

    def __getitem__(self, rows: slice):
        if self.file is None:
            return self.arr[rows]
        path, offset, row_bytes = self.file
        start, stop, _ = rows.indices(self.arr.shape[0])
        shape = (stop - start,) + self.arr.shape[1:]
        # 64-byte aligned (a float64 block is then used in place by the design and the device)
        out = (aligned(None, shape=shape) if self.arr.dtype == np.float64
               else np.empty(shape, dtype=self.arr.dtype))
        view = memoryview(out.reshape(-1).view(np.uint8))
        with open(path, "rb", buffering=0) as f:
            f.seek(offset + start * row_bytes)
            done = 0
            while done < len(view):
                got = f.readinto(view[done:])
                if not got:
                    raise OSError(f"{path}: ended before row {stop}")
                done += got
        return out


class ArraySource(Source):
    """NumPy arrays, memmaps or ``.npy`` paths of equal length (blocks are slices)."""

    def __init__(self, endog, exog, extras: dict, names=None):
        self.endog = _open(endog, "endog")
        self.exog = _open(exog, "exog")
        if self.exog.ndim != 2:
            raise ValueError(f"exog: must be a 2-D array (rows x columns), got shape "
                             f"{self.exog.shape}")
        if self.endog.ndim not in (1, 2):
            raise ValueError(f"endog: must be 1-D (or 2 columns [successes, failures]), got "
                             f"shape {self.endog.shape}")
        n, p = self.exog.shape
        if self.endog.shape[0] != n:
            raise ValueError(f"exog has {n} rows but endog has {self.endog.shape[0]}")
        self.extras = {}
        for what, value in extras.items():
            if value is None:
                continue
            arr = _open(value, what)
            if arr.ndim != 1 or arr.shape[0] != n:
                raise ValueError(f"{what}: must be 1-D with {n} rows (as exog), got shape "
                                 f"{arr.shape}")
            self.extras[what] = arr
        self.nobs = int(n)
        self.generated = names is None  # x0, x1, ...: a constant column is then "const"
        self.names = tuple(f"x{j}" for j in range(p)) if names is None else tuple(names)
        if len(self.names) != p:
            raise ValueError(f"names: has {len(self.names)} entries but exog has {p} columns")
        self.endog_name = "y"
        self.given = frozenset(self.extras)

    def read(self, rows):
        endog, exog = _Rows(self.endog), _Rows(self.exog)
        extras = {k: _Rows(v) for k, v in self.extras.items()}
        for start in range(0, self.nobs, rows):
            block = slice(start, min(self.nobs, start + rows))
            yield start, endog[block], exog[block], {k: v[block] for k, v in extras.items()}


class ParquetSource(Source):
    """Columns of one or more Parquet files (read with pyarrow, a batch of rows at a time)."""

    def __init__(self, paths, endog, exog, extras: dict):
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow comes with the test extras
            raise ImportError("reading Parquet files needs pyarrow: pip install pyarrow") from None
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("path: no Parquet files given")
        endog = [endog] if isinstance(endog, str) else list(endog)
        if len(endog) not in (1, 2):
            raise ValueError(f"endog: one column name (or two: successes, failures), got "
                             f"{endog!r}")
        exog = [exog] if isinstance(exog, str) else list(exog)
        if not exog:
            raise ValueError("exog: no columns given; a GLM needs at least one (e.g. a constant)")
        self.extras = {k: v for k, v in extras.items() if v is not None}
        for what, col in self.extras.items():
            if not isinstance(col, str):
                raise TypeError(f"{what}: with Parquet files, the name of a column, got {col!r}")
        self.endog_cols, self.exog_cols = endog, exog
        self.columns = [*endog, *exog, *self.extras.values()]
        n = 0
        for path in self.paths:
            try:
                meta = pq.ParquetFile(path)
            except (OSError, ValueError) as exc:
                raise ValueError(f"path: cannot read {path!r} as Parquet ({exc})") from None
            have = set(meta.schema_arrow.names)
            missing = [c for c in self.columns if c not in have]
            if missing:
                raise ValueError(f"{path}: has no column {missing[0]!r} (its columns: "
                                 f"{', '.join(sorted(have))})")
            n += meta.metadata.num_rows
        self.nobs = int(n)
        self.names = tuple(exog)
        self.endog_name = endog[0]
        self.given = frozenset(self.extras)

    def read(self, rows):
        import pyarrow.parquet as pq

        start = 0
        for path in self.paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=self.columns):
                cols = {name: batch.column(name).to_numpy(zero_copy_only=False)
                        for name in self.columns}
                endog = np.column_stack([cols[c] for c in self.endog_cols])
                endog = endog[:, 0] if endog.shape[1] == 1 else endog
                exog = np.column_stack([cols[c] for c in self.exog_cols])
                yield start, endog, exog, {k: cols[c] for k, c in self.extras.items()}
                start += batch.num_rows


class Block(NamedTuple):
    """One block on the device, padded to the block size with rows of weight 0."""

    data: IRLSData  # prior_weights always set (0 on padding rows)
    trials: jax.Array  # binomial trials (1 elsewhere and on padding)
    fw: jax.Array  # frequency weights (1 without weights; 0 on padding)
    device: object  # the jax.Device it is on (None: the default device)


@dataclass
class Scan:
    """What one pass learns about the whole data set besides the IRLS sums."""

    nobs: int = 0
    sum_weights: float = 0.0  # sum of the frequency weights (rows without weights)
    sum_pw: float = 0.0  # sum of the prior weights (frequency weights x trials)
    sum_pw_y: float = 0.0
    const: np.ndarray | None = None  # columns constant (and non-zero) in every block so far
    first_row: np.ndarray | None = None
    warned: list = field(default_factory=list)  # the first warning of each category

    def combined(self, gather, p: int) -> Scan:
        """This scan with the other processes' (``gather``: bayesglm.sharding.gather_processes;
        ``p`` columns): counts and sums added, a column constant where it is constant, with the
        same value, in every process that has rows (one without sends NaNs: same shapes)."""
        have_rows = self.first_row is not None
        first = self.first_row if have_rows else np.full(p, np.nan)
        const = self.const if have_rows else np.zeros(p, bool)
        nums = gather((np.asarray(self.nobs, np.int64), np.asarray(self.sum_weights),
                       np.asarray(self.sum_pw), np.asarray(self.sum_pw_y)))
        rows, const = gather((np.asarray(first, float), np.asarray(const, bool)))
        have = ~np.isnan(rows).all(axis=1)
        rows, const = rows[have], const[have]
        same = np.all(rows == rows[:1], axis=0) if len(rows) else np.zeros(0, bool)
        return Scan(int(nums[0].sum()), float(nums[1].sum()), float(nums[2].sum()),
                    float(nums[3].sum()), const.all(axis=0) & same,
                    rows[0] if len(rows) else None, self.warned)

    @property
    def const_index(self) -> int | None:
        """The first column constant and non-zero over all rows (an intercept), or None."""
        idx = np.flatnonzero(self.const) if self.const is not None else []
        return int(idx[0]) if len(idx) else None


def device_blocks(source: Source, family, rows: int, *, alpha: float = 0.0, columns=None,
                  scan: Scan | None = None, devices=(None,), row_offset: int = 0
                  ) -> Iterator[Block]:
    """The validated blocks of ``source`` on the device, each padded to ``rows`` rows.

    Each block goes through :func:`~bayesglm.design.make_design` with the positions of its rows
    in the whole data set (so a message names the row as the user counts it). ``columns``
    selects columns of the design (the null model's intercept); ``scan`` collects the counts
    and sums of :class:`Scan` and the first warning of each category (the others are
    repeats from later blocks); without it, warnings are silenced (a later pass over the same
    rows). Block ``j`` goes to ``devices[j % len(devices)]`` (None: JAX's default device).
    ``row_offset``: the place of the source's first row in the whole data set (where several
    processes each read a part), for messages.
    """
    for j, (start, endog, exog, extras) in enumerate(source.read(rows)):
        m = int(exog.shape[0])
        w = extras.get("weights")
        if w is not None:
            w = np.asarray(w, dtype=np.float64)
            if np.all(w == 0):  # adds nothing; checked without them (make_design refuses
                rest = {k: v for k, v in extras.items() if k != "weights"}  # all-zero weights)
                where = np.arange(row_offset + start, row_offset + start + m)
                with warnings.catch_warnings(), naming(positions=where):
                    warnings.simplefilter("ignore")
                    make_design(endog, exog, family, names=source.names, **rest)
                if scan is not None:
                    scan.nobs += m
                continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with naming(positions=np.arange(row_offset + start, row_offset + start + m)):
                # the block is this pass's own (a slice, or a buffer just read): no copy of it;
                # its values were checked on the first pass (the one with the scan)
                d = make_design(endog, exog, family, names=source.names, copy=False,
                                exog_checked=scan is None, **extras)
        if scan is not None:
            for msg in caught:
                if msg.category not in [c.category for c in scan.warned]:
                    scan.warned.append(msg)
            _scan_block(scan, d)
        X = d.X if columns is None else np.ascontiguousarray(d.X[:, columns])
        fw = np.ones(m) if d.weights is None else d.weights
        trials = np.ones(m) if d.trials is None else d.trials
        off = d.total_offset
        device = devices[j % len(devices)]

        def put(a):
            return jax.device_put(a, device)

        data = IRLSData(
            X=put(padded(X, rows)),
            y=put(padded(d.y, rows)),
            offset=None if off is None else put(padded(off, rows)),
            prior_weights=put(padded(fw * trials, rows, 0.0)),
            alpha=np.float64(alpha),
        )
        yield Block(data, put(padded(trials, rows, 1.0)), put(padded(fw, rows, 0.0)), device)


def _scan_block(scan: Scan, d) -> None:
    fw = np.ones(d.nobs) if d.weights is None else d.weights
    pw = fw if d.trials is None else fw * d.trials
    scan.nobs += d.nobs
    scan.sum_weights += float(fw.sum())
    scan.sum_pw += float(pw.sum())
    scan.sum_pw_y += float(pw @ d.y)
    first = d.X[0]
    if scan.first_row is None:
        scan.first_row = first.copy()
        scan.const = first != 0
    scan.const &= np.all(d.X == scan.first_row, axis=0)
