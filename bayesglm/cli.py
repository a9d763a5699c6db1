"""The ``bayesglm`` command.

::

    bayesglm fit DATA.csv --formula "y ~ x1 + x2" --family poisson [--link log]
                 [--exposure COL] [--offset COL] [--weights COL] [--trials COL]
                 [--priors auto|gelman2008|flat] [--missing raise|drop]
                 [--draws N] [--warmup N] [--chains N] [--seed N] [--out DIR] [--no-progress]
    bayesglm demo [--draws N] [--chains N] [--seed N] [--out DIR] [--no-progress]
    bayesglm datasets [NAME]

``fit`` and ``demo`` print the classical and Bayesian fits side by side (``BayesResults.summary``)
and the sampler's diagnostics, and write to DIR (default ``./bayesglm-out``): ``summary.csv``,
``fit.nc`` (the InferenceData with the model spec, ``bg.load`` reads it back), ``trace.png`` and
``forest.png``. Bad arguments (a missing file, a bad formula, an unknown family or link, a column
not in the data) print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

__all__ = ["main"]

#: exit status for bad arguments or data (as argparse)
USAGE_ERROR = 2
_PRIORS = ("auto", "gelman2008", "flat")

#: the demo model: a Poisson GLM with exposure on the bundled (synthetic) claims data
DEMO = {
    "dataset": "claims",
    "formula": "claims ~ age + vehicle + region",
    "family": "poisson",
    "exposure": "holders",
}


class UsageError(Exception):
    """A bad argument: reported as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(USAGE_ERROR)


def _int_at_least(low: int):
    """An argparse type: a whole number >= low, with a one-line error otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a number >= {low}, got {value}")
        return value

    return parse


_count, _nonnegative = _int_at_least(1), _int_at_least(0)


def _sampling_args(p, draws: int = 1000, chains: int = 4) -> None:
    p.add_argument("--draws", type=_count, default=draws, help=f"draws per chain (default {draws})")
    p.add_argument("--warmup", type=_nonnegative, default=None,
                   help="warmup iterations per chain (default: bayesglm's choice, 200 from "
                        "the MLE)")
    p.add_argument("--chains", type=_count, default=chains, help=f"chains (default {chains})")
    p.add_argument("--seed", type=_nonnegative, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="bayesglm-out", metavar="DIR",
                   help="output folder (default ./bayesglm-out)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while sampling")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bayesglm",
                     description="Bayesian GLMs with the classical fit beside them.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{fit,demo,datasets}")
    fit = sub.add_parser("fit", help="fit a GLM to a CSV file (MLE and NUTS) and write the results",
                         description="Fit a GLM to a CSV file: the MLE, then NUTS started from it.")
    fit.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    fit.add_argument("--formula", required=True, help='e.g. "y ~ x1 + np.log(x2) + C(group)"')
    fit.add_argument("--family", required=True,
                     help="gaussian, binomial, poisson, gamma, inverse_gaussian, negative_binomial")
    fit.add_argument("--link", default=None, help="link (default: the family's canonical link)")
    for role, text in (("exposure", "exposure column (log link; log(exposure) is an offset)"),
                       ("offset", "offset column (added to the linear predictor)"),
                       ("weights", "frequency-weight column"),
                       ("trials", "binomial trials column (the response counts successes)")):
        fit.add_argument(f"--{role}", default=None, metavar="COL", help=text)
    fit.add_argument("--priors", default="auto", choices=_PRIORS,
                     help="auto (weakly informative, the default), gelman2008 or flat")
    fit.add_argument("--missing", default="raise", choices=("raise", "drop"),
                     help="rows with missing values: an error (default) or dropped")
    _sampling_args(fit)
    demo = sub.add_parser("demo", help="fit a Poisson GLM with exposure to a bundled data set",
                          description="Fit the bundled 'claims' data (a Poisson GLM with "
                                      "exposure): the MLE, then NUTS; print and write the results.")
    _sampling_args(demo)
    ds = sub.add_parser("datasets", help="list the bundled data sets (or describe one)")
    ds.add_argument("name", nargs="?", default=None, help="describe this data set")
    return parser


# -- running a fit --------------------------------------------------------------------------
def _use_agg() -> None:
    """Draw off-screen: the Agg backend, whether or not matplotlib is already imported."""
    os.environ["MPLBACKEND"] = "Agg"
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        mpl.use("Agg", force=True)


def _format_table(table, extra=None) -> str:
    import pandas as pd

    table = table.copy()
    if extra is not None:
        table.insert(0, extra.name, extra.reindex(table.index))
    fmt = {c: (lambda v: "" if pd.isna(v) else f"{v:.0f}") for c in ("ess_bulk", "ess_tail")}
    fmt["r_hat"] = lambda v: "" if pd.isna(v) else f"{v:.3f}"
    for c in table.columns:
        fmt.setdefault(c, lambda v: "" if pd.isna(v) else f"{v:.4g}")
    return table.to_string(formatters=fmt)


def _warning_lines(caught) -> list[str]:
    """bayesglm's own warnings as report lines; any other warning is shown as usual."""
    from ._warnings import BayesGLMWarning

    lines = []
    for w in caught:
        if issubclass(w.category, BayesGLMWarning):
            lines.append(f"{w.category.__name__}: {w.message}")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return lines


def _report(model, args, *, title: str, truth=None, shown=()) -> int:
    import numpy as np

    from ._warnings import BayesGLMWarning

    fam = model.family
    print(title)
    print(f"{type(fam).__name__} family, {fam.link.name} link; {model.nobs} rows, "
          f"{len(model.names)} coefficients; {args.chains} chains x {args.draws} draws "
          f"(seed {args.seed})", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BayesGLMWarning)
        try:
            fit = model.fit(draws=args.draws, warmup=args.warmup, chains=args.chains,
                            seed=args.seed, progress=not args.no_progress)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
    shown = [*shown, *_warning_lines(caught)]

    table = fit.summary()
    print("\nClassical fit (mle, mle_se) beside the posterior (94% HDI):")
    print(_format_table(table, truth))
    notes = []
    if fit.mle is None:
        notes.append("The MLE does not exist (e.g. separation): NUTS started at the posterior "
                     "mode, and the mle columns are empty.")
    if fit.response_note():
        notes.append(fit.response_note())
    if model.design.n_dropped:
        notes.append(f"{model.design.n_dropped} rows with missing values were dropped.")
    if truth is not None:
        notes.append("true: the coefficients the synthetic data were drawn from.")
    for n in notes:
        print(n)
    print("\nSampler diagnostics per chain:")
    print(fit.diagnostics().to_string(float_format=lambda v: f"{v:.4g}"))
    if shown:
        print("\nWarnings:")
        for line in shown:
            print(f"  {line}")
    else:
        print("No sampling warnings (divergences, R-hat, ESS, tree depth all fine).")

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create {out} ({exc.strerror or exc})") from None
    written = []
    table.to_csv(out / "summary.csv", index_label="param")
    written.append(out / "summary.csv")
    fit.save(out / "fit.nc")
    written.append(out / "fit.nc")

    _use_agg()
    from .plots import plot_forest, plot_trace

    axes = np.asarray(plot_trace(fit)).ravel()
    fig = axes[0].get_figure()
    fig.savefig(out / "trace.png", dpi=100, bbox_inches="tight")
    written.append(out / "trace.png")
    ax = plot_forest(fit)
    fig2 = ax.get_figure()
    fig2.savefig(out / "forest.png", dpi=100, bbox_inches="tight")
    written.append(out / "forest.png")
    for f in (fig, fig2):
        _close(f)
    print("\nWrote " + ", ".join(str(p) for p in written))
    print(f"(read the fit back with bg.load({str(out / 'fit.nc')!r}))")
    return 0


def _close(fig) -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)


def _read_csv(path_text: str):
    import pandas as pd

    path = Path(path_text)
    if not path.exists():
        raise UsageError(f"cannot read {path_text}: no such file")
    if path.is_dir():
        raise UsageError(f"cannot read {path_text}: it is a folder, not a CSV file")
    try:
        df = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot read {path_text} as CSV: {msg}") from None
    if df.empty:
        raise UsageError(f"{path_text} has no data rows")
    return df


def _cmd_fit(args) -> int:
    df = _read_csv(args.data)
    from .families import get_family

    try:
        family = get_family(args.family, args.link)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    cols = list(map(str, df.columns))
    roles = {}
    for role in ("exposure", "offset", "weights", "trials"):
        col = getattr(args, role)
        if col is not None and col not in cols:
            raise UsageError(f"--{role}: column {col!r} is not in {args.data} (its columns: "
                             f"{', '.join(cols)})")
        roles[role] = col
    from .glm import GLM

    from ._warnings import BayesGLMWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BayesGLMWarning)
            model = GLM.from_formula(args.formula, df, family, priors=args.priors,
                                     missing=args.missing, context={}, **roles)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    title = f"bayesglm fit: {args.formula}  ({args.data})"
    return _report(model, args, title=title, shown=_warning_lines(caught))


def _cmd_demo(args) -> int:
    import pandas as pd

    from . import datasets
    from .datasets._make_datasets import CLAIMS_TRUE
    from .glm import GLM

    df = datasets.load(DEMO["dataset"])
    model = GLM.from_formula(DEMO["formula"], df, DEMO["family"], exposure=DEMO["exposure"],
                             context={})
    title = (f"bayesglm demo: a Poisson GLM with exposure, {DEMO['formula']} with "
             f"exposure={DEMO['exposure']!r}, on the bundled '{DEMO['dataset']}' data\n"
             "(synthetic grouped insurance claims; bayesglm datasets claims describes them)")
    truth = pd.Series(CLAIMS_TRUE, name="true")
    return _report(model, args, title=title, truth=truth)


def _cmd_datasets(args) -> int:
    from . import datasets

    if args.name is not None:
        try:
            print(datasets.describe(args.name))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return 0
    items = datasets.list()
    width = max(map(len, items))
    for name, text in items.items():
        print(f"{name:<{width}}  {text}")
    print("\nbayesglm datasets NAME describes one (source, licence, variables); in Python: "
          "bg.datasets.load(NAME)")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``bayesglm`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    commands = {"fit": _cmd_fit, "demo": _cmd_demo, "datasets": _cmd_datasets}
    try:
        return commands[args.command](args)
    except UsageError as exc:
        text = str(exc).strip().splitlines()
        sys.stderr.write(f"bayesglm {args.command}: error: {text[0] if text else 'bad input'}\n")
        return USAGE_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("bayesglm: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
