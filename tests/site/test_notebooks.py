"""The example notebooks: committed in sync with their generator, outputs stripped, and (slow tier)
executed top to bottom with nbclient, failing on any error.

The kernel is started from a kernelspec written to a temporary folder whose ``argv`` is this
interpreter (``sys.executable -m ipykernel_launcher``), so the notebooks run in the environment
that runs the tests, whatever kernelspecs the machine has installed; ``MPLBACKEND=Agg`` keeps
matplotlib off any display until the notebooks' ``%matplotlib inline`` (their first line) draws
each figure into the cell's outputs, as the documentation shows them. An executed notebook must
look right on its page: every cell that plots has a figure among its outputs, and nothing but
Python warnings is printed to stderr (no progress bars, no tracebacks). The time each notebook
takes is printed at the end of the run; with ``BAYESGLM_NOTEBOOK_OUT`` set to a folder, the
executed notebooks and their figures (PNG) are written there.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: seconds one cell may run before the notebook fails (a notebook should take a minute or two)
CELL_TIMEOUT = 900
_TIMES: dict[str, float] = {}
#: a cell that draws: it must show a figure
_PLOTS = re.compile(r"\bplot_\w+\(|\bplt\.subplots\(|\.hist\(")
#: what a warning printed to stderr looks like ("file.py:12: SomeWarning: ...")
_WARNING = re.compile(r"^\S+:\d+: \w*Warning: ", re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOK_DIR / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == sorted(_generator().NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_as_generated_and_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: commit notebooks with outputs stripped "
                "(run python notebooks/make_notebooks.py)")
    expected = _generator().build(_generator().NOTEBOOKS[path.name])
    assert nbformat.writes(nb) == nbformat.writes(expected), (
        f"{path.name} differs from notebooks/make_notebooks.py: edit the script and rerun it")


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """Kernel managers for a kernelspec that runs this interpreter with MPLBACKEND=Agg."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / "bayesglm-tests"
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bayesglm tests",
        "language": "python",
        "env": {"MPLBACKEND": "Agg"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)])

    def make():
        return KernelManager(kernel_name="bayesglm-tests", kernel_spec_manager=ksm)

    return make


@pytest.fixture(scope="module", autouse=True)
def _report_times(request):
    yield
    if _TIMES:
        lines = [f"  {name:<36} {secs:6.1f} s" for name, secs in _TIMES.items()]
        text = "\nnotebook runtimes:\n" + "\n".join(lines)
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:
            with capture.global_and_fixture_disabled():
                print(text)
        else:  # pragma: no cover
            print(text)
        if os.environ.get("BAYESGLM_NOTEBOOK_TIMES"):
            Path(os.environ["BAYESGLM_NOTEBOOK_TIMES"]).write_text(json.dumps(_TIMES, indent=1))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_manager_factory):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source.startswith("%matplotlib inline"), (
        f"{path.name}: the set-up cell must start with %matplotlib inline (figures in the outputs)")
    out = os.environ.get("BAYESGLM_NOTEBOOK_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb,
        km=kernel_manager_factory(),
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:  # the message holds the cell's source and traceback
        pytest.fail(f"{path.name} failed:\n{err}", pytrace=False)
    finally:
        _TIMES[path.name] = time.perf_counter() - start
        if out:  # keep the executed notebook (and its figures, as PNG) to read them
            nbformat.write(nb, Path(out) / path.name)
            images = [o["data"]["image/png"] for c in nb.cells for o in c.get("outputs", [])
                      if "image/png" in o.get("data", {})]
            for i, png in enumerate(images):
                (Path(out) / f"{path.stem}_{i}.png").write_bytes(base64.b64decode(png))
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"
    for cell in code:
        stderr = "".join(o.text for o in cell.outputs if o.get("name") == "stderr")
        noise = _WARNING.sub("", stderr)
        assert "it/s" not in stderr and "Traceback" not in stderr, (
            f"{path.name}: a progress bar or a traceback on stderr in\n{cell.source}\n{stderr}")
        assert stderr == "" or _WARNING.search(stderr), (
            f"{path.name}: stderr that is not a warning in\n{cell.source}\n{noise}")
        if _PLOTS.search(cell.source):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), (
                f"{path.name}: no figure among the outputs of\n{cell.source}")
