"""Figures of a Bayesian fit with the classical fit beside it (the only module importing matplotlib).

Every function takes a :class:`~bayesglm.BayesResults`, draws on the axes it is given (or on a new
figure sized for the number of rows), sets a title and axis labels, and returns the axes. Nothing
here calls ``plt.show()`` or changes the backend, so the figures work in scripts and notebooks.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

__all__ = ["plot_trace", "plot_forest", "plot_ppc", "plot_mle_vs_posterior"]

_CONTINUOUS = ("gaussian", "gamma", "inverse_gaussian")
_COUNTS = ("poisson", "negative_binomial")
_PPC_KINDS = ("kde", "cumulative", "hist", "bars")
_POST_COLOR = "C0"
_MLE_COLOR = "C3"
#: central probability of the posterior predictive intervals drawn by plot_ppc's bars
_PPC_INTERVAL = 0.94
#: above this many bins a count axis is grouped into wider integer bins
_MAX_BINS = 40


# -- what to plot ---------------------------------------------------------------------------
def _params(fit) -> tuple[list[str], str | None]:
    """The fit's coefficient names and its dispersion's name (None when it has none)."""
    names = [str(n) for n in fit.names]
    disp = fit.family.dispersion_name
    if disp is None or disp not in fit.idata.posterior:
        disp = None
    return names, disp


def _select(fit, var_names, *, default_dispersion: bool) -> tuple[list[str], list[str]]:
    """(coefficients, dispersion) chosen by ``var_names``, in the fit's order.

    ``None`` means every coefficient (and the dispersion when ``default_dispersion``); ``"beta"``
    stands for every coefficient, as the posterior variable of that name; a single string is one
    name. An unknown name is a ValueError that lists the valid ones.
    """
    names, disp = _params(fit)
    if var_names is None:
        return names, ([disp] if disp and default_dispersion else [])
    if isinstance(var_names, str):
        var_names = [var_names]
    wanted = [str(v) for v in var_names]
    if not wanted:
        raise ValueError("var_names is empty: pass None for every parameter, or some names")
    valid = names + ([disp] if disp else [])
    bad = [v for v in wanted if v not in valid and not (v == "beta" and "beta" not in names)]
    if bad:
        raise ValueError(
            f"unknown parameter name(s) {bad} in var_names; valid names are {valid}"
            + (" (or 'beta' for every coefficient)" if "beta" not in names else "")
        )
    if "beta" in wanted and "beta" not in names:
        coefs = names
    else:
        coefs = [n for n in names if n in wanted]
    return coefs, [d for d in valid[len(names):] if d in wanted]


def _draws(fit, name: str) -> np.ndarray:
    """All draws of one coefficient or of the dispersion, flattened over chains."""
    post = fit.idata.posterior
    if name in fit.names and "beta" in post:
        return post["beta"].sel(coef=name).to_numpy().reshape(-1)
    return post[name].to_numpy().reshape(-1)


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    lo, hi = az.hdi(np.asarray(x, dtype=float), hdi_prob=prob)
    return float(lo), float(hi)


def _no_mle_reason(fit) -> str | None:
    """Why the fit has no usable classical estimate, or None when it has one.

    The MLE is unusable when it is absent, did not converge, or NUTS had to start at the posterior
    mode instead (separation: the likelihood has no maximum, and IRLS's estimates run off).
    """
    mle = fit.mle
    if mle is None:
        return "the MLE does not exist"
    if getattr(mle, "converged", True) is False or getattr(fit, "start", "mle") == "map":
        return "the MLE does not exist or did not converge (separation?)"
    return None


def _mle_table(fit, params: list[str], alpha: float = 0.05) -> dict[str, tuple[float, ...]]:
    """{name: (estimate, lower, upper)}: the MLE and its Wald 100(1 - alpha)% interval.

    Coefficients use ``mle.conf_int``; the dispersion (on the posterior's scale) its normal
    interval where the fit gives a standard error, else bounds NaN. Names without an MLE are left
    out.
    """
    mle = fit.mle
    q = NormalDist().inv_cdf(1 - alpha / 2)
    out = {}
    coefs = [p for p in params if p in fit.names]
    if coefs:
        est = mle.params
        if hasattr(mle, "conf_int"):
            ci = mle.conf_int(alpha)
            lower, upper = ci.iloc[:, 0], ci.iloc[:, 1]
        else:  # a fit loaded from disk keeps params and bse only
            lower, upper = est - q * mle.bse, est + q * mle.bse
        for c in coefs:
            out[c] = (float(est[c]), float(lower[c]), float(upper[c]))
    for d in (p for p in params if p not in fit.names):
        disp = fit._mle_dispersion() if hasattr(fit, "_mle_dispersion") else None
        if disp is None:
            continue
        v, se = (float(disp[0]), float(disp[1]))
        if np.isfinite(se):
            out[d] = (v, v - q * se, v + q * se)
        else:
            out[d] = (v, math.nan, math.nan)
    return out


def _new_axes(ax, figsize) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def _check_prob(prob: float, what: str) -> float:
    if not 0 < prob < 1:
        raise ValueError(f"{what} must lie in (0, 1), got {prob!r}")
    return float(prob)


# -- trace ----------------------------------------------------------------------------------
def plot_trace(fit, var_names=None, axes=None, *, compact: bool = False, show_mle: bool = True):
    """Trace and marginal density of each parameter, one row per parameter (ArviZ underneath).

    Parameters
    ----------
    fit : BayesResults
    var_names : str or list of str, optional
        Coefficient names and/or the dispersion (``sigma``, ``shape``, ``lam``, ``alpha``);
        ``"beta"`` is every coefficient. Default: every coefficient and the dispersion.
    axes : ndarray of Axes, shape (rows, 2), optional
        Where to draw (density left, trace right). Default: a new figure whose height grows with
        the number of rows.
    compact : bool
        Put all the coefficients in one row (one line per coefficient), as ArviZ's compact mode.
    show_mle : bool
        Mark the MLE (where it exists) as a reference line on each row.

    Returns
    -------
    ndarray of Axes, shape (rows, 2)
    """
    coefs, disp = _select(fit, var_names, default_dispersion=True)
    params = coefs + disp
    rows = ((1 if coefs else 0) + len(disp)) if compact else len(params)
    var = (["beta"] if coefs else []) + disp
    lines = None
    if show_mle and _no_mle_reason(fit) is None:
        table = _mle_table(fit, params)
        lines = [("beta", {"coef": c}, table[c][0]) for c in coefs if c in table]
        lines += [(d, {}, table[d][0]) for d in disp if d in table]
    if axes is not None:
        axes = np.asarray(axes, dtype=object)
        if axes.shape != (rows, 2):
            raise ValueError(
                f"axes must have shape ({rows}, 2) for these parameters, got {axes.shape}"
            )
    with az.rc_context({"plot.max_subplots": max(40, 2 * rows + 2)}):
        out = az.plot_trace(
            fit.idata,
            var_names=var,
            coords={"coef": coefs} if coefs else None,
            compact=compact,
            lines=lines,
            axes=axes,
            figsize=None if axes is not None else (10, max(2.5, 1.6 * rows + 0.8)),
            show=False,
        )
    out = np.atleast_2d(out)
    if axes is None:  # ArviZ's figure has no layout engine: keep titles off the row above
        out[0, 0].get_figure().set_layout_engine("constrained")
    titles = params
    if compact:
        which = ", ".join(coefs) if len(coefs) <= 6 else f"{len(coefs)}"
        titles = ([f"coefficients ({which})"] if coefs else []) + disp
    for row, title in zip(out, titles):
        row[0].set_title(title, fontsize="medium")
        row[1].set_title(title, fontsize="medium")
        row[0].set_ylabel("density")
        row[1].set_ylabel("value")
    out[-1, 0].set_xlabel("parameter value")
    out[-1, 1].set_xlabel("draw")
    if axes is None:  # a figure of the caller's keeps its own title
        out[0, 0].get_figure().suptitle(
            f"Posterior trace ({fit.idata.posterior.sizes['chain']} chains)"
            + ("; lines: MLE" if lines else "")
        )
    return out


# -- forest ---------------------------------------------------------------------------------
def plot_forest(fit, var_names=None, hdi_prob: float = 0.94, ax=None, *, mle_alpha: float = 0.05):
    """Posterior HDI of each coefficient, with the MLE and its confidence interval beside it.

    For each row the posterior is drawn as its mean (circle), its 50% HDI (thick line) and its
    ``hdi_prob`` HDI (thin line); just below it, the MLE (diamond) and its Wald 100(1 -
    ``mle_alpha``)% interval, in another colour. Where the MLE does not exist (separation; the fit
    then started at the posterior mode) the posterior is drawn alone and the legend and title say
    so.

    Parameters
    ----------
    fit : BayesResults
    var_names : str or list of str, optional
        Coefficient names and/or the dispersion; ``"beta"`` is every coefficient. Default: every
        coefficient (the dispersion lives on another scale; name it to add it).
    hdi_prob : float
        Probability of the thin HDI.
    ax : Axes, optional
        Default: a new figure whose height grows with the number of rows.
    mle_alpha : float
        The MLE's interval is 100(1 - mle_alpha)%.

    Returns
    -------
    Axes
        Artists have gids: ``posterior_mean``, ``posterior_hdi``, ``posterior_hdi50``,
        ``mle_point``, ``mle_ci``.
    """
    hdi_prob = _check_prob(hdi_prob, "hdi_prob")
    _check_prob(mle_alpha, "mle_alpha")
    coefs, disp = _select(fit, var_names, default_dispersion=False)
    params = coefs + disp
    k = len(params)
    ax = _new_axes(ax, (7.5, 1.9 + 0.38 * k))
    reason = _no_mle_reason(fit)
    table = {} if reason else _mle_table(fit, params, mle_alpha)
    off = 0.17 if table else 0.0

    y = np.arange(k, dtype=float)
    means, wide, narrow = [], [], []
    for p in params:
        x = _draws(fit, p)
        means.append(float(x.mean()))
        wide.append(_hdi(x, hdi_prob))
        narrow.append(_hdi(x, 0.5))
    wide, narrow = np.array(wide), np.array(narrow)
    yp = y - off  # rows run top to bottom (the axis is inverted): posterior above, MLE below
    ax.hlines(yp, wide[:, 0], wide[:, 1], color=_POST_COLOR, lw=1.3, gid="posterior_hdi")
    ax.hlines(yp, narrow[:, 0], narrow[:, 1], color=_POST_COLOR, lw=4.0, gid="posterior_hdi50")
    ax.plot(means, yp, "o", color=_POST_COLOR, mfc="white", mew=1.5, ms=6, gid="posterior_mean",
            zorder=3)
    pct = f"{100 * hdi_prob:g}%"
    handles = [(Line2D([], [], color=_POST_COLOR, lw=4.0),
                Line2D([], [], marker="o", color=_POST_COLOR, mfc="white", mew=1.5, ls="none"))]
    labels = [f"posterior (mean, 50% and {pct} HDI)"]

    mle_pct = f"{100 * (1 - mle_alpha):g}%"
    if table:
        rows = [i for i, p in enumerate(params) if p in table]
        est = np.array([table[params[i]] for i in rows]).reshape(-1, 3)
        ym = y[rows] + off
        ax.hlines(ym, est[:, 1], est[:, 2], color=_MLE_COLOR, lw=1.3, gid="mle_ci")
        ax.plot(est[:, 0], ym, "D", color=_MLE_COLOR, ms=5, gid="mle_point", zorder=3)
        handles.append((Line2D([], [], color=_MLE_COLOR, lw=1.3),
                        Line2D([], [], marker="D", color=_MLE_COLOR, ls="none")))
        labels.append(f"MLE ({mle_pct} CI)")
        title = f"Posterior {pct} HDI and MLE {mle_pct} CI"
    else:
        handles.append(Line2D([], [], ls="none"))
        labels.append(f"no MLE: {reason}; posterior only")
        title = f"Posterior {pct} HDI (no MLE: posterior only)"

    ax.axvline(0.0, color="0.5", lw=0.8, ls="--", zorder=0)
    ax.set_yticks(y, labels=params)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlabel("coefficient value" if not disp else "parameter value")
    ax.set_ylabel("parameter")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    # below the axes (under the x label), where it hides no interval whatever the number of rows
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
              ncols=2 if table else 1, fontsize="small", frameon=False)
    return ax


# -- MLE against posterior --------------------------------------------------------------------
def plot_mle_vs_posterior(fit, var_names=None, ax=None, *, hdi_prob: float = 0.94,
                          mle_alpha: float = 0.05, label_max: int = 15):
    """Posterior mean (with HDI bars) against the MLE (with CI bars), and the identity line.

    Points on the identity line are coefficients where the data dominate the prior; points off it
    show shrinkage by the prior (or a skewed posterior). Each point is labelled with its name when
    there are at most ``label_max`` of them.

    Parameters
    ----------
    fit : BayesResults
    var_names : str or list of str, optional
        Coefficients and/or the dispersion; default every coefficient.
    ax : Axes, optional
    hdi_prob : float
        Probability of the posterior's HDI (vertical bars).
    mle_alpha : float
        The MLE's interval is 100(1 - mle_alpha)% (horizontal bars).
    label_max : int
        Label the points with their names up to this many points.

    Returns
    -------
    Axes
        The points are the line with gid ``points`` (x = MLE, y = posterior mean).

    Raises
    ------
    ValueError
        When the fit has no MLE (separation), or a name in ``var_names`` is unknown.
    """
    hdi_prob = _check_prob(hdi_prob, "hdi_prob")
    _check_prob(mle_alpha, "mle_alpha")
    reason = _no_mle_reason(fit)
    if reason:
        raise ValueError(
            f"plot_mle_vs_posterior needs the MLE, and this fit has none ({reason}; NUTS started "
            "at the posterior mode). Use plot_forest(fit) to see the posterior alone."
        )
    coefs, disp = _select(fit, var_names, default_dispersion=False)
    table = _mle_table(fit, coefs + disp, mle_alpha)
    params = [p for p in coefs + disp if p in table]
    if not params:
        raise ValueError(f"no MLE for {coefs + disp}")
    est = np.array([table[p] for p in params]).reshape(-1, 3)
    means, hdis = [], []
    for p in params:
        x = _draws(fit, p)
        means.append(float(x.mean()))
        hdis.append(_hdi(x, hdi_prob))
    means, hdis = np.array(means), np.array(hdis)
    ax = _new_axes(ax, (5.5, 5.5))
    xerr = np.vstack([est[:, 0] - est[:, 1], est[:, 2] - est[:, 0]])
    yerr = np.vstack([means - hdis[:, 0], hdis[:, 1] - means])
    cont = ax.errorbar(est[:, 0], means, xerr=np.nan_to_num(xerr), yerr=yerr, fmt="o",
                       color=_POST_COLOR, ecolor="0.55", elinewidth=1.0, capsize=2, ms=5,
                       label=f"coefficient: MLE ± {100 * (1 - mle_alpha):g}% CI, posterior mean "
                       f"± {100 * hdi_prob:g}% HDI")
    cont.lines[0].set_gid("points")
    finite = np.concatenate([est[np.isfinite(est)], hdis.ravel(), means])
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.4", lw=0.9, ls="--",
            label="identity (posterior mean = MLE)", gid="identity", zorder=0)
    if len(params) <= label_max:
        for p, x0, y0 in zip(params, est[:, 0], means):
            ax.annotate(p, (x0, y0), xytext=(4, 4), textcoords="offset points", fontsize="small")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("MLE")
    ax.set_ylabel("posterior mean")
    ax.set_title("Posterior mean against MLE")
    ax.legend(loc="upper left", fontsize="small")
    return ax


# -- posterior predictive check ---------------------------------------------------------------
def _default_kind(family_name: str) -> str:
    return "kde" if family_name in _CONTINUOUS else "bars"


def _frequencies(values: np.ndarray, edges: np.ndarray, weights=None) -> np.ndarray:
    """Counts of ``values`` (..., n) in the bins ``edges`` along the last axis -> (..., bins).

    Bins are [e_i, e_{i+1}), the last closed; values outside are put in the nearest end bin.
    """
    nb = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, nb - 1)
    lead = idx.shape[:-1]
    flat = idx.reshape(-1, idx.shape[-1])
    w = None if weights is None else np.broadcast_to(weights, flat.shape).ravel()
    rows = np.arange(flat.shape[0])[:, None] * nb
    counts = np.bincount((flat + rows).ravel(), weights=w, minlength=flat.shape[0] * nb)
    return counts.reshape(*lead, nb)


def _ppc_bars(ax, y, y_rep, edges, weights, discrete: bool):
    obs = _frequencies(y, edges, weights)
    rep = _frequencies(y_rep, edges, weights)
    q = (1 - _PPC_INTERVAL) / 2
    lo, med, hi = np.quantile(rep, [q, 0.5, 1 - q], axis=0)
    if discrete and np.all(np.diff(edges) == 1):
        centers, width = edges[:-1], 0.8
    else:
        centers, width = (edges[:-1] + edges[1:]) / 2, 0.9 * np.diff(edges)
    ax.bar(centers, obs, width=width, color=_POST_COLOR, alpha=0.45, label="observed",
           gid="observed")
    cont = ax.errorbar(centers, med, yerr=np.vstack([med - lo, hi - med]), fmt="o", color="k", ms=4,
                       capsize=3,
                       label=f"posterior predictive (median, {100 * _PPC_INTERVAL:g}% interval)")
    cont.lines[0].set_gid("predicted")
    return obs, lo, med, hi


def plot_ppc(fit, kind: str | None = None, num_pp_samples: int = 50, ax=None, seed: int = 0):
    """Posterior predictive check suited to the family: observed y against replicated y.

    ``kind``:

    - ``"kde"`` (default for Gaussian, Gamma, InverseGaussian): the density of y over the
      densities of ``num_pp_samples`` replicated data sets (ArviZ ``plot_ppc``);
      ``"cumulative"`` the same with empirical CDFs.
    - ``"bars"`` (default for Poisson, NegativeBinomial and Binomial): for each count (Binomial
      0/1 data: failure/success; Binomial with trials: the proportion of successes per row, in ten
      bins) the observed number of rows against the median and 94% interval of that number over
      all posterior predictive draws; wide count ranges are grouped into integer bins.
    - ``"hist"``: the same as bars for any family, on about 20 equal bins of y.

    Frequency weights, where the model has them, weight the counts. The posterior predictive draws
    are made (``fit.posterior_predictive(seed=seed)``) if the fit has none yet.

    Parameters
    ----------
    fit : BayesResults
    kind : str, optional
    num_pp_samples : int
        Replicated data sets drawn by the kde/cumulative kinds.
    ax : Axes, optional
    seed : int
        Seed of the posterior predictive draws (when made here) and of the choice of data sets.

    Returns
    -------
    Axes
    """
    fam = fit.family.name
    kind = _default_kind(fam) if kind is None else kind
    if kind not in _PPC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(_PPC_KINDS)}; got {kind!r}")
    if int(num_pp_samples) < 1:
        raise ValueError(f"num_pp_samples must be a positive integer, got {num_pp_samples!r}")
    idata = fit.idata
    if "posterior_predictive" not in idata.groups():
        fit.posterior_predictive(seed=seed)
    y = idata.observed_data["y"].to_numpy().astype(float)
    y_rep = idata.posterior_predictive["y"].to_numpy().astype(float)
    y_rep = y_rep.reshape(-1, y_rep.shape[-1])
    const = idata.constant_data if "constant_data" in idata.groups() else {}
    weights = const["weights"].to_numpy() if "weights" in const else None
    family_title = type(fit.family).__name__
    ax = _new_axes(ax, (7, 4.5))

    if kind in ("kde", "cumulative"):
        total = y_rep.shape[0]
        az.plot_ppc(idata, kind=kind, var_names=["y"],
                    num_pp_samples=min(int(num_pp_samples), total),
                    random_seed=seed, textsize=10, ax=ax, show=False)
        ax.set_xlabel("y")
        ax.set_ylabel("density" if kind == "kde" else "cumulative probability")
        ax.set_title(f"Posterior predictive check ({family_title}): "
                     f"{'densities' if kind == 'kde' else 'ECDFs'} of y and replicated y")
        return ax

    what = "y"
    discrete = True
    if kind == "bars" and fam == "binomial":
        trials = const["trials"].to_numpy().astype(float) if "trials" in const else np.ones_like(y)
        if np.all(trials == 1):
            edges = np.array([0.0, 1.0, 2.0])
            what = "outcome"
        else:
            y, y_rep = y / trials, y_rep / trials[None, :]
            edges = np.linspace(0.0, 1.0, 11)
            discrete = False
            what = "proportion of successes per row"
    elif kind == "bars" and fam in _COUNTS:
        low = int(min(y.min(), np.quantile(y_rep, 0.005)))
        top = int(max(y.max(), np.quantile(y_rep, 0.995)))
        width = max(1, math.ceil((top - low + 1) / _MAX_BINS))
        edges = np.arange(low, top + width + 1, width, dtype=float)
        what = "count" if width == 1 else f"count (bins of {width})"
    else:  # hist, or bars for a continuous family
        lo = float(min(y.min(), np.quantile(y_rep, 0.005)))
        hi = float(max(y.max(), np.quantile(y_rep, 0.995)))
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
        discrete = False
    _ppc_bars(ax, y, y_rep, edges, weights, discrete)
    if what == "outcome":
        ax.set_xticks([0, 1], labels=["0 (failure)", "1 (success)"])
    ax.set_xlabel(what)
    ax.set_ylabel("number of observations" if weights is None
                  else "weighted number of observations")
    ax.set_title(f"Posterior predictive check ({family_title}): observed vs replicated frequencies")
    ax.legend(fontsize="small")
    return ax
