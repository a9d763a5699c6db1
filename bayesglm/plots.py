"""Figures of a Bayesian fit with the classical fit beside it (the only module importing matplotlib).

Every function takes a :class:`~bayesglm.BayesResults` (``plot_predictions`` and ``plot_slopes``
an MLE fit as well), draws on the axes it is given (or on a new figure sized for the number of
rows), sets a title and axis labels, and returns the axes. Nothing
here calls ``plt.show()`` or changes the backend, so the figures work in scripts and notebooks.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox, ScaledTranslation


__all__ = ["plot_trace", "plot_forest", "plot_ppc", "plot_mle_vs_posterior", "plot_ranef",
           "plot_binned_residuals", "plot_predictions", "plot_slopes"]

_PPC_KINDS = ("kde", "cumulative", "hist", "bars", "rootogram", "binned")
_POST_COLOR = "C0"
_MLE_COLOR = "C3"
#: the MLE as a reference line over the chains: black, dashed, with a white halo, on top
_MLE_LINE = dict(color="k", ls="--", lw=1.4, zorder=10,
                 path_effects=[patheffects.withStroke(linewidth=3.0, foreground="white")])
#: central probability of the posterior predictive intervals drawn by plot_ppc's bars
_PPC_INTERVAL = 0.94
#: above this many bins a count axis is grouped into wider integer bins
_MAX_BINS = 40


def _bayes_results():
    from .bayes_results import BayesResults  # lazily: it loads JAX, which plots need not

    return BayesResults


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
    cov = list(fit.cov_names()) if hasattr(fit, "cov_names") else []  # a mixed model's sd/cor
    if var_names is None:
        return names, cov + ([disp] if disp and default_dispersion else [])
    if isinstance(var_names, str):
        var_names = [var_names]
    wanted = [str(v) for v in var_names]
    if not wanted:
        raise ValueError("var_names is empty: pass None for every parameter, or some names")
    valid = names + cov + ([disp] if disp else [])
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
    if not mle.converged or fit.start == "map":
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
        ci = mle.conf_int(alpha)  # a loaded fit's too, from its saved params and bse
        lower, upper = ci.iloc[:, 0], ci.iloc[:, 1]
        for c in coefs:
            out[c] = (float(est[c]), float(lower[c]), float(upper[c]))
    cov = list(fit.cov_names()) if hasattr(fit, "cov_names") else []
    for c in (p for p in params if p in cov):  # lme4's sd's and correlations: no interval
        vc = mle.varcorr()["estimate"]
        if c in vc:
            out[c] = (float(vc[c]), math.nan, math.nan)
    for d in (p for p in params if p not in fit.names and p not in cov):
        disp = fit.mle_dispersion()
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


def _legend_below(ax, *args, ncols: int = 1):
    """The legend under the axes' x label, where it hides nothing drawn."""
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    ax.legend(*args, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
              ncols=ncols, fontsize="small", frameon=False)


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
        Mark the MLE (where it exists) on each row: a black dashed line with a white halo, drawn
        over the chains (gid ``mle_line``).

    Returns
    -------
    ndarray of Axes, shape (rows, 2)
    """
    coefs, disp = _select(fit, var_names, default_dispersion=True)
    params = coefs + disp
    rows = ((1 if coefs else 0) + len(disp)) if compact else len(params)
    var = (["beta"] if coefs else []) + disp
    # the MLE of each row: compact puts every coefficient in the first row
    if compact:
        row_params = ([coefs] if coefs else []) + [[d] for d in disp]
    else:
        row_params = [[p] for p in params]
    mle_rows = None
    if show_mle and _no_mle_reason(fit) is None:
        table = _mle_table(fit, params)
        mle_rows = [[table[p][0] for p in ps if p in table] for ps in row_params]
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
    drawn = False
    for row, values in zip(out, mle_rows or []):
        for v in values:  # ArviZ's reference lines sit faint under the chains: draw our own
            row[0].axvline(v, gid="mle_line", **_MLE_LINE)
            row[1].axhline(v, gid="mle_line", **_MLE_LINE)
            drawn = True
    if axes is None:  # a figure of the caller's keeps its own title
        out[0, 0].get_figure().suptitle(
            f"Posterior trace ({fit.idata.posterior.sizes['chain']} chains)"
            + ("; dashed black lines: MLE" if drawn else "")
        )
    return out


# -- forest ---------------------------------------------------------------------------------
def _mle_alpha(mle_alpha, hdi_prob: float) -> float:
    """The MLE interval's alpha: by default the HDI's probability (one probability for both)."""
    if mle_alpha is None:
        return 1.0 - hdi_prob
    if not 0 < mle_alpha < 1:
        raise ValueError(f"mle_alpha must lie in (0, 1), got {mle_alpha!r}")
    return float(mle_alpha)


def _pct(prob: float) -> str:
    return f"{100 * prob:.10g}%"


def _ratio_name(fit) -> str | None:
    """What exp(coefficient) is under the fit's link: an odds or a rate ratio, or None."""
    link = fit.family.link.name
    if link == "logit":
        return "odds ratio"
    if link == "log":
        return "rate ratio" if fit.family.count_response else "ratio of means"
    return None


def _transformer(transform, fit):
    """(function applied to draws and MLE, axis label, reference value) for ``transform``."""
    if transform is None:
        return None, None, 0.0
    if not callable(transform):
        raise ValueError(f"transform must be a function of an array (such as np.exp), got "
                         f"{transform!r}")

    def apply(x):
        x = np.asarray(x, dtype=float)
        out = np.asarray(transform(x), dtype=float)
        if out.shape != x.shape:
            raise ValueError(f"transform must return an array of the shape it is given: "
                             f"{x.shape} became {out.shape}")
        return out

    if transform is np.exp:
        ratio = _ratio_name(fit)
        label = "exp(coefficient)" + (f": {ratio}" if ratio else "")
    else:
        label = "transformed coefficient"
    return apply, label, float(apply(np.zeros(1))[0])


def plot_forest(fit, var_names=None, hdi_prob: float = 0.94, ax=None, *, mle_alpha=None,
                transform=None):
    """Posterior HDI of each coefficient, with the MLE and its confidence interval beside it.

    For each row the posterior is drawn as its mean (circle), its 50% HDI (thick line) and its
    ``hdi_prob`` HDI (thin line); just below it, the MLE (diamond) and its Wald interval of the
    same probability, in another colour. Where the MLE does not exist (separation; the fit then
    started at the posterior mode) the posterior is drawn alone and the legend and title say so.

    Parameters
    ----------
    fit : BayesResults
    var_names : str or list of str, optional
        Coefficient names and/or the dispersion; ``"beta"`` is every coefficient. Default: every
        coefficient (the dispersion lives on another scale; name it to add it), and for a model
        with group-level terms every ``sd_*`` and ``cor_*`` (lme4's estimate beside each,
        without an interval: lme4 gives none).
    hdi_prob : float
        Probability of the thin HDI, and of the MLE's confidence interval.
    ax : Axes, optional
        Default: a new figure whose height grows with the number of rows.
    mle_alpha : float, optional
        Give the MLE's interval another probability, 100(1 - mle_alpha)%. Default
        ``1 - hdi_prob``.
    transform : callable, optional
        A function applied to the coefficients before they are drawn, such as ``np.exp`` for
        odds ratios (logit link) or rate ratios (log link). The posterior's mean and HDIs are
        those of the transformed draws; the MLE and its interval are the transformed estimate and
        Wald bounds (an increasing function keeps their order). The reference line moves to
        ``transform(0)`` (1 for ``np.exp``) and the axis is labelled accordingly.

    Returns
    -------
    Axes
        Artists have gids: ``posterior_mean``, ``posterior_hdi``, ``posterior_hdi50``,
        ``mle_point``, ``mle_ci``, ``reference``.

    Examples
    --------
    >>> bg.plot_forest(fit, transform=np.exp)  # doctest: +SKIP
    """
    hdi_prob = _check_prob(hdi_prob, "hdi_prob")
    mle_alpha = _mle_alpha(mle_alpha, hdi_prob)
    coefs, disp = _select(fit, var_names, default_dispersion=False)
    apply, tlabel, ref = _transformer(transform, fit)
    if apply is not None and disp:
        raise ValueError(f"transform applies to coefficients; leave the dispersion {disp} out of "
                         "var_names (or plot it without transform)")
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
        if apply is not None:
            x = apply(x)
        means.append(float(x.mean()))
        wide.append(_hdi(x, hdi_prob))
        narrow.append(_hdi(x, 0.5))
    wide, narrow = np.array(wide), np.array(narrow)
    yp = y - off  # rows run top to bottom (the axis is inverted): posterior above, MLE below
    ax.hlines(yp, wide[:, 0], wide[:, 1], color=_POST_COLOR, lw=1.3, gid="posterior_hdi")
    ax.hlines(yp, narrow[:, 0], narrow[:, 1], color=_POST_COLOR, lw=4.0, gid="posterior_hdi50")
    ax.plot(means, yp, "o", color=_POST_COLOR, mfc="white", mew=1.5, ms=6, gid="posterior_mean",
            zorder=3)
    pct = _pct(hdi_prob)
    handles = [(Line2D([], [], color=_POST_COLOR, lw=4.0),
                Line2D([], [], marker="o", color=_POST_COLOR, mfc="white", mew=1.5, ls="none"))]
    labels = [f"posterior (mean, 50% and {pct} HDI)"]

    mle_pct = _pct(1 - mle_alpha)
    if table:
        rows = [i for i, p in enumerate(params) if p in table]
        est = np.array([table[params[i]] for i in rows]).reshape(-1, 3)
        if apply is not None:
            est = apply(est)
            est[:, 1:] = np.sort(est[:, 1:], axis=1)  # a decreasing transform swaps the bounds
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

    if np.isfinite(ref):
        ax.axvline(ref, color="0.5", lw=0.8, ls="--", zorder=0, gid="reference")
    ax.set_yticks(y, labels=params)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlabel(tlabel or ("coefficient value" if not disp else "parameter value"))
    ax.set_ylabel("parameter")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    # below the axes (under the x label), where it hides no interval whatever the number of rows
    _legend_below(ax, handles, labels, ncols=2 if table else 1)
    return ax


# -- MLE against posterior --------------------------------------------------------------------
#: where a label may go around its point: direction (right, up) and gap in points, nearest first
_LABEL_SPOTS = [((ux, uy), gap) for gap in (3, 8, 14, 22, 32, 44, 58)
                for ux, uy in ((1, 1), (1, -1), (-1, 1), (-1, -1),
                               (1, 0), (-1, 0), (0, 1), (0, -1))]


class _LabelPlacer(Artist):
    """Places point labels when the figure is drawn, so that none overlaps another label, a point,
    the legend or the axes' edge, whatever the figure's final size and layout.

    Drawn just before the labels (a lower zorder), it moves each label to the nearest free spot
    of ``_LABEL_SPOTS`` around its point (the least crowded one when none is free) and shows a
    thin leader line from labels set apart from their point.
    """

    def __init__(self, ax: Axes, labels, xy: np.ndarray, marker_pt: float):
        super().__init__()
        self._ax, self._labels, self._xy = ax, list(labels), np.asarray(xy, dtype=float)
        self._marker_pt = marker_pt
        self.set_in_layout(False)  # draws nothing: no box for the layout engine to make room for
        self.set_zorder(min(lab.get_zorder() for lab in self._labels) - 0.01)

    def draw(self, renderer):
        ax, px = self._ax, renderer.points_to_pixels(1.0)
        pts = ax.transData.transform(self._xy)
        half = 0.5 * self._marker_pt * px + 1.0
        taken = [Bbox.from_extents(x - half, y - half, x + half, y + half) for x, y in pts]
        legend = ax.get_legend()
        if legend is not None:
            taken.append(legend.get_window_extent(renderer))
        frame = ax.get_window_extent(renderer)
        for label, (x, y) in zip(self._labels, pts):
            size = Text.get_window_extent(label, renderer)  # without its leader line
            w, h = size.width, size.height
            best = None
            for (ux, uy), gap in _LABEL_SPOTS:
                g = gap * px
                x0 = x + ux * (half + g) - (w if ux < 0 else w / 2 if ux == 0 else 0)
                y0 = y + uy * (half + g) - (h if uy < 0 else h / 2 if uy == 0 else 0)
                box = Bbox.from_bounds(x0, y0, w, h)
                out = max(frame.x0 - box.x0, 0) + max(box.x1 - frame.x1, 0) + \
                    max(frame.y0 - box.y0, 0) + max(box.y1 - frame.y1, 0)
                clash = sum(_overlap(box, t) for t in taken) + out * (w + h)
                if best is None or clash < best[0]:
                    best = (clash, box, ux, uy, gap)
                if clash == 0:
                    break
            _, box, ux, uy, gap = best
            taken.append(box)
            label.set_horizontalalignment("left" if ux > 0 else "right" if ux < 0 else "center")
            label.set_verticalalignment("bottom" if uy > 0 else "top" if uy < 0 else "center")
            xy = (ux * (half / px + gap), uy * (half / px + gap))
            if tuple(label.xyann) != xy:
                label.xyann = xy
            if label.arrow_patch is not None:
                label.arrow_patch.set_visible(gap > 8)


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area shared by two boxes (0 when they only touch)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def plot_mle_vs_posterior(fit, var_names=None, ax=None, *, hdi_prob: float = 0.94,
                          mle_alpha=None, label_max: int = 15):
    """Posterior mean (with HDI bars) against the MLE (with CI bars), and the identity line.

    Points on the identity line are coefficients where the data dominate the prior; points off it
    show shrinkage by the prior (or a skewed posterior). Each point is labelled with its name when
    there are at most ``label_max`` of them; the labels are placed when the figure is drawn, so
    that they overlap neither each other nor the points.

    Parameters
    ----------
    fit : BayesResults
    var_names : str or list of str, optional
        Coefficients and/or the dispersion; default every coefficient.
    ax : Axes, optional
    hdi_prob : float
        Probability of the posterior's HDI (vertical bars) and of the MLE's confidence interval.
    mle_alpha : float, optional
        Give the MLE's interval (horizontal bars) another probability, 100(1 - mle_alpha)%.
        Default ``1 - hdi_prob``.
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
    mle_alpha = _mle_alpha(mle_alpha, hdi_prob)
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
    ms = 5.0
    cont = ax.errorbar(est[:, 0], means, xerr=np.nan_to_num(xerr), yerr=yerr, fmt="o",
                       color=_POST_COLOR, ecolor="0.55", elinewidth=1.0, capsize=2, ms=ms,
                       label=f"coefficient: MLE ± {_pct(1 - mle_alpha)} CI, posterior mean "
                       f"± {_pct(hdi_prob)} HDI")
    cont.lines[0].set_gid("points")
    finite = np.concatenate([est[np.isfinite(est)], hdis.ravel(), means])
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.4", lw=0.9, ls="--",
            label="identity (posterior mean = MLE)", gid="identity", zorder=0)
    if len(params) <= label_max:
        labels = [
            ax.annotate(p, (x0, y0), xytext=(4, 4), textcoords="offset points", fontsize="small",
                        arrowprops=dict(arrowstyle="-", color="0.5", lw=0.6, shrinkA=1,
                                        shrinkB=ms / 2 + 1))
            for p, x0, y0 in zip(params, est[:, 0], means)
        ]
        ax.add_artist(_LabelPlacer(ax, labels, np.column_stack([est[:, 0], means]), ms))
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("MLE")
    ax.set_ylabel("posterior mean")
    ax.set_title("Posterior mean against MLE")
    ax.legend(loc="upper left", fontsize="small")
    return ax


# -- binned residuals ------------------------------------------------------------------------
def _arm_nclass(n: int) -> int:
    """``arm::binnedplot``'s default number of bins."""
    if n >= 100:
        return int(math.floor(math.sqrt(n)))
    return 10 if n > 10 else max(1, n // 2)


def binned_residuals(x, r, nclass: int, weights=None) -> dict[str, np.ndarray]:
    """Residuals ``r`` averaged in bins of ``x``, as ``arm::binned.resids``.

    The bins hold about equal numbers of rows, with breaks half-way between neighbouring sorted
    values of ``x`` (tied values are kept in one bin, so there may be fewer than ``nclass``).
    Returns per bin ``xbar`` and ``ybar`` (mean x and r), ``n`` (rows; with frequency weights,
    their sum), ``xlo``/``xhi`` (range of x) and ``se2``, twice the standard error of ``ybar``
    (sd(r) / sqrt(n), 0 for a bin of one row). Weights act as replicated rows in the means and
    standard errors; the breaks are placed on the rows.
    """
    x, r = np.asarray(x, dtype=float), np.asarray(r, dtype=float)
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    at = np.floor(n * np.arange(1, nclass) / nclass).astype(int)  # R's 1-based breaks.index
    if np.any(at == 0):
        nclass = 1
    xs = np.sort(x)
    breaks = [-math.inf]
    if nclass > 1:
        for i in at:
            lo, hi = xs[i - 1], xs[i]
            if lo == hi:  # a tie across the break: move it below the tied value
                lo = -math.inf if lo == xs[0] else x[x < lo].max()
            breaks.append((lo + hi) / 2)
    else:
        breaks.append((xs[0] + xs[-1]) / 2)
    breaks = np.unique(np.array(breaks + [math.inf]))
    which = np.searchsorted(breaks, x, side="left") - 1  # R's cut(): bins (b_i, b_i+1]
    out = {k: [] for k in ("xbar", "ybar", "n", "xlo", "xhi", "se2")}
    for b in range(len(breaks) - 1):
        m = which == b
        if not m.any():
            continue
        wb, xb, rb = w[m], x[m], r[m]
        nb = wb.sum()
        ybar = np.sum(wb * rb) / nb
        sd = math.sqrt(np.sum(wb * (rb - ybar) ** 2) / (nb - 1)) if nb > 1 else 0.0
        for k, v in (("xbar", np.sum(wb * xb) / nb), ("ybar", ybar), ("n", nb),
                     ("xlo", xb.min()), ("xhi", xb.max()), ("se2", 2 * sd / math.sqrt(nb))):
            out[k].append(float(v))
    return {k: np.array(v) for k, v in out.items()}


def _fitted_and_residuals(fit):
    """(y, fitted mean, frequency weights or None, what the mean is); y on mu's scale."""
    from .results import MLEResults

    if isinstance(fit, _bayes_results()):
        obs = fit.fitted_rows()  # y on mu's scale
        return np.asarray(obs.y, dtype=float), fit.fitted_mean(), obs.weights, \
            "posterior mean of mu"
    if isinstance(fit, MLEResults):
        mu = fit.mu.to_numpy()
        return mu + fit.resid_response.to_numpy(), mu, fit.model.design.weights, "MLE of mu"
    raise TypeError(f"fit must be a BayesResults or an MLEResults, got {type(fit).__name__}")


def plot_binned_residuals(fit, nclass: int | None = None, ax=None):
    """Binned residual plot, as ``arm::binnedplot``: the check for a 0/1 (Bernoulli) response.

    The rows are sorted by their fitted mean and cut into ``nclass`` bins of about equal size;
    each bin is drawn at its average fitted mean against its average residual y - mu (points),
    between the bands ± 2 standard errors of that average (grey lines). With a model that fits,
    about 95% of the points fall inside the bands and they show no pattern; a curve says a
    predictor is missing or needs a transformation. The raw residuals of 0/1 data (two bands of
    points) and a bar chart of 0s and 1s (which any model with an intercept reproduces) show
    neither.

    Parameters
    ----------
    fit : BayesResults or MLEResults
        A posterior uses each row's posterior mean of mu; a classical fit its MLE of mu. Binomial
        rows with trials are on the proportion scale. Frequency weights count as replicated rows.
    nclass : int, optional
        Number of bins; default as arm: floor(sqrt(n)) from 100 rows, else 10 (n/2 up to 10
        rows).
    ax : Axes, optional

    Returns
    -------
    Axes
        The points are the line with gid ``binned_points``, the bands ``se_upper`` and
        ``se_lower``.
    """
    y, mu, w, what = _fitted_and_residuals(fit)
    if nclass is None:
        nclass = _arm_nclass(len(mu))
    elif isinstance(nclass, bool) or int(nclass) != nclass or nclass < 1:
        raise ValueError(f"nclass must be a positive integer, got {nclass!r}")
    b = binned_residuals(mu, y - mu, int(nclass), weights=w)
    ax = _new_axes(ax, (7, 4.5))
    ax.axhline(0.0, color="0.4", lw=0.9, ls="--", zorder=0)
    ax.plot(b["xbar"], b["se2"], color="0.6", lw=1.2, gid="se_upper", label="± 2 standard errors")
    ax.plot(b["xbar"], -b["se2"], color="0.6", lw=1.2, gid="se_lower")
    outside = int(np.sum(np.abs(b["ybar"]) > b["se2"]))
    ax.plot(b["xbar"], b["ybar"], "o", color="k", ms=4, gid="binned_points",
            label=f"average residual y - mu of a bin ({outside} of {len(b['xbar'])} outside)")
    binary = fit.family.ppc_kind == "binomial" and np.all((y == 0) | (y == 1))
    ax.set_xlabel(f"expected value ({what}" + (": the fitted probability)" if binary else ")"))
    ax.set_ylabel("average residual")
    ax.set_title(f"Binned residuals ({type(fit.family).__name__})")
    _legend_below(ax, ncols=2)
    return ax


# -- posterior (and prior) predictive check ---------------------------------------------------
def _response_type(family, y, y_rep, trials) -> str:
    """"binary", "proportion", "count" or "continuous": from the family, or else the values."""
    if family is not None:
        if family.ppc_kind == "binomial":
            return "binary" if trials is None or np.all(trials == 1) else "proportion"
        if family.ppc_kind == "ordinal":  # the categories' codes 0 .. K-1: a bar each
            return "ordinal"
        if family.ppc_kind == "zero_count":  # counts with a zero part: a rootogram by default
            return "count"
        return family.ppc_kind
    finite = y_rep[np.isfinite(y_rep)]
    if np.all(y == np.round(y)) and np.all(finite == np.round(finite)) and y.min() >= 0:
        return "binary" if y.max() <= 1 and finite.max(initial=0) <= 1 else "count"
    return "continuous"


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


def _bar_positions(edges: np.ndarray, discrete: bool):
    """(centres, widths) of the bars over ``edges``: unit bins of a discrete response centred
    on their value, else on the bin's middle."""
    if discrete and np.all(np.diff(edges) == 1):
        return edges[:-1], np.full(len(edges) - 1, 0.8)
    return (edges[:-1] + edges[1:]) / 2, 0.9 * np.diff(edges)


def _ppc_bars(ax, y, y_rep, edges, weights, discrete: bool, source: str):
    obs = _frequencies(y, edges, weights)
    rep = _frequencies(y_rep, edges, weights)
    q = (1 - _PPC_INTERVAL) / 2
    lo, med, hi = np.quantile(rep, [q, 0.5, 1 - q], axis=0)
    centers, width = _bar_positions(edges, discrete)
    ax.bar(centers, obs, width=width, color=_POST_COLOR, alpha=0.45, label="observed",
           gid="observed")
    cont = ax.errorbar(centers, med, yerr=np.vstack([med - lo, hi - med]), fmt="o", color="k", ms=4,
                       capsize=3,
                       label=f"{source} predictive (median, {_pct(_PPC_INTERVAL)} interval)")
    cont.lines[0].set_gid("predicted")


def _rootogram(ax, y, y_rep, edges, weights, source: str):
    """A hanging rootogram (Kleiber & Zeileis 2016): for each count, a bar of height
    sqrt(observed frequency) hangs from sqrt(expected frequency) (the mean over the replicated
    data sets); where its bottom leaves the band around 0 (the 94% interval of
    sqrt(expected) - sqrt(replicated frequency)) the model misses that count."""
    obs = _frequencies(y, edges, weights)
    rep = _frequencies(y_rep, edges, weights)
    expected = rep.mean(axis=0)
    top = np.sqrt(expected)
    q = (1 - _PPC_INTERVAL) / 2
    lo, hi = np.quantile(top[None, :] - np.sqrt(rep), [q, 1 - q], axis=0)
    centers, width = _bar_positions(edges, True)
    ax.bar(centers, np.sqrt(obs), width=width, bottom=top - np.sqrt(obs), color=_POST_COLOR,
           alpha=0.45, label="sqrt(observed), hanging from the expected", gid="observed")
    half = np.diff(edges) / 2
    ax.fill_between(np.column_stack([centers - half, centers + half]).ravel(), np.repeat(lo, 2),
                    np.repeat(hi, 2), color="0.6", alpha=0.35, lw=0,
                    label=f"{_pct(_PPC_INTERVAL)} band of a replicated bar's bottom", gid="band")
    ax.plot(centers, top, "o-", color="k", ms=3.5, lw=1.2,
            label=f"sqrt(expected frequency), {source} predictive", gid="expected")
    ax.axhline(0.0, color="k", lw=0.8)


def _ppc_source(fit):
    """(InferenceData, family or None, "posterior" or "prior") of what plot_ppc was given.

    A fit is always "posterior" (its predictive draws may still have to be made)."""
    if isinstance(fit, az.InferenceData):
        idata, family = fit, None
    elif isinstance(fit, _bayes_results()):
        return fit.idata, fit.family, "posterior"
    else:
        raise TypeError("plot_ppc takes a fit (BayesResults) or an InferenceData with a "
                        "posterior_predictive or prior_predictive group (such as "
                        f"model.sample_prior()); got {type(fit).__name__}")
    for group in ("posterior", "prior"):
        if f"{group}_predictive" in idata.groups():
            return idata, family, group
    raise ValueError("this InferenceData has no posterior_predictive or prior_predictive group: "
                     "pass the fit itself, or model.sample_prior()")


def _bins(y, y_rep, rtype, trials, categories=None):
    """(y, y_rep, bin edges, discrete, x label) of the bar chart of ``rtype`` data
    (``categories``: an ordinal response's number of categories, where known)."""
    finite = y_rep[np.isfinite(y_rep)]  # a prior predictive can overflow
    if rtype == "binary":
        return y, y_rep, np.array([0.0, 1.0, 2.0]), True, "outcome"
    if rtype == "proportion":
        return y / trials, y_rep / trials, np.linspace(0.0, 1.0, 11), False, \
            "proportion of successes per row"
    if rtype == "ordinal":
        k = categories or int(max(y.max(), finite.max(initial=0))) + 1
        return y, y_rep, np.arange(0.0, k + 1.0), True, "category"
    if rtype == "count":
        low = int(min(y.min(), np.quantile(finite, 0.005)))
        top = int(max(y.max(), np.quantile(finite, 0.995)))
        width = max(1, math.ceil((top - low + 1) / _MAX_BINS))
        edges = np.arange(low, top + width + 1, width, dtype=float)
        return y, y_rep, edges, True, "count" if width == 1 else f"count (bins of {width})"
    lo = float(min(y.min(), np.quantile(finite, 0.005)))
    hi = float(max(y.max(), np.quantile(finite, 0.995)))
    return y, y_rep, np.linspace(lo, hi if hi > lo else lo + 1.0, 21), False, "y"


def plot_ppc(fit, kind: str | None = None, num_pp_samples: int = 50, ax=None, seed: int = 0):
    """Posterior (or prior) predictive check suited to the response: observed y against
    replicated y.

    ``kind``:

    - ``"kde"`` (default for Gaussian, Gamma, InverseGaussian): the density of y over the
      densities of ``num_pp_samples`` replicated data sets (ArviZ ``plot_ppc``);
      ``"cumulative"`` the same with empirical CDFs.
    - ``"bars"`` (default for counts, Binomial with trials, and a prior's 0/1 data): for each
      count (0/1 data: failure/success; Binomial with trials: the proportion of successes per
      row, in ten bins) the observed number of rows against the median and 94% interval of that
      number over all replicated data sets; wide count ranges are grouped into integer bins.
    - ``"binned"`` (default for a fit to a 0/1 response): the binned residual plot of
      :func:`plot_binned_residuals`. The bars of a 0/1 response only compare the number of 1s,
      which any model with an intercept reproduces; binned residuals show where the fitted
      probabilities are off.
    - ``"hist"``: the same as bars for any response, on about 20 equal bins of y.
    - ``"rootogram"`` (default for zero-inflated and hurdle counts; any count response): a
      hanging rootogram (Kleiber & Zeileis 2016, *The American Statistician* 70): for each count
      a bar of height sqrt(observed frequency) hangs from the curve of sqrt(expected frequency)
      (the mean over the replicated data sets), so that misfit shows as a bar's bottom away from
      0 on a scale where small frequencies stay visible; the grey band is the 94% interval of a
      replicated data set's bar bottoms.
    - Ordinal responses (``Cumulative``) get bars per category, labelled with the levels.

    Frequency weights, where the model has them, weight the counts. The posterior predictive draws
    are made (``fit.posterior_predictive(seed=seed)``) if the fit has none yet.

    Parameters
    ----------
    fit : BayesResults or arviz.InferenceData
        A fit, or an InferenceData with a ``posterior_predictive`` or ``prior_predictive`` group
        and ``observed_data``: ``bg.plot_ppc(model.sample_prior())`` is a prior predictive check
        (the kind then follows the values: 0/1, counts or continuous).
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
    if kind is not None and kind not in _PPC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(_PPC_KINDS)}; got {kind!r}")
    if int(num_pp_samples) < 1:
        raise ValueError(f"num_pp_samples must be a positive integer, got {num_pp_samples!r}")
    idata, family, group = _ppc_source(fit)
    y = idata.observed_data["y"].to_numpy().astype(float)
    const = idata.constant_data if "constant_data" in idata.groups() else {}
    weights = const["weights"].to_numpy() if "weights" in const else None
    trials = const["trials"].to_numpy().astype(float) if "trials" in const else None
    y_rep = None
    if family is None:  # an InferenceData: its predictive draws tell what the response is
        y_rep = idata[f"{group}_predictive"]["y"].to_numpy().astype(float)
    rtype = _response_type(family, y, y_rep, trials)
    if kind is None:
        kind = {"continuous": "kde", "binary": "binned" if group == "posterior" else "bars"}.get(
            rtype, "bars")
        if family is not None and family.ppc_kind == "zero_count":
            kind = "rootogram"
    if kind == "rootogram" and rtype != "count":
        raise ValueError(f"kind='rootogram' is for count responses; this one is {rtype} "
                         f"(use kind='bars' or 'hist')")
    if kind == "binned":
        if group != "posterior" or family is None:
            raise ValueError("kind='binned' (binned residuals) needs a posterior fit: pass the "
                             "fit; a prior predictive check of 0/1 data uses kind='bars'")
        ax = plot_binned_residuals(fit, ax=ax)
        ax.set_title(f"Posterior check ({type(family).__name__}, 0/1 response): binned residuals")
        return ax
    if y_rep is None:
        if "posterior_predictive" not in idata.groups():
            fit.posterior_predictive(seed=seed)
        y_rep = idata.posterior_predictive["y"].to_numpy().astype(float)
    y_rep = y_rep.reshape(-1, y_rep.shape[-1])
    source = group.capitalize()
    where = f" ({type(family).__name__})" if family is not None else ""
    ax = _new_axes(ax, (7, 4.5))

    if kind in ("kde", "cumulative"):
        total = y_rep.shape[0]
        az.plot_ppc(idata, kind=kind, var_names=["y"], group=group,
                    num_pp_samples=min(int(num_pp_samples), total),
                    random_seed=seed, textsize=10, ax=ax, show=False)
        ax.set_xlabel("y")
        ax.set_ylabel("density" if kind == "kde" else "cumulative probability")
        ax.set_title(f"{source} predictive check{where}: "
                     f"{'densities' if kind == 'kde' else 'ECDFs'} of y and replicated y")
        return ax

    if kind == "hist":
        rtype = "continuous"
    levels = getattr(family, "levels", None)
    y, y_rep, edges, discrete, what = _bins(y, y_rep, rtype, trials,
                                            None if levels is None else len(levels))
    number = "number of observations" if weights is None else "weighted number of observations"
    if kind == "rootogram":
        _rootogram(ax, y, y_rep, edges, weights, group)
        ax.set_xlabel(what)
        ax.set_ylabel(f"sqrt({number})")
        ax.set_title(f"{source} predictive check{where}: hanging rootogram")
        ax.legend(fontsize="small")
        return ax
    _ppc_bars(ax, y, y_rep, edges, weights, discrete, group)
    if what == "outcome":
        ax.set_xticks([0, 1], labels=["0 (failure)", "1 (success)"])
    if what == "category" and levels is not None:  # an ordinal family's categories by name
        ax.set_xticks(np.arange(len(levels)), labels=[str(v) for v in levels])
    ax.set_xlabel(what)
    ax.set_ylabel(number)
    ax.set_title(f"{source} predictive check{where}: observed vs replicated frequencies")
    ax.legend(fontsize="small")
    return ax


# -- group-level effects ----------------------------------------------------------------------
def plot_ranef(fit, group: str | None = None, term: str | None = None, hdi_prob: float = 0.94,
               ax=None):
    """Caterpillar plot of one term's group-level effects: every level's posterior mean and HDI,
    sorted, with lme4's conditional mode beside each.

    Parameters
    ----------
    fit : MixedBayesResults
        The Bayesian fit of a model with group-level terms.
    group : str, optional
        The term's label (its group: ``"herd"``; ``"g.1"`` for a second term of group ``g``).
        Default: the first term.
    term : str, optional
        The term's column (``"Intercept"``, ``"Days"``). Default: the term's first column.
    hdi_prob : float
        Probability of the HDI.
    ax : Axes, optional
        Default: a new figure whose height grows with the number of levels.

    Returns
    -------
    Axes
        Artists have gids: ``posterior_mean``, ``posterior_hdi``, ``mle_mode``, ``reference``.
    """
    hdi_prob = _check_prob(hdi_prob, "hdi_prob")
    if not hasattr(fit, "factors"):
        raise TypeError("plot_ranef needs the Bayesian fit of a model with group-level terms "
                        f"(a MixedBayesResults), got {type(fit).__name__}")
    effects = fit.ranef(hdi_prob=hdi_prob)
    labels = list(effects)
    label = labels[0] if group is None else group
    if label not in effects:
        raise ValueError(f"group {group!r} is not a group-level term of the fit; its terms are "
                         f"{labels}")
    table = effects[label]
    terms = list(dict.fromkeys(table.columns.get_level_values(0)))
    t = terms[0] if term is None else term
    if t not in terms:
        raise ValueError(f"term {term!r} is not a column of {label!r}; its columns are {terms}")
    lo, hi = [c for c in table[t].columns if c.startswith("hdi_")]
    order = np.argsort(table[t]["mean"].to_numpy())
    rows = table[t].iloc[order]
    k = len(rows)
    ax = _new_axes(ax, (6.5, 1.6 + 0.22 * min(k, 120)))
    y = np.arange(k, dtype=float)
    ax.hlines(y, rows[lo], rows[hi], color=_POST_COLOR, lw=1.2, gid="posterior_hdi")
    ax.plot(rows["mean"], y, "o", color=_POST_COLOR, mfc="white", ms=4, gid="posterior_mean",
            zorder=3)
    handles = [Line2D([], [], marker="o", color=_POST_COLOR, mfc="white")]
    names = [f"posterior (mean, {_pct(hdi_prob)} HDI)"]
    if fit.mle is not None and hasattr(fit.mle, "ranef"):
        modes = fit.mle.ranef()[label][t].reindex(rows.index)
        ax.plot(modes.to_numpy(), y, "D", color=_MLE_COLOR, ms=3.5, gid="mle_mode", zorder=4)
        handles.append(Line2D([], [], marker="D", color=_MLE_COLOR, ls="none"))
        names.append("lme4's conditional mode")
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--", zorder=0, gid="reference")
    ax.set_yticks(y, labels=[str(v) for v in rows.index] if k <= 120 else [])
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlabel(f"group-level effect: {t}")
    ax.set_ylabel(label)
    ax.set_title(f"{label}: {k} levels, sorted by posterior mean")
    ax.grid(axis="x", alpha=0.3)
    _legend_below(ax, handles, names, ncols=2)
    return ax


# -- predictions and slopes on a grid ---------------------------------------------------------
def plot_predictions(fit, condition, *, type: str = "response", conf_level: float = 0.95,
                     ax=None):
    """Predictions over a grid of one or two columns (``condition``, as marginaleffects'
    ``plot_predictions``): the posterior's mean and HDI band, with the MLE's delta-method
    confidence band beside it (dashed) where the fit has one.

    Parameters
    ----------
    fit : BayesResults or MLEResults
        A fit of a model made by ``bg.glm(formula, data, ...)``.
    condition : str, list or dict
        The x axis, then (optionally) the series: see :func:`bayesglm.interpret.condition_grid`.
        Every other column is at its mean or mode (:func:`bayesglm.datagrid`).
    type : {"response", "link"}
        The scale of the predictions.
    conf_level : float
        Probability of the HDI and of the confidence band.
    ax : Axes, optional

    Returns
    -------
    Axes
        Artists have gids: ``posterior_line``, ``posterior_band``, ``mle_line``, ``mle_band``
        (a numeric x), ``posterior_point``, ``mle_point`` (a categorical x).
    """
    from .interpret import condition_grid

    grid, cols = condition_grid(fit, condition)
    table = _interpretation(fit, "predictions", grid, type=type, conf_level=conf_level)
    what = "mean" if type == "response" else "linear predictor"
    return _conditional(ax, table, cols, conf_level, ylabel=f"predicted {what} ({type} scale)",
                        title=f"predictions by {' and '.join(cols)}")


def plot_slopes(fit, variables: str, condition, *, type: str = "response",
                conf_level: float = 0.95, ax=None):
    """The slope of the prediction in ``variables`` (one numeric column) over a grid of one or
    two columns (``condition``), the posterior's band with the MLE's beside it, as
    :func:`plot_predictions` draws predictions (marginaleffects' ``plot_slopes``)."""
    from .interpret import condition_grid

    if not isinstance(variables, str):
        raise TypeError(f"variables: plot_slopes draws one column's slope; got {variables!r}")
    grid, cols = condition_grid(fit, condition)
    table = _interpretation(fit, "slopes", grid, variables=variables, type=type,
                            conf_level=conf_level)
    return _conditional(ax, table, cols, conf_level,
                        ylabel=f"d prediction / d {variables} ({type} scale)",
                        title=f"slope of {variables} by {' and '.join(cols)}")


def _interpretation(fit, what, grid, **kwargs):
    """The quantity's table: posterior columns with the MLE's beside them (``mle``,
    ``mle_conf_low``, ``mle_conf_high``), or the MLE's alone."""
    if not hasattr(fit, what):
        raise TypeError(f"{what} need a fit of a GLM (BayesResults or MLEResults), got "
                        f"{type(fit).__name__}")
    bayes = hasattr(fit, "idata")
    side = bayes and getattr(fit, "mle", None) is not None
    method = getattr(fit, what)
    if what == "slopes":
        variables = kwargs.pop("variables")
        table = method(variables, grid, side_by_side=side, **kwargs)
    else:
        table = method(grid, side_by_side=side, **kwargs)
    if not bayes:  # the MLE's own columns, under the names the drawing reads
        table = table.rename(columns={"estimate": "mle", "conf_low": "mle_conf_low",
                                      "conf_high": "mle_conf_high"})
    return table


def _conditional(ax, table, cols, conf_level, *, ylabel, title):
    x, series = cols[0], (cols[1] if len(cols) > 1 else None)
    post = "estimate" in table.columns
    mle = "mle" in table.columns
    col = table[x]
    numeric = (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
               and col.nunique() > 2)
    groups = [(None, table)] if series is None else list(table.groupby(series, sort=False))
    ax = _new_axes(ax, (6.5, 4.2))
    pct = _pct(conf_level)
    handles, names = [], []
    if numeric:
        for k, (level, t) in enumerate(groups):
            t = t.sort_values(x)
            c = f"C{k}"
            xs = t[x].to_numpy(dtype=float)

            def v(name, t=t):
                return t[name].to_numpy(dtype=float)
            if post:
                ax.fill_between(xs, v("conf_low"), v("conf_high"), color=c, alpha=0.25, lw=0,
                                gid="posterior_band")
                ax.plot(xs, v("estimate"), color=c, lw=1.8, gid="posterior_line")
            if mle:
                ax.plot(xs, v("mle"), color=c, ls="--", lw=1.2, gid="mle_line", zorder=3)
                ax.plot(xs, v("mle_conf_low"), color=c, ls=":", lw=1.0, gid="mle_band")
                ax.plot(xs, v("mle_conf_high"), color=c, ls=":", lw=1.0, gid="mle_band")
            if series is not None:
                handles.append(Line2D([], [], color=c, lw=6, alpha=0.5))
                names.append(f"{series} = {_level_text(level)}")
        if post:
            handles.append(Line2D([], [], color="0.3", lw=1.8))
            names.append(f"posterior mean, {pct} HDI (band)")
        if mle:
            handles.append(Line2D([], [], color="0.3", ls="--", lw=1.2))
            names.append(f"MLE, {pct} confidence band (dotted)")
    else:
        levels = list(dict.fromkeys(table[x].tolist()))
        pos = {v: i for i, v in enumerate(levels)}
        width = 0.7 / max(len(groups), 1)
        for k, (level, t) in enumerate(groups):
            c = f"C{k}"
            base = np.array([pos[v] for v in t[x]], dtype=float) - 0.35 + width * (k + 0.5)
            for src, fmt, shift in (("posterior", "o", -0.18 * mle), ("mle", "D", 0.18 * post)):
                est = "estimate" if src == "posterior" else "mle"
                low, high = ("conf_low", "conf_high") if src == "posterior" else \
                    ("mle_conf_low", "mle_conf_high")
                if est not in t.columns:
                    continue
                e, lo, hi = (t[name].to_numpy(dtype=float) for name in (est, low, high))
                ax.errorbar(base + width * shift, e, yerr=[e - lo, hi - e], fmt=fmt, color=c,
                            ms=5 if src == "posterior" else 4, capsize=0 if src == "posterior"
                            else 2, elinewidth=1.2 if src == "posterior" else 0.9,
                            mfc="white" if src == "posterior" else c, gid=f"{src}_point")
            if series is not None:
                handles.append(Line2D([], [], color=c, marker="s", ls="none"))
                names.append(f"{series} = {_level_text(level)}")
        ax.set_xticks(range(len(levels)), labels=[_level_text(v) for v in levels])
        if post:
            handles.append(Line2D([], [], color="0.3", marker="o", mfc="white", ls="none"))
            names.append(f"posterior mean, {pct} HDI")
        if mle:
            handles.append(Line2D([], [], color="0.3", marker="D", ls="none"))
            names.append(f"MLE, {pct} confidence interval")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _legend_below(ax, handles, names, ncols=2)
    return ax


def _level_text(v) -> str:
    return f"{v:.3g}" if isinstance(v, float | np.floating) else str(v)
