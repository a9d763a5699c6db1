"""The ``bayesglm`` command, end to end in subprocesses (plus fast in-process argument checks).

The subprocesses are started together when the module's fixture first runs and collected once,
so the JAX start-up and compile times overlap; sampling is kept short (200 draws, 2 chains).
"""

from __future__ import annotations

import os
import subprocess
import sys
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
    "unknown family": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomail"],
                       "unknown family 'binomail'; valid names are binomial, gamma"),
    "column not in csv": (["fit", "{data}", "--formula", "passed ~ x + age", "--family",
                           "binomial"], "column 'age' is not in the data"),
    "exposure column": (["fit", "{data}", "--formula", "passed ~ x", "--family", "poisson",
                         "--exposure", "time"], "--exposure: column 'time' is not in"),
    "bad link": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial", "--link",
                  "inverse"], "link Inverse() is not allowed for the binomial family"),
    "unknown link": (["fit", "{data}", "--formula", "passed ~ x", "--family", "binomial",
                      "--link", "logitt"], "unknown link 'logitt'"),
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
    # the MLE column is the classical fit of the same formula
    data, _ = runs["_paths"]
    mle = bg.glm("passed ~ x + g", pd.read_csv(data), family="binomial").fit_mle()
    np.testing.assert_allclose(summary["mle"], mle.params, rtol=1e-8)
    assert summary.loc["x", "mean"] == pytest.approx(mle.params["x"], abs=4 * mle.bse["x"])
    for name in ("summary.csv", "fit.nc", "trace.png", "forest.png"):
        assert (folder / name).stat().st_size > 0


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
    assert len(err.strip().splitlines()) == 1 and BAD[case][1] in err



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
    assert "1 row of 4 have missing values (in column 'y': 1)" in err
