"""Import boundaries: one module of bayesglm talks to each backend (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bayesglm as bg

PACKAGE = Path(bg.__file__).parent


def _importers(backend: str) -> set[str]:
    """Modules of the package (paths relative to it) that import ``backend``."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods = [node.module]
            else:
                continue
            if any(m.split(".")[0] == backend for m in mods):
                found.add(path.relative_to(PACKAGE).as_posix())
    return found


@pytest.mark.parametrize(
    "backend, only",
    [("formulaic", {"formula.py"}), ("matplotlib", {"plots.py"})],
)
def test_one_module_imports_the_backend(backend, only):
    assert _importers(backend) == only


def test_the_check_sees_imports():
    # guards the helper itself: jax is imported by several modules
    assert {"irls.py", "links.py", "families.py"} <= _importers("jax")
