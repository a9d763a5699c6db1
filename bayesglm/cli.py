"""The ``bayesglm`` command.

::

    bayesglm fit DATA.csv --formula "y ~ x1 + x2" --family poisson [--link log]
                 [--zero FORMULA] [--exposure COL] [--offset COL] [--weights COL] [--trials COL]
                 [--priors auto|gelman2008|flat] [--missing raise|drop]
                 [--draws N] [--warmup N] [--chains N] [--seed N] [--target-accept P]
                 [--max-tree-depth N] [--out DIR] [--no-progress]
    bayesglm demo [--draws N] [--chains N] [--seed N] [--out DIR] [--no-progress]
    bayesglm datasets [NAME]
    bayesglm --version

``fit`` and ``demo`` print the priors used, the classical fit (deviance, residual df, AIC) and,
side by side, the classical and Bayesian coefficient tables (``BayesResults.summary`` with the
MLE's p-values; rounded for display), then the sampler's diagnostics; and write to DIR (default
``./bayesglm-out``): ``summary.csv`` (that table), ``mle.csv`` (the classical coefficient table),
``priors.csv`` (``GLM.prior_summary``), all at full precision, ``fit.nc`` (the InferenceData with
the model spec, ``bg.load`` reads it back), ``trace.png`` and ``forest.png``. Advice from the
library is reworded for the command line (``--draws N``, not ``fit(draws=...)``). Bad arguments
(a missing file, a bad formula, an unknown family or link, a column not in the data) print one
line on stderr and exit with status 2.

The module imports only the standard library at import time, so that ``--help`` and
``--version`` answer at once; the package (JAX) is imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import re
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


_FIT_EPILOG = """\
prints the priors used, the classical fit (deviance, df, AIC, p-values) beside the posterior, and
the sampler's diagnostics; writes summary.csv, mle.csv, priors.csv (full precision), fit.nc,
trace.png and forest.png to DIR.

R formulas, as written here:
  cbind(s, f) ~ x          s + f ~ x              (successes + failures)
  s/n ~ x   (proportions)  s ~ x --trials n
  y ~ x + offset(log(t))   y ~ x --exposure t     (log link; else --offset COL)
  factor(g)                C(g)
"""


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


def _probability(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text}")
    return value


class _VersionAction(argparse.Action):
    """``--version``: the versions are looked up only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                         nargs=0, help="print the versions of bayesglm, JAX, NumPyro and "
                                       "ArviZ, and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())
        parser.exit()


def _version() -> str:
    """``bayesglm 0.1.0 (jax ..., numpyro ..., Python ...)``, from the installed metadata (no
    import of JAX)."""
    from importlib import metadata

    from . import __version__

    parts = []
    for dist in ("jax", "numpyro", "arviz"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    parts.append(f"Python {sys.version.split()[0]}")
    return f"bayesglm {__version__} ({', '.join(parts)})"


def _sampling_args(p, draws: int = 1000, chains: int = 4) -> None:
    p.add_argument("--draws", type=_count, default=draws, metavar="N",
                   help=f"draws per chain (default {draws})")
    p.add_argument("--warmup", type=_nonnegative, default=None, metavar="N",
                   help="warmup iterations per chain (default: bayesglm's choice, 200 from "
                        "the MLE)")
    p.add_argument("--chains", type=_count, default=chains, metavar="N",
                   help=f"chains (default {chains})")
    p.add_argument("--seed", type=_nonnegative, default=0, metavar="N",
                   help="random seed (default 0)")
    p.add_argument("--target-accept", type=_probability, default=0.8, metavar="P",
                   help="target acceptance probability of NUTS's step-size adaptation "
                        "(default 0.8; raise it, e.g. 0.95, against divergences)")
    p.add_argument("--max-tree-depth", type=_count, default=10, metavar="N",
                   help="maximum NUTS tree depth (default 10)")
    p.add_argument("--out", default="bayesglm-out", metavar="DIR",
                   help="output folder (default ./bayesglm-out)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while sampling")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bayesglm",
                     description="Bayesian GLMs with the classical fit beside them.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{fit,demo,datasets}")
    fit = sub.add_parser("fit", help="fit a GLM to a CSV file (MLE and NUTS) and write the results",
                         description="Fit a GLM to a CSV file: the MLE, then NUTS started from it.",
                         epilog=_FIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    fit.add_argument("--formula", required=True, help='e.g. "y ~ x1 + np.log(x2) + C(group)"')
    fit.add_argument("--family", required=True,
                     help="gaussian, binomial, poisson, gamma, inverse_gaussian, "
                          "negative_binomial, beta, student_t, beta_binomial, tweedie, "
                          "cumulative (ordinal), zero_inflated_poisson, "
                          "zero_inflated_negative_binomial, hurdle_poisson, "
                          "hurdle_negative_binomial")
    fit.add_argument("--zero", default=None, metavar="FORMULA",
                     help='the zero model of a zero-inflated or hurdle family, e.g. "~ x1 + x2" '
                          "(default: a constant probability)")
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


# -- the library's words in command-line terms -----------------------------------------------
#: fit() keyword -> option (values kept; "..." becomes a placeholder)
_FIT_OPTIONS = {"draws": "--draws", "warmup": "--warmup", "chains": "--chains", "seed": "--seed",
                "target_accept": "--target-accept", "max_tree_depth": "--max-tree-depth"}
_ROLES = r"(trials|exposure|offset|weights)"
_WORDS = [  # (pattern, replacement), applied in order after fit(...) calls
    (re.compile(r"\bmissing\s*=\s*[\"']drop[\"']"), "--missing drop"),
    (re.compile(r"\bpriors\s*=\s*[\"'](\w+)[\"']"), r"--priors \1"),
    (re.compile(r"(--priors \w+(?:, the default,)?) or [\"'](\w+)[\"']"), r"\1 or --priors \2"),
    (re.compile(r"\bmodel\.fit\(\) or model\.fit_map\(\)"), "the Bayesian fit"),
    (re.compile(r"\bmodel\.fit\(\)"), "the Bayesian fit"),
    (re.compile(r"\bmodel\.prior_summary\(\) shows"), "the Priors table (priors.csv) shows"),
    (re.compile(r"\bpriors\s*=\s*\{[^}]*\}"),
     r"\g<0> (in Python; the command line's --priors takes auto, gelman2008 or flat)"),
    (re.compile(_ROLES + r"\s*=\s*[\"']([^\"']+)[\"']"), r"--\1 \2"),
    (re.compile(_ROLES + r"= an array \(or a column\) holding"), r"--\1 COL, a column holding"),
    (re.compile(_ROLES + r"= an array holding"), r"--\1 COL, a column holding"),
    (re.compile(_ROLES + r"=(?=[\s,.;:)]|$)"), r"--\1 COL"),
    (re.compile(r"\btarget_accept\b"), "--target-accept"),
    (re.compile(r"\bmax_tree_depth\b"), "--max-tree-depth"),
    (re.compile(r"read the data with decimal=','"), "write the CSV's decimals with a point"),
    (re.compile(r"\bplot_trace\b"), "trace.png"),
    (re.compile(r"\bendog\b"), "the response"),
]
_FIT_CALL = re.compile(r"\bfit\(([^()]*)\)")


def _fit_call(match: re.Match) -> str:
    """``fit(draws=..., warmup=...)`` -> ``--draws N --warmup N``."""
    options = []
    for arg in filter(None, (a.strip() for a in match.group(1).split(","))):
        name, _, value = (t.strip() for t in arg.partition("="))
        if name not in _FIT_OPTIONS:
            return match.group(0)  # not a command-line setting: leave the call as it is
        value = "N" if value in ("", "...") else value.strip("'\"")
        options.append(f"{_FIT_OPTIONS[name]} {value}")
    return " ".join(options) or match.group(0)


def cli_words(text: str) -> str:
    """The library's advice reworded for the command line.

    ``fit(draws=...)`` becomes ``--draws N``, ``missing="drop"`` ``--missing drop``,
    ``trials=`` ``--trials COL`` (``trials='n'``: ``--trials n``), and so on; the library's own
    messages stay as they are for Python users.
    """
    text = _FIT_CALL.sub(_fit_call, str(text))
    for pattern, replacement in _WORDS:
        text = pattern.sub(replacement, text)
    return text


def _idiom_message(exc, data_path: str) -> str:
    """An R formula idiom's error, with the command line that does what was meant."""
    idiom = exc.idiom
    head = str(exc).split(";")[0]
    formula = f"--formula {idiom.formula!r}" if idiom.formula else None
    if idiom.kind == "factor":
        return f"{head}; use {formula}"
    if idiom.kind == "ratio":
        divide = f" (to divide, write I({idiom.expression}))"
        head += " (formulas read a/b as a + a:b)"
        if formula:
            return (f"{head}; for successes out of trials use {formula} --trials "
                    f"{idiom.args['trials']}{divide}")
        return f"{head}; for successes out of trials pass the trials column as --trials COL{divide}"
    if idiom.kind == "cbind":
        if formula:
            succ = idiom.formula.split(" + ")[0]
            rhs = idiom.formula.split("~", 1)[1].strip()
            return (f"{head}; use {formula} (successes + failures), or --formula "
                    f"'{succ} ~ {rhs}' --trials COL (COL: the number of trials of each row)")
        return (f"{head}; use --formula 'successes + failures ~ ...', or --formula "
                "'successes ~ ...' --trials COL")
    # offset
    if "exposure" in idiom.args:
        col = idiom.args["exposure"]
        return (f"{head}; use {formula} --exposure {col} (log({col}) is then added to the "
                f"linear predictor; log link), or --offset COL with a column COL of {data_path} "
                f"holding log({col})")
    if "offset" in idiom.args:
        return f"{head}; use {formula} --offset {idiom.args['offset']}"
    return (f"{head}; use {formula} --offset COL, with a column COL of {data_path} holding "
            f"{idiom.expression} (add one if there is none)")


# -- running a fit --------------------------------------------------------------------------
def _display_number(v) -> str:
    """A number for a printed table: 4 significant digits, never wrapped or cut."""
    import pandas as pd

    if isinstance(v, str):
        return v
    if pd.isna(v):
        return ""
    try:
        return f"{v:.4g}"
    except (TypeError, ValueError):
        return str(v)


def _display_p(v) -> str:
    import pandas as pd

    if pd.isna(v):
        return ""
    return "<1e-16" if v < 1e-16 else f"{v:.2g}"


def _format_table(table, extra=None, pvalues=None) -> str:
    """The coefficient table as printed: rounded for reading (the CSV files keep every digit)."""
    import pandas as pd

    table = table.copy()
    if pvalues is not None and "mle_se" in table.columns:
        table.insert(table.columns.get_loc("mle_se") + 1, "mle_p", pvalues.reindex(table.index))
    if extra is not None:
        table.insert(0, extra.name, extra.reindex(table.index))
    fmt = {c: (lambda v: "" if pd.isna(v) else f"{v:.0f}") for c in ("ess_bulk", "ess_tail")}
    fmt["r_hat"] = lambda v: "" if pd.isna(v) else f"{v:.3f}"
    fmt["mle_p"] = _display_p
    for c in table.columns:
        fmt.setdefault(c, _display_number)
    return table.to_string(formatters=fmt)


def _left_columns(rows: list[list[str]]) -> list[str]:
    """Rows of text cells as left-aligned columns (the first row is the header)."""
    keep = [j for j in range(len(rows[0])) if any(r[j] for r in rows[1:])]
    widths = [max(len(r[j]) for r in rows) for j in keep]
    return ["  ".join(r[j].ljust(w) for j, w in zip(keep, widths)).rstrip() for r in rows]


def _prior_lines(model) -> list[str]:
    """The priors used, one row per parameter (as rstanarm's prior_summary)."""
    table = model.prior_summary()
    rows = [["parameter", "prior", "specified (before autoscaling)", "note"]]
    for r in table.itertuples(index=False):
        rows.append([str(r.parameter), str(r.prior), str(r.specified) if r.adjusted else "",
                     "" if r.note is None else str(r.note)])
    return _left_columns(rows)


def _mle_lines(model, mle) -> list[str]:
    """Deviance, degrees of freedom, AIC: the classical fit's statistics."""
    if mle is None:
        return ["Classical fit: the MLE does not exist (e.g. separation): NUTS started at the "
                "posterior mode, and the mle columns are empty."]
    from .mixed import MixedMLEResults

    if isinstance(mle, MixedMLEResults):  # group-level terms: lme4's (glmmTMB's) fit
        method = {"lmm": "lmer's ML", "glmm": "the Laplace approximation, nAGQ = 1"}[mle.kind]
        vc = mle.varcorr()["estimate"]
        return [f"Classical fit ({method}, {'converged' if mle.converged else 'NOT converged'}):",
                f"  log-likelihood {mle.llf:.6g}; AIC {mle.aic:.6g}; BIC {mle.bic:.6g}",
                "  group-level: " + ", ".join(f"{k} {v:.4g}" for k, v in vc.items()),
                "  groups: " + ", ".join(f"{g} ({n} levels)" for g, n in mle.ngroups.items())]
    how = f"converged in {mle.n_iter} iterations" if mle.converged else \
        f"NOT converged after {mle.n_iter} iterations"
    if getattr(model.family, "exact_likelihood", False):  # no deviance: the exact likelihood
        return [f"Classical fit (Newton's method on the exact likelihood, {how}):",
                f"  log-likelihood {mle.llf:.6g}; AIC {mle.aic:.6g}; BIC {mle.bic:.6g}; "
                f"{mle.df_resid:g} residual df",
                "  the extra parameters are rows of the table below (their z and p are empty "
                "where 0 is a boundary)"]
    null_df = mle.df_resid + mle.df_model + (0 if model.design.const_index is not None else 1)
    lines = [f"Classical fit (IRLS, {how}):",
             f"  deviance {mle.deviance:.6g} on {mle.df_resid:g} residual df; null deviance "
             f"{mle.null_deviance:.6g} on {null_df:g} df",
             f"  log-likelihood {mle.llf:.6g}; AIC {mle.aic:.6g}; BIC {mle.bic:.6g}"]
    if mle.alpha is not None:
        se = "" if mle.alpha_se is None else f" (std err {mle.alpha_se:.4g})"
        lines.append(f"  alpha {mle.alpha:.6g}{se}; var = mu + alpha mu^2")
    elif model.family.has_dispersion:
        lines.append(f"  dispersion (scale) {mle.scale:.6g}: Pearson chi2 / residual df")
    return lines


def _mle_table(mle):
    """The classical coefficient table as written to mle.csv (full precision)."""
    import pandas as pd

    ci = mle.conf_int(0.05)
    return pd.DataFrame({"mle": mle.params, "mle_se": mle.bse, "z": mle.zvalues,
                         "p_value": mle.pvalues, "ci_2.5%": ci.iloc[:, 0],
                         "ci_97.5%": ci.iloc[:, 1]})


def _warning_lines(caught) -> list[str]:
    """bayesglm's own warnings as report lines (in command-line terms); others shown as usual."""
    from ._warnings import BayesGLMWarning

    lines = []
    for w in caught:
        if issubclass(w.category, BayesGLMWarning):
            lines.append(f"{w.category.__name__}: {cli_words(w.message)}")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return lines


def _rows(k: int) -> str:
    return f"{k} row{'' if k == 1 else 's'} with missing values {'was' if k == 1 else 'were'}"


def _report(model, args, *, title: str, truth=None, shown=()) -> int:
    import numpy as np

    from ._warnings import BayesGLMWarning

    fam = model.family
    print(title)
    print(f"{type(fam).__name__} family, {fam.link.name} link; {model.nobs} rows, "
          f"{len(model.names)} coefficients; {args.chains} chains x {args.draws} draws "
          f"(seed {args.seed})")
    print(f"\nPriors (--priors {getattr(args, 'priors', 'auto')}; as used, after autoscaling; "
          "written to priors.csv):")
    for line in _prior_lines(model):
        print(f"  {line}")
    sys.stdout.flush()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BayesGLMWarning)
        try:
            fit = model.fit(draws=args.draws, warmup=args.warmup, chains=args.chains,
                            seed=args.seed, progress=not args.no_progress,
                            target_accept=args.target_accept, max_tree_depth=args.max_tree_depth)
        except (ValueError, TypeError) as exc:
            raise UsageError(cli_words(exc)) from None
    shown = [*shown, *_warning_lines(caught)]

    table = fit.summary()
    mle = fit.mle
    print()
    for line in _mle_lines(model, mle):
        print(line)
    print("\nCoefficients: the classical fit (mle, mle_se, mle_p: its Wald p-value) beside the "
          "posterior\n(mean, sd, 94% HDI); rounded for display, summary.csv and mle.csv hold "
          "every digit:")
    print(_format_table(table, truth, None if mle is None else mle.pvalues))
    notes = []
    if fit.response_note():
        notes.append(fit.response_note())
    if model.design.n_dropped:
        notes.append(f"{_rows(model.design.n_dropped)} dropped (--missing drop).")
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
    if mle is not None:
        _mle_table(mle).to_csv(out / "mle.csv", index_label="param")
        written.append(out / "mle.csv")
    model.prior_summary().to_csv(out / "priors.csv", index=False)
    written.append(out / "priors.csv")
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
    if mle is None:
        print("(no mle.csv: the MLE does not exist)")
    print(f"(read the fit back in Python with bg.load({str(out / 'fit.nc')!r}))")
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
        raise UsageError(cli_words(exc)) from None
    if args.zero is not None:
        zero = getattr(family, "zero_name", None)
        if zero is None:
            raise UsageError(f"--zero: the {family.name} family has no zero model (--zero is for "
                             "zero_inflated_poisson, zero_inflated_negative_binomial, "
                             "hurdle_poisson and hurdle_negative_binomial)")
        try:
            family = type(family)(family.link, **{zero: args.zero})
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--zero: {cli_words(exc)}") from None
    cols = list(map(str, df.columns))
    roles = {}
    for role in ("exposure", "offset", "weights", "trials"):
        col = getattr(args, role)
        if col is not None and col not in cols:
            raise UsageError(f"--{role}: column {col!r} is not in {args.data} (its columns: "
                             f"{', '.join(cols)})")
        roles[role] = col
    from ._warnings import BayesGLMWarning
    from .glm_model import GLM

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BayesGLMWarning)
            model = GLM.from_formula(args.formula, df, family, priors=args.priors,
                                     missing=args.missing, context={}, **roles)
    except (ValueError, TypeError) as exc:
        if getattr(exc, "idiom", None) is not None:  # an R idiom: say what to type instead
            raise UsageError(_idiom_message(exc, args.data)) from None
        raise UsageError(cli_words(exc)) from None
    title = f"bayesglm fit: {args.formula}  ({args.data})"
    return _report(model, args, title=title, shown=_warning_lines(caught))


def _cmd_demo(args) -> int:
    import pandas as pd

    from . import datasets
    from .datasets._make_datasets import CLAIMS_TRUE
    from .glm_model import GLM

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
