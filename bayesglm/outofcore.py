"""Maximum likelihood for data larger than memory: :class:`ChunkedGLM`, IRLS over row blocks.

Each IRLS iteration is one pass over the data (:mod:`bayesglm.chunks` reads, validates and
pads the blocks): every block adds its share of X'WX, X'Wz, the deviance and Pearson's chi2 at
the current coefficients (:func:`bayesglm.irls.pass_stats`), and the host solves the p x p
system. That is :func:`bayesglm.irls.irls`'s iteration (R's ``glm.fit``: the start at
``mustart``, a step halved while it leaves the domain, and, as the glm2 package, while it
raises the deviance; the restart from the intercept-only fit where the first step fails),
with its rules (:func:`~bayesglm.irls.valid_pass`, :func:`~bayesglm.irls.deviance_rises`,
:func:`~bayesglm.irls.deviance_converged`, :func:`bayesglm.mle.intercept_start`), so the
estimates equal the in-memory fit's to rounding. Memory is a few blocks, whatever the number of
rows; time is one read of the data per iteration (plus one for the log-likelihood).
"""

from __future__ import annotations

import collections
import math
import operator
from functools import cached_property
from typing import NamedTuple

import jax
import numpy as np
import pandas as pd

from ._progress import progress_bar
from ._x64 import float64
from ._warnings import BayesGLMWarning, ConvergenceWarning, SeparationWarning, warn
from .chunks import ArraySource, ParquetSource, Scan, Source, default_block_rows, device_blocks
from .families import Family, NegativeBinomial, get_family
from .irls import (MAX_HALVINGS, PassStats, deviance_converged, deviance_rises, pass_loglike,
                   pass_stats, valid_pass)
from .mle import QR_TOL, RankDeficientError, intercept_start, looks_singular
from .results import (Summary, coef_table, glm_info, link_prediction, two_sided_p,
                      wald_interval)
from .sharding import block_devices, gather_processes, sum_processes

__all__ = ["ChunkedGLM", "ChunkedMLEResults"]

#: blocks per device read ahead of the device's work (JAX dispatches asynchronously: without
#: a bound the reading would run ahead and hold the data in memory)
IN_FLIGHT = 2


def _across_ok(across) -> bool:
    if across and jax.process_count() == 1:
        warn("across_processes=True in a single JAX process: the model is this process's rows "
             "(call jax.distributed.initialize() in every process first)", BayesGLMWarning)
    return bool(across)


def _process_rows(nobs: int) -> np.ndarray:
    """Every process's number of rows, in process order."""
    return np.asarray(gather_processes(np.asarray(nobs, dtype=np.int64))).reshape(-1)


class _Fit(NamedTuple):
    beta: np.ndarray
    XtWX: np.ndarray  # the last step's (weights at the start of the last iteration, as R)
    deviance: float
    pearson_chi2: float
    n_iter: int
    converged: bool
    n_boundary: int
    scan: Scan
    failed: bool = False


def _aliased_column(G: np.ndarray, names) -> str:
    """The first column that the ones before it span, from the cross-product X'WX: Cholesky of
    the scaled matrix, a column aliased where its pivot (squared residual norm, relative) is
    below R's QR tolerance squared."""
    d = np.sqrt(np.maximum(np.diag(G), 0.0))
    zero = np.flatnonzero(d == 0)
    if zero.size:
        return f"column {names[zero[0]]!r} is all zeros (or has zero weight)"
    S = G / np.outer(d, d)
    p = S.shape[0]
    L = np.zeros_like(S)
    kept = []
    for j in range(p):
        r = S[j, j] - L[j, kept] @ L[j, kept]
        if r < QR_TOL**2:
            return (f"column {names[j]!r} is a linear combination of the columns before it "
                    f"({', '.join(repr(names[k]) for k in kept) or 'none'})")
        L[j, j] = math.sqrt(r)
        for i in range(j + 1, p):
            L[i, j] = (S[i, j] - L[i, kept] @ L[j, kept]) / L[j, j]
        kept.append(j)
    return "X'WX is numerically singular"


class ChunkedGLM:
    """A GLM whose rows are read a block at a time: the maximum-likelihood fit of data larger
    than memory (numpy memmaps, ``.npy`` files, Parquet files).

    ``fit_mle()`` is R's ``glm`` (IRLS from ``mustart``, step-halving, the relative-deviance
    rule): the estimates agree with :meth:`bayesglm.GLM.fit_mle` on the same rows to rounding
    (tests/unit/test_outofcore.py). Every block is validated as ``bg.GLM`` validates its data,
    and a message names the row by its place in the whole data set.

    Parameters
    ----------
    endog : array-like, memmap or path of a ``.npy`` file, (n,) or (n, 2)
        The response (Binomial: 0/1, proportions or counts with ``trials``, or two columns
        [successes, failures]).
    exog : array-like, memmap or path of a ``.npy`` file, (n, p)
        The design matrix (no intercept is added).
    family : Family or str
        Any family :meth:`bayesglm.GLM.fit_mle` fits by IRLS: Gaussian, Binomial, Poisson,
        Gamma, InverseGaussian, and NegativeBinomial with a fixed ``alpha``.
    link : Link or str, optional
    offset, exposure, weights, trials : array-like, memmap or ``.npy`` path (n,), optional
        As for :class:`bayesglm.GLM` (weights are frequency weights).
    names : sequence of str, optional
        Coefficient names (default ``x0, x1, ...``).
    chunk_rows : int, optional
        Rows per block (default: about 32 MB of design per block).
    across_processes : bool
        Each JAX process (``jax.distributed.initialize()``, one per host) holds a part of the
        rows, and the model is that of all of them: every pass's sums are added over the
        processes, so each process solves the same p x p system and gets the same results
        (``nobs`` and messages count the rows of all processes, in process order). Every
        process must build its model with the same family, columns and names and call
        ``fit_mle`` with the same arguments. ``examples/multihost.py`` runs it.

    Examples
    --------
    >>> X = np.lib.format.open_memmap("X.npy", mode="w+", shape=(n, p))   # doctest: +SKIP
    >>> mle = bg.ChunkedGLM(y, "X.npy", family="poisson").fit_mle()       # doctest: +SKIP
    """

    def __init__(self, endog, exog, family: Family | str | None = None, *, link=None,
                 offset=None, exposure=None, weights=None, trials=None, names=None,
                 chunk_rows: int | None = None, across_processes: bool = False):
        extras = dict(offset=offset, exposure=exposure, weights=weights, trials=trials)
        self._init(ArraySource(endog, exog, extras, names), family, link, chunk_rows,
                   across_processes)

    @classmethod
    def from_parquet(cls, path, *, endog, exog, family: Family | str | None = None, link=None,
                     offset: str | None = None, exposure: str | None = None,
                     weights: str | None = None, trials: str | None = None,
                     chunk_rows: int | None = None,
                     across_processes: bool = False) -> ChunkedGLM:
        """A model of columns of Parquet files, read a batch of rows at a time (pyarrow).

        ``path`` is a file or a list of files (rows in that order); ``endog`` a column name
        (or two, [successes, failures]), ``exog`` the design's column names (the coefficient
        names); ``offset``, ``exposure``, ``weights``, ``trials`` name columns;
        ``across_processes`` as for the class.
        """
        extras = dict(offset=offset, exposure=exposure, weights=weights, trials=trials)
        self = cls.__new__(cls)
        self._init(ParquetSource(path, endog, exog, extras), family, link, chunk_rows,
                   across_processes)
        return self

    def _init(self, source: Source, family, link, chunk_rows, across: bool):
        fam = get_family(family, link)
        if getattr(fam, "exact_likelihood", False):
            raise ValueError(f"family: ChunkedGLM fits the IRLS families (gaussian, binomial, "
                             f"poisson, gamma, inverse_gaussian, negative_binomial with a fixed "
                             f"alpha), not {fam.name}")
        if isinstance(fam, NegativeBinomial) and fam.alpha is None:
            raise ValueError("family: ChunkedGLM needs NegativeBinomial's alpha fixed "
                             "(NegativeBinomial(alpha=...)); estimate it on a sample with "
                             "bg.GLM(...).fit_mle()")
        if chunk_rows is not None and not (isinstance(chunk_rows, (int, np.integer))
                                           and chunk_rows >= 1):
            raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
        self._across = bool(_across_ok(across))
        counts = _process_rows(source.nobs) if self._across else np.array([source.nobs])
        self._row_offset = int(counts[:jax.process_index()].sum()) if self._across else 0
        if counts.sum() == 0:
            raise ValueError("endog: empty data set (0 rows)")
        self._nobs = int(counts.sum())
        self._source = source
        self._family = fam
        p = len(source.names)
        self.chunk_rows = int(chunk_rows or default_block_rows(p, source.nobs))
        """int: rows per block."""

    @property
    def family(self) -> Family:
        return self._family

    @property
    def names(self) -> tuple[str, ...]:
        return self._source.names

    @property
    def nobs(self) -> int:
        """int: the rows of the data (of every process with ``across_processes``)."""
        return self._nobs

    def _alpha(self) -> float:
        return float(self._family.alpha) if isinstance(self._family, NegativeBinomial) else 0.0

    def _irls_family(self) -> Family:
        # a fixed alpha travels traced in the data (as in bayesglm.mle): no recompilation
        fam = self._family
        return NegativeBinomial(fam.link) if isinstance(fam, NegativeBinomial) else fam

    def _blocks(self, devices, **kw):
        return device_blocks(self._source, self._family, self.chunk_rows, alpha=self._alpha(),
                             devices=devices, row_offset=self._row_offset, **kw)

    def _summed(self, local):
        """``local()``, summed over the processes with ``across_processes``. Every process
        reaches the sum even where its own part failed (an error in its data): the others
        then stop with an error too, instead of waiting for it."""
        if not self._across:
            return local()
        try:
            value, err = local(), None
        except Exception as exc:  # re-raised below, after the other processes heard of it
            value, err = None, exc
        failed = np.asarray(gather_processes(np.int32(err is not None))).reshape(-1)
        if err is not None:
            raise err
        if failed.any():
            raise RuntimeError(f"across_processes: process(es) {np.flatnonzero(failed).tolist()} "
                               "failed (their own error says why); this one stops too")
        return sum_processes(value)

    def _pass(self, beta, devices, *, start=False, columns=None, scan=None):
        """The sums of one pass (host numbers): one running sum per device (the blocks take
        turns on the devices), fetched and added at the end (and over the processes)."""
        return PassStats(*self._summed(lambda: tuple(self._local_pass(beta, devices, start,
                                                                        columns, scan))))

    def _local_pass(self, beta, devices, start, columns, scan):
        fam, totals, flight = self._irls_family(), {}, collections.deque()
        for block in self._blocks(devices, columns=columns, scan=scan):
            s = pass_stats(fam, block.data, beta, start)
            flight.append(s.deviance)
            if len(flight) > IN_FLIGHT * len(devices):  # memory: a few blocks, not the data
                jax.block_until_ready(flight.popleft())
            old = totals.get(block.device)
            totals[block.device] = s if old is None else jax.tree_util.tree_map(operator.add,
                                                                                 old, s)
        if totals:
            parts = jax.device_get(list(totals.values()))
            total = jax.tree_util.tree_map(lambda *a: sum(a[1:], a[0]), *parts)
        elif not self._across:
            raise ValueError("weights: all weights are zero")
        else:  # every block of zero weight (here: other processes may have rows)
            p = len(self.names) if columns is None else len(columns)
            total = PassStats(np.zeros((p, p)), np.zeros(p), 0.0, 0.0, np.int32(0),
                              np.int32(0))
        return total

    def _irls(self, maxiter, tol, progress, devices, columns=None, beta_init=None,
              scan=None) -> _Fit:
        """IRLS over the blocks from R's mustart (``beta_init`` None: this first pass also
        fills the :class:`Scan`) or from ``beta_init``; the rules of
        :func:`bayesglm.irls.irls` (``valid_pass``, ``deviance_rises``,
        ``deviance_converged``), driven from the host. ``failed``: no valid step was found."""
        p = len(self.names) if columns is None else len(columns)
        names = self.names if columns is None else [self.names[j] for j in columns]
        bar = progress_bar(progress, None, "IRLS over row blocks", unit="pass")
        try:
            if beta_init is None:
                beta_old, scan = np.zeros(p), Scan()
                s = self._pass(beta_old, devices, start=True, columns=columns, scan=scan)
                if self._across:
                    scan = scan.combined(gather_processes, len(self.names))
                for msg in scan.warned:
                    warn(str(msg.message), msg.category)
            else:
                beta_old = np.asarray(beta_init, dtype=float)
                s = self._pass(beta_old, devices, columns=columns)
            bar.update()
            dev_old, gram, last = float(s.deviance), s, s
            XtWX, n_iter, converged, failed = np.zeros((p, p)), 0, False, not valid_pass(s)
            while n_iter < maxiter and not failed:
                try:
                    chol = np.linalg.cholesky(gram.XtWX)
                except np.linalg.LinAlgError:
                    raise RankDeficientError(
                        f"the design matrix is rank deficient: {_aliased_column(gram.XtWX, names)}"
                        ". Drop that column.") from None
                beta = np.linalg.solve(chol.T, np.linalg.solve(chol, gram.XtWz))
                # the first step from mustart may raise the deviance; from a start at
                # coefficients (a consistent point) no step may, as bayesglm.irls
                first = n_iter == 0 and beta_init is None
                s = self._pass(beta, devices, columns=columns)
                bar.update()
                k = 0
                while (not valid_pass(s) or (not first and deviance_rises(
                        float(s.deviance), dev_old, tol))) and k < MAX_HALVINGS:
                    beta = (beta + beta_old) / 2
                    s = self._pass(beta, devices, columns=columns)
                    bar.update()
                    k += 1
                n_iter += 1
                bar.set_description(f"IRLS over row blocks: iteration {n_iter}, deviance "
                                    f"{float(s.deviance):.10g}")
                if not valid_pass(s):  # the last valid point stays
                    failed = True
                    break
                XtWX = gram.XtWX
                converged = bool(deviance_converged(float(s.deviance), dev_old, tol))
                beta_old, dev_old, gram, last = beta, float(s.deviance), s, s
                if converged:
                    break
        finally:
            bar.close()
        return _Fit(beta_old, np.asarray(XtWX), dev_old, float(last.pearson_chi2), n_iter,
                    converged and not failed, int(last.n_boundary), scan, failed)

    @float64
    def fit_mle(self, *, maxiter: int = 100, tol: float = 1e-8, progress: bool = True,
                devices=None) -> ChunkedMLEResults:
        """Maximum likelihood by IRLS over the row blocks (R's ``glm``; see the class).

        Parameters
        ----------
        maxiter : int
            Maximum number of IRLS iterations (each one pass over the data).
        tol : float
            Convergence when ``|dev - dev_old| / (|dev| + 0.1) < tol`` (R's rule).
        progress : bool
            Show a progress bar of the passes over the data.
        devices : None, int or list of jax.Device
            The devices the blocks take turns on (each keeps a running sum of its blocks):
            None, every device of JAX's default backend (on a CPU the host devices bayesglm
            asks for, so that the blocks' products run on every core); an int, that many; a
            list, those.

        Returns
        -------
        ChunkedMLEResults
        """
        if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
            raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
        if not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
        devices = block_devices(devices)
        fit = self._irls(maxiter, tol, progress, devices)
        fam, name = self._family, self._family.name
        const = fit.scan.const_index
        if fit.failed and const is not None and fit.scan.sum_pw > 0:
            # as bayesglm.mle: the first step from mustart left the domain and halving back
            # towards 0 did not help (eta = 0 lies outside the inverse and power links'
            # domains): again from the intercept-only coefficients, a valid, consistent point
            beta0 = intercept_start(fam.link, fit.scan.sum_pw_y / fit.scan.sum_pw,
                                    len(self.names), const, fit.scan.first_row[const])
            fit = self._irls(maxiter, tol, progress, devices, beta_init=beta0, scan=fit.scan)
        if fit.failed:
            raise FloatingPointError(
                f"IRLS could not find a valid step for the {name} family with the "
                f"{fam.link.name} link (the mean left its domain even after step-halving). Try "
                "another link (the canonical one is the most stable) or check the data.")
        if looks_singular(fit.XtWX) and not fit.n_boundary:
            # (vanishing weights under separation also make X'WX look singular: warned below)
            raise RankDeficientError(f"the design matrix is rank deficient: "
                                     f"{_aliased_column(fit.XtWX, self.names)}. Drop that column.")
        if fit.n_boundary:
            what = ("fitted probabilities numerically 0 or 1" if fam.boundary == "separation"
                    else "fitted means numerically 0")
            warn(f"{what} occurred in {fit.n_boundary} rows (as R's glm warns): the data may be "
                 "separated and the maximum-likelihood estimate may not exist (coefficients "
                 "diverging); check with bg.GLM on a sample, or use its fit() with proper priors",
                 SeparationWarning)
        if not fit.converged:
            warn(f"IRLS did not converge in {fit.n_iter} iterations (maxiter={maxiter}, "
                 f"tol={tol:g}) for the {name} family. Increase maxiter, or check the data for "
                 "separation or extreme values.", ConvergenceWarning)
        return ChunkedMLEResults(self, fit, maxiter, tol, devices)

    @float64
    def _loglike(self, beta, dispersion, devices) -> float:
        fam = self._irls_family()
        disp = self._alpha() if isinstance(self._family, NegativeBinomial) else dispersion
        def local():
            parts = [pass_loglike(fam, block.data, beta, disp, block.trials, block.fw)
                     for block in self._blocks(devices)]
            return np.float64(sum(jax.device_get(parts)))

        return float(self._summed(local))

    @float64
    def _null_deviance(self, scan: Scan, maxiter, tol, devices) -> float:
        """The intercept-only model's deviance with the offset (R's ``null.deviance``)."""
        const = scan.const_index
        has_offset = bool({"offset", "exposure"} & self._source.given)
        if const is not None and has_offset:
            fit = self._irls(maxiter, tol, False, devices, columns=[const])
            return fit.deviance
        if const is None:  # mu = g^-1(offset), or g^-1(0)
            return float(self._pass(np.zeros(0), devices, columns=[]).deviance)
        ybar = scan.sum_pw_y / scan.sum_pw  # mu = the weighted mean (R's wtdmu)
        b = float(self._family.link.link(ybar)) / scan.first_row[const]
        return float(self._pass(np.array([b]), devices, columns=[const]).deviance)

    def __repr__(self):
        return (f"<ChunkedGLM {type(self._family).__name__}({type(self._family.link).__name__}) "
                f"nobs={self.nobs} p={len(self.names)} chunk_rows={self.chunk_rows}>")


class ChunkedMLEResults:
    """Results of :meth:`ChunkedGLM.fit_mle`: the statistics of :class:`bayesglm.MLEResults`
    that need no per-row arrays (those would be as large as the data): ``params``, ``bse``,
    ``zvalues``, ``pvalues``, ``cov_params()``, ``conf_int()``, ``deviance``,
    ``null_deviance``, ``pearson_chi2``, ``scale``, ``llf``, ``aic``, ``bic``, ``nobs``,
    ``df_model``, ``df_resid``, ``converged``, ``n_iter``, ``summary()`` and ``predict(exog)``
    for new rows; the same conventions (statsmodels' ``scale``, R's ``logLik``/``AIC``)."""

    def __init__(self, model: ChunkedGLM, fit: _Fit, maxiter: int, tol: float, devices):
        self.model = model
        self.family = model.family
        self._fit, self._maxiter, self._tol, self._devices = fit, maxiter, tol, devices
        scan = fit.scan
        names = list(model.names)
        if model._source.generated and scan.const_index is not None:
            names[scan.const_index] = "const"  # as bg.GLM names a raw constant column
        p = len(names)
        self.nobs = scan.nobs
        self.df_model = p - 1
        self.df_resid = scan.sum_weights - p
        self.deviance = fit.deviance
        self.pearson_chi2 = fit.pearson_chi2
        self.scale = self.family.scale(fit.pearson_chi2, self.df_resid)
        self.converged = fit.converged
        self.n_iter = fit.n_iter
        nb = isinstance(self.family, NegativeBinomial)
        self.alpha = float(self.family.alpha) if nb else None
        try:
            bread = np.linalg.inv(fit.XtWX)
        except np.linalg.LinAlgError:  # separation: vanishing weights (warned about)
            bread = np.linalg.pinv(fit.XtWX)
        self.normalized_cov_params = (bread + bread.T) / 2
        self.cov_type = "nonrobust"
        self.params = pd.Series(fit.beta, index=names, name="params")
        self.bse = pd.Series(np.sqrt(np.diag(self.normalized_cov_params) * self.scale),
                             index=names, name="bse")
        self.zvalues = pd.Series(self.params / self.bse, name="z")
        self.pvalues = pd.Series(two_sided_p(self.zvalues.to_numpy()), index=names,
                                 name="P>|z|")
        dispersion = self.family.llf_dispersion(fit.deviance, scan.sum_weights,
                                                fit.pearson_chi2, self.df_resid)
        self.llf = model._loglike(fit.beta, dispersion, devices)
        self.k_params = p + (1 if self.family.has_dispersion else 0)
        self.aic = -2.0 * self.llf + 2.0 * self.k_params
        self.bic = -2.0 * self.llf + math.log(scan.sum_weights) * self.k_params
        if model._across:  # collective passes: every process now, not when one of them asks
            _ = self.null_deviance

    @property
    def tvalues(self) -> pd.Series:
        return self.zvalues

    def cov_params(self) -> pd.DataFrame:
        """The model-based covariance times ``scale`` (DataFrame indexed both ways by name)."""
        cov = self.normalized_cov_params * self.scale
        return pd.DataFrame(cov, index=self.params.index, columns=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals, columns 0 and 1 (as :meth:`bayesglm.MLEResults.conf_int`)."""
        return wald_interval(self.params, self.bse, alpha)

    @cached_property
    def null_deviance(self) -> float:
        """float: the intercept-only model's deviance with the offset (one or more passes)."""
        return self.model._null_deviance(self._fit.scan, self._maxiter, self._tol,
                                         self._devices)

    @float64
    def predict(self, exog, *, offset=None, alpha: float = 0.05,
                linear: bool = False) -> pd.DataFrame:
        """Mean (or ``linear``: eta) of new rows ``exog`` (m, p) with a Wald interval formed on
        the link scale, as :meth:`bayesglm.MLEResults.predict`; ``offset`` the rows' total
        offset (log exposure included)."""
        X = np.asarray(exog, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.params):
            raise ValueError(f"exog: must have shape (m, {len(self.params)}), got {X.shape}")
        off = None if offset is None else np.asarray(offset, dtype=np.float64)
        return link_prediction(self.family.link, X, self.params.to_numpy(),
                               self.cov_params().to_numpy(), off, pd.RangeIndex(len(X)), alpha,
                               linear)

    def summary(self, alpha: float = 0.05) -> Summary:
        """Coefficient table and fit statistics, as :meth:`bayesglm.MLEResults.summary`."""
        info = glm_info(self, self.model._source.endog_name, "IRLS (out of core)")
        notes = [] if self.alpha is None else [f"alpha = {self.alpha:.6g}, fixed; var = mu + "
                                               "alpha mu^2"]
        notes.append(f"Read in blocks of {self.model.chunk_rows} rows.")
        if not self.converged:
            notes.append("Warning: the fit did not converge; the estimates are unreliable.")
        return Summary("Generalized Linear Model Regression Results (MLE)", info,
                       coef_table(self, alpha), notes)

    def __repr__(self):
        return (f"<ChunkedMLEResults {type(self.family).__name__}"
                f"({type(self.family.link).__name__}) nobs={self.nobs} "
                f"deviance={self.deviance:.6g} converged={self.converged}>")
