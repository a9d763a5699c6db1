"""The ``bayesglm`` command, end to end in subprocesses (plus fast in-process argument checks).

The subprocesses are started together when the module's fixture first runs and collected once,
so the JAX start-up and compile times overlap; sampling is kept short (200 draws, 2 chains).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesglm as bg
from bayesglm.cli import main

TIMEOUT = 600
SHORT = ["--draws", "200", "--chains", "2"]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("bayesglm")  # the console script of this install
    return [str(script)] if script.exists() else [sys.executable, "-m", "bayesglm.cli"]


def _csv(folder: Path) -> Path:
    """A binomial data set with a two-level string response and a string predictor."""
    rng = np.random.default_rng(3)
    n = 60
    x = rng.normal(size=n)
    g = rng.choice(["a", "b"], n)
    p = 1 / (1 + np.exp(-(0.3 + 0.8 * x - 0.5 * (g == "b"))))
    df = pd.DataFrame({"passed": np.where(rng.uniform(size=n) < p, "yes", "no"), "x": x, "g": g,
                       "n": 1})
    path = folder / "data.csv"
    df.to_csv(path, index=False)
    return path


#: bad arguments: (argv after the data path is filled in, the message expected on stderr)
BAD = {
    "missing file": (["fit", "{missing}", "--formula", "y ~ x", "--family", "poisson"],
                     "cannot read {missing}: no such file"),
    "bad formula": (["fit", "{data}", "--formula", "passed ~ x +", "--family", "binomial"],
                    "cannot parse the formula 'passed ~ x +'"),
    "zero model of a family without one": (
        ["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial", "--zero", "~ x"],
        "--zero: the binomial family has no zero model"),
    "unknown family": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomail"],
                       "unknown family 'binomail'; valid names are beta, beta_binomial, binomial"),
    "column not in csv": (["fit", "{data}", "--formula", "passed ~ x + age", "--family",
                           "binomial"], "column 'age' is not in the data"),
    "exposure column": (["fit", "{data}", "--formula", "passed ~ x", "--family", "poisson",
                         "--exposure", "time"], "--exposure: column 'time' is not in"),
    "bad link": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial", "--link",
                  "inverse"], "link Inverse() is not allowed for the binomial family"),
    "unknown link": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial",
                      "--link", "logitt"], "unknown link 'logitt'"),
    # R idioms: the command line that does what was meant (issue 9, item 22)
    "cbind": (["fit", "{data}", "--formula", "cbind(n, n) ~ x", "--family", "binomial"],
              "cbind() is R's; use --formula 'n + n ~ x' (successes + failures), or --formula "
              "'n ~ x' --trials COL"),
    "ratio": (["fit", "{data}", "--formula", "n/n ~ x", "--family", "binomial"],
              "the response 'n/n' is not a ratio (formulas read a/b as a + a:b); for successes "
              "out of trials use --formula 'n ~ x' --trials n"),
    "ratio of an expression": (["fit", "{data}", "--formula", "(n + 1)/n ~ x", "--family",
                                "binomial"], "pass the trials column as --trials COL (to "
                                             "divide, write I((n + 1)/n))"),
    "offset(log(x))": (["fit", "{data}", "--formula", "n ~ x + offset(log(n))", "--family",
                        "poisson"], "offset() is R's; use --formula 'n ~ x' --exposure n"),
    "offset(expression)": (["fit", "{data}", "--formula", "n ~ offset(x / 2) + g", "--family",
                            "poisson"], "use --formula 'n ~ g' --offset COL, with a column COL of "
                                        "{data} holding x / 2 (add one if there is none)"),
    "factor()": (["fit", "{data}", "--formula", "n ~ factor(g)", "--family", "poisson"],
                 "factor() is R's; use --formula 'n ~ C(g)'"),
    # the response named as such, its rows by label and place
    "response domain": (["fit", "{data}", "--formula", "x ~ g", "--family", "poisson"],
                        "response 'x': row label 1 (the 2nd row) has value -2.555"),
}
#: checked in a subprocess each (the cases the issue names); the others run in process, where
#: they take no JAX start-up (the same main(), minus the console-script wrapper)
IN_SUBPROCESS = ("missing file", "bad formula", "unknown family", "column not in csv", "bad link")
BAD.update({
    "no formula": (["fit", "{data}", "--family", "binomial"],
                   "the following arguments are required: --formula"),
    "bad draws": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial",
                   "--draws", "many"], "argument --draws: expected a whole number, got 'many'"),
})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every subprocess at once; return {name: (returncode, stdout, stderr, folder)}."""
    root = tmp_path_factory.mktemp("cli")
    data = _csv(root)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    jobs = {
        "demo": (["demo", *SHORT, "--out", str(root / "demo-out")], root / "demo-out"),
        "fit": (["fit", str(data), "--formula", "passed ~ x + g", "--family", "binomial",
                 "--priors", "gelman2008", *SHORT, "--seed", "5", "--no-progress",
                 "--out", str(root / "fit-out")], root / "fit-out"),
    }
    for name in IN_SUBPROCESS:
        argv = [a.format(data=data, missing=root / "nope.csv") for a in BAD[name][0]]
        jobs[name] = (argv, None)
    procs = {name: subprocess.Popen(_command() + argv, cwd=root, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, (argv, _) in jobs.items()}
    out = {}
    for name, proc in procs.items():
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        out[name] = (proc.returncode, stdout, stderr, jobs[name][1])
    out["_paths"] = (data, root)
    return out


def test_demo_end_to_end(runs):
    rc, stdout, stderr, folder = runs["demo"]
    assert rc == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "Poisson GLM with exposure" in stdout and "exposure='holders'" in stdout
    for col in ("true", "mle", "mle_se", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat"):
        assert col in stdout
    assert "Sampler diagnostics per chain" in stdout
    assert "100%" in stderr  # the progress bar (sampling's progress=True)
    names = bg.glm("claims ~ age + vehicle + region", bg.datasets.load("claims"),
                   family="poisson", exposure="holders").names
    summary = pd.read_csv(folder / "summary.csv", index_col="param")
    assert list(summary.index) == list(names)
    assert np.all(summary["r_hat"] < 1.05)
    for png in ("trace.png", "forest.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fit = bg.load(folder / "fit.nc")
    assert list(fit.idata.posterior["beta"].coords["coef"].values) == list(names)
    assert fit.idata.posterior.sizes["chain"] == 2 and fit.idata.posterior.sizes["draw"] == 200
    # the loaded fit predicts from raw columns: the formula and exposure travel with it
    new = pd.DataFrame({"age": ["60+"], "vehicle": ["D"], "region": ["west"], "holders": [10.0]})
    assert fit.predict(new)["mean"].iloc[0] > 0


def _table(text: str, header_start: str = "true "):
    """The coefficient table printed by the demo (header line starting with ``true``)."""
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(header_start) and "mle_se" in ln)
    rows = []
    for ln in lines[k + 1:]:
        parts = ln.split()
        if len(parts) != len(lines[k].split()) + 1:
            break
        rows.append(parts)
    return lines[k].split(), {r[0]: r[1:] for r in rows}


def test_readme_table_is_what_the_demo_prints(runs):
    # issue 9 item 1: the README's example no longer matched the demo. The classical columns
    # are deterministic (the test's demo samples fewer draws, so the posterior ones differ by
    # Monte Carlo error only: within 4 posterior sds / sqrt(400) of the README's 4000 draws)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme[readme.index("What `bayesglm demo` prints"):]
    head, rows = _table(block[:block.index("```", block.index("```") + 3)])
    rc, stdout, _, _ = runs["demo"]
    head_now, rows_now = _table(stdout)
    assert head == head_now
    assert list(rows) == list(rows_now)
    for name in rows:
        for col in ("true", "mle", "mle_se", "mle_p"):
            j = head.index(col)
            assert rows[name][j] == rows_now[name][j], (name, col)
        m, sd = float(rows[name][head.index("mean")]), float(rows[name][head.index("sd")])
        assert abs(float(rows_now[name][head.index("mean")]) - m) < 4 * sd / 20


def test_fit_end_to_end_on_a_csv(runs):
    rc, stdout, stderr, folder = runs["fit"]
    assert rc == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "bayesglm fit: passed ~ x + g" in stdout
    assert "Binomial family, logit link; 60 rows, 3 coefficients" in stdout
    assert "success = 'yes', failure = 'no'" in stdout
    assert "g[T.b]" in stdout
    assert "100%" not in stderr  # --no-progress
    summary = pd.read_csv(folder / "summary.csv", index_col="param")
    assert list(summary.index) == ["Intercept", "x", "g[T.b]"]
    # the MLE column is the classical fit of the same formula, at full precision
    data, _ = runs["_paths"]
    model = bg.glm("passed ~ x + g", pd.read_csv(data), family="binomial", priors="gelman2008")
    mle = model.fit_mle()
    np.testing.assert_allclose(summary["mle"], mle.params, rtol=1e-12)
    assert summary.loc["x", "mean"] == pytest.approx(mle.params["x"], abs=4 * mle.bse["x"])
    for name in ("summary.csv", "mle.csv", "priors.csv", "fit.nc", "trace.png", "forest.png"):
        assert (folder / name).stat().st_size > 0
    # item 22: the classical fit's table (mle.csv, every digit) and statistics, the priors
    table = pd.read_csv(folder / "mle.csv", index_col="param")
    assert list(table.columns) == ["mle", "mle_se", "z", "p_value", "ci_2.5%", "ci_97.5%"]
    np.testing.assert_allclose(table["mle"], mle.params, rtol=1e-12)
    np.testing.assert_allclose(table["mle_se"], mle.bse, rtol=1e-12)
    np.testing.assert_allclose(table["p_value"], mle.pvalues, rtol=1e-12)
    np.testing.assert_allclose(table[["ci_2.5%", "ci_97.5%"]], mle.conf_int(), rtol=1e-12)
    assert (f"deviance {mle.deviance:.6g} on {mle.df_resid:g} residual df; null deviance "
            f"{mle.null_deviance:.6g} on 59 df") in stdout
    assert f"AIC {mle.aic:.6g}" in stdout
    priors = model.prior_summary()
    assert pd.read_csv(folder / "priors.csv")["prior"].tolist() == priors["prior"].tolist()
    assert "Priors (--priors gelman2008" in stdout
    for name, prior in zip(priors["parameter"], priors["prior"]):
        assert any(line.split()[:2] == [name, prior.split()[0]] for line in stdout.splitlines())
    # the printed table rounds (4 significant digits), with the MLE's p-values beside it
    row = next(line.split() for line in stdout.splitlines() if line.startswith("x "))
    assert row[1:4] == [f"{mle.params['x']:.4g}", f"{mle.bse['x']:.4g}",
                        f"{mle.pvalues['x']:.2g}"]
    # advice is given in command-line terms
    assert "fit(" not in stdout and 'missing="' not in stdout


def test_fit_of_a_zero_inflated_model_with_its_zero_model(tmp_path, capsys):
    """--family zero_inflated_poisson --zero "~ x": the likelihood families through the
    command, the zero model's coefficients (zi_*) in summary.csv and mle.csv beside the
    classical fit bg.glm gives, the file bg.load reads back."""
    rng = np.random.default_rng(8)
    n = 120
    x = rng.normal(size=n)
    zero = rng.uniform(size=n) < 1 / (1 + np.exp(-(-0.5 + 0.8 * x)))
    y = np.where(zero, 0, rng.poisson(np.exp(0.7 + 0.3 * x)))
    data = tmp_path / "zip.csv"
    pd.DataFrame({"y": y, "x": x}).to_csv(data, index=False)
    out = tmp_path / "out"
    rc = main(["fit", str(data), "--formula", "y ~ x", "--family", "zero_inflated_poisson",
               "--zero", "~ x", *SHORT, "--no-progress", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert rc == 0, stderr[-3000:]
    assert "Newton's method on the exact likelihood" in stdout
    summary = pd.read_csv(out / "summary.csv", index_col="param")
    assert list(summary.index) == ["Intercept", "x", "zi_Intercept", "zi_x"]
    family = bg.families.ZeroInflatedPoisson(zi="~ x")
    mle = bg.glm("y ~ x", pd.read_csv(data), family=family).fit_mle()
    np.testing.assert_allclose(summary["mle"], mle.params, rtol=1e-10)
    np.testing.assert_allclose(pd.read_csv(out / "mle.csv", index_col="param")["mle_se"],
                               mle.bse, rtol=1e-10)
    back = bg.load(out / "fit.nc")
    np.testing.assert_allclose(back.summary()["mean"], summary["mean"], rtol=1e-12)


def test_fit_of_a_mixed_model(tmp_path, capsys):
    """A formula with a group term: the classical fit's lines are lme4's (logLik, the group
    sd's, the groups; the command read ``mle.n_iter``, which a mixed fit does not have, and
    failed after sampling), the sd row in summary.csv beside the Laplace estimate, here with
    a family fitted on its exact likelihood."""
    rng = np.random.default_rng(9)
    g = np.repeat(np.arange(12), 8)
    x = rng.normal(size=g.size)
    mu = 1 / (1 + np.exp(-(0.2 + 0.5 * x + rng.normal(0, 0.5, 12)[g])))
    y = rng.beta(6 * mu, 6 * (1 - mu))
    data = tmp_path / "beta.csv"
    pd.DataFrame({"y": y, "x": x, "g": [f"s{k}" for k in g]}).to_csv(data, index=False)
    out = tmp_path / "out"
    rc = main(["fit", str(data), "--formula", "y ~ x + (1 | g)", "--family", "beta", *SHORT,
               "--no-progress", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert rc == 0, stderr[-3000:]
    assert "the Laplace approximation, nAGQ = 1" in stdout and "g (12 levels)" in stdout
    summary = pd.read_csv(out / "summary.csv", index_col="param")
    assert list(summary.index) == ["Intercept", "x", "sd_g__Intercept", "phi"]
    mle = bg.glm("y ~ x + (1 | g)", pd.read_csv(data), family="beta").fit_mle()
    assert summary.loc["sd_g__Intercept", "mle"] == pytest.approx(
        mle.varcorr().loc["sd_g__Intercept", "estimate"], rel=1e-10)
    np.testing.assert_allclose(summary.loc[["Intercept", "x", "phi"], "mle"], mle.params,
                               rtol=1e-10)


@pytest.mark.parametrize("case", IN_SUBPROCESS)
def test_bad_arguments_exit_2_with_one_line(runs, case):
    rc, stdout, stderr, _ = runs[case]
    data, root = runs["_paths"]
    expected = BAD[case][1].format(data=data, missing=root / "nope.csv")
    assert rc == 2, (stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("bayesglm")
    assert expected in lines[0]


# -- in process: fast checks of the parser and of the datasets command -------------------------
@pytest.mark.parametrize("case", [c for c in BAD if c not in IN_SUBPROCESS])
def test_bad_arguments_in_process(tmp_path, capsys, case):
    data = _csv(tmp_path)
    argv = [a.format(data=data, missing=tmp_path / "nope.csv") for a in BAD[case][0]]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    expected = BAD[case][1].format(data=data, missing=tmp_path / "nope.csv")
    assert len(err.strip().splitlines()) == 1 and expected in err



def test_datasets_command_lists_and_describes(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in bg.datasets.list():
        assert name in out
    assert main(["datasets", "challenger"]) == 0
    assert "Licence:" in capsys.readouterr().out
    assert main(["datasets", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bayesglm datasets: error: unknown dataset 'nope'")


@pytest.mark.parametrize("argv,message", [
    ([], "the following arguments are required"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["demo", "--chains", "0"], "argument --chains: expected a number >= 1, got 0"),
    (["fit", "data.csv", "--formula", "y ~ x", "--family", "poisson", "--priors", "vague"],
     "argument --priors: invalid choice: 'vague'"),
])
def test_parser_errors_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_csv_problems_in_process(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("y,x\n")
    assert main(["fit", str(tmp_path / "empty.csv"), "--formula", "y ~ x", "--family",
                 "poisson"]) == 2
    assert "has no data rows" in capsys.readouterr().err
    assert main(["fit", str(tmp_path), "--formula", "y ~ x", "--family", "poisson"]) == 2
    assert "it is a folder" in capsys.readouterr().err
    df = pd.DataFrame({"y": [1, 2, None, 4], "x": [1.0, 2.0, 3.0, 4.0]})
    df.to_csv(tmp_path / "gap.csv", index=False)
    assert main(["fit", str(tmp_path / "gap.csv"), "--formula", "y ~ x", "--family",
                 "poisson"]) == 2
    err = capsys.readouterr().err
    assert ("1 row of 4 has missing values (in column 'y': 1), the first at row label 2 (the 3rd "
            "row); pass --missing drop to drop them") in err  # CLI terms, not missing="drop"


def test_numeric_column_with_a_stray_string_in_process(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.poisson(3, 20), "age": rng.integers(20, 70, 20).astype(str)})
    df.loc[6, "age"] = "unknown"
    df.to_csv(tmp_path / "ages.csv", index=False)
    assert main(["fit", str(tmp_path / "ages.csv"), "--formula", "y ~ age", "--family",
                 "poisson"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert ("column 'age' holds numbers except for 'unknown' at row label 6 (the 7th row)"
            in err)
    assert "pass --missing drop" in err and "write C(age)" in err


# -- the library's advice in command-line terms --------------------------------------------------
@pytest.mark.parametrize("library,cli", [
    ("Raise target_accept (e.g. fit(target_accept=0.95)), use stronger priors",
     "Raise --target-accept (e.g. --target-accept 0.95), use stronger priors"),
    ("Run more draws and warmup (fit(draws=..., warmup=...)), and look at plot_trace.",
     "Run more draws and warmup (--draws N --warmup N), and look at trace.png."),
    ("Increase draws (fit(draws=...)).", "Increase draws (--draws N)."),
    ("Raise max_tree_depth, or rescale", "Raise --max-tree-depth, or rescale"),
    ('2 rows of 9 have missing values (in column \'x\': 2); pass missing="drop" to drop them',
     "2 rows of 9 have missing values (in column 'x': 2); pass --missing drop to drop them"),
    ("for counts of successes pass trials= or a two-column response",
     "for counts of successes pass --trials COL or a two-column response"),
    ("write 'k ~ z' with trials='n'; to divide", "write 'k ~ z' with --trials n; to divide"),
    ("exposure: requires the log link; use offset= instead",
     "exposure: requires the log link; use --offset COL instead"),
    ('use priors="gelman2008" or priors={"dispersion": Exponential(0.1)}',
     'use --priors gelman2008 or priors={"dispersion": Exponential(0.1)} (in Python; the '
     "command line's --priors takes auto, gelman2008 or flat)"),
    ("refit with fit(chain_method='sequential')", "refit with fit(chain_method='sequential')"),
    ('Use proper priors (priors="auto", the default, or "gelman2008").',
     "Use proper priors (--priors auto, the default, or --priors gelman2008)."),
    ("Use model.fit() or model.fit_map(), whose proper priors give finite estimates",
     "Use the Bayesian fit, whose proper priors give finite estimates"),
    ("or model.fit() whose priors identify the model.",
     "or the Bayesian fit whose priors identify the model."),
    ("give a wider prior; model.prior_summary() shows the priors used.",
     "give a wider prior; the Priors table (priors.csv) shows the priors used."),
])
def test_advice_in_command_line_terms(library, cli):
    from bayesglm.cli import cli_words

    assert cli_words(library) == cli


def test_printed_table_rounds_and_csv_keeps_every_digit():
    from bayesglm.cli import _format_table

    table = pd.DataFrame({"mle": [4.96123456e-05, -1234567.891], "mle_se": [1.2345678e-06, 0.5],
                          "mean": [4.9512345e-05, -1234567.5], "r_hat": [1.0012345, 1.0],
                          "ess_bulk": [1234.56, 99.4]}, index=["COUTAX", "b"])
    p = pd.Series([3.3e-300, 0.04567], index=["COUTAX", "b"])
    text = _format_table(table, pvalues=p)
    lines = text.splitlines()
    assert len(lines) == 3  # a header and one line a row: nothing wraps
    assert lines[0].split() == ["mle", "mle_se", "mle_p", "mean", "r_hat", "ess_bulk"]
    assert lines[1].split() == ["COUTAX", "4.961e-05", "1.235e-06", "<1e-16", "4.951e-05",
                                "1.001", "1235"]
    assert lines[2].split() == ["b", "-1.235e+06", "0.5", "0.046", "-1.235e+06", "1.000", "99"]


# -- version and help: answered without importing the package's heavy modules -----------------
def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"bayesglm {bg.__version__} (jax ") and "Python" in out


_STUB = """
import importlib.util, sys, time, types
t0 = time.perf_counter()
pkg = types.ModuleType("bayesglm"); pkg.__path__ = [{folder!r}]; pkg.__version__ = "9.9"
sys.modules["bayesglm"] = pkg  # the package without its __init__: what cli.py imports itself
spec = importlib.util.spec_from_file_location("bayesglm.cli", {path!r})
cli = importlib.util.module_from_spec(spec); sys.modules["bayesglm.cli"] = cli
spec.loader.exec_module(cli)
try:
    cli.main([{arg!r}])
except SystemExit:
    pass
heavy = sorted(m for m in ("jax", "numpy", "pandas", "numpyro", "arviz", "matplotlib")
               if m in sys.modules)
print("HEAVY", heavy, "SECONDS", time.perf_counter() - t0)
"""


@pytest.mark.parametrize("arg", ["--help", "--version"])
def test_cli_module_answers_help_and_version_without_heavy_imports(arg):
    # what lies in cli.py: the standard library only, until a command runs
    path = Path(bg.__file__).parent / "cli.py"
    code = _STUB.format(folder=str(path.parent), path=str(path), arg=arg)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    *shown, line = out.stdout.strip().splitlines()
    assert ("usage: bayesglm" if arg == "--help" else "bayesglm 9.9 (") in "\n".join(shown)
    assert line.startswith("HEAVY [] SECONDS"), line
    assert float(line.split()[-1]) < 0.25  # argparse alone (~20 ms unloaded)


def test_help_in_under_half_a_second():
    # the console script end to end; it imports bayesglm/__init__.py first, which loads its
    # names lazily (tests/unit/test_boundaries.py checks that it imports no JAX)
    times = []
    for _ in range(3):  # the best of three: a busy machine slows single runs
        t0 = time.perf_counter()
        out = subprocess.run(_command() + ["--help"], capture_output=True, text=True, timeout=60)
        times.append(time.perf_counter() - t0)
        assert out.returncode == 0 and "usage: bayesglm" in out.stdout
    assert min(times) < 0.5, times
