"""The documentation site builds without warnings: ``mkdocs build --strict`` (slow tier).

Skipped where the docs extras (``pip install -e ".[docs]"``) are not installed. The notebooks
are rendered without being executed (``tests/test_notebooks.py`` executes them), so this takes
10-20 seconds, most of it mkdocstrings reading the package.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def _missing() -> list[str]:
    out = []
    for name in PLUGINS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    missing = _missing()
    if missing:
        pytest.skip(f"docs extras not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    env = dict(os.environ, MPLBACKEND="Agg", BAYESGLM_DOCS_EXECUTE="false", NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-d", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    site = tmp_path / "site"
    for page in ("index.html", "validation/index.html", "benchmarks/index.html",
                 "api/glm/index.html", "notebooks/01_getting_started/index.html"):
        assert (site / page).is_file(), f"{page} missing from the built site"
    assert "fit_mle" in (site / "api/glm/index.html").read_text(encoding="utf-8")
