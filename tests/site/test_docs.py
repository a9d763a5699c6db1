"""The documentation site: what its pages show, and that it builds without warnings.

The slow tier builds the site once, as CI publishes it (``mkdocs build --strict``, the notebooks
executed: two to three minutes), and checks what a reader sees: the notebook pages show their
outputs (figures, tables) without progress bars on stderr, the API reference lists every public
member of the results classes, and no page shows a literal backtick outside a code block. With
``BAYESGLM_DOCS_SITE`` naming a folder where the site was just built (as ``.ci/run`` does), the
checks read that site instead of building another. Skipped where the docs extras (``pip install
-e ".[docs]"``) are not installed. The fast tests check the build's own pieces (``docs/hooks.py``,
the notebook stylesheet).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


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


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    pytest.importorskip("mkdocs")
    spec.loader.exec_module(module)
    return module


def _outside_code_blocks(html: str) -> str:
    """The page's text without scripts, styles and code blocks (<pre>)."""
    for tag in ("script", "style", "pre"):
        html = re.sub(rf"<{tag}\b.*?</{tag}>", "", html, flags=re.S)
    return html


# -- fast: the pieces of the build ---------------------------------------------------------------
def test_hook_turns_literal_backticks_into_code():
    fix = _hooks().fix_backticks
    # a numpydoc Returns line read as a type, which mkdocstrings renders as code
    html = "<td><code>DataFrame with columns ``mean``, ``mean_se``.</code></td>"
    assert fix(html) == "<td>DataFrame with columns <code>mean</code>, <code>mean_se</code>.</td>"
    assert fix("<code>list of `str`</code>") == "list of <code>str</code>"
    plain = "<p>the <code>mean</code> column</p>"
    assert fix(plain) == plain
    block = "<pre><code>x = `a`  # in a code block backticks stay</code></pre>"
    assert fix(block + plain) == block + plain


def test_notebook_stylesheet_keeps_text_columns():
    css = (ROOT / "docs" / "stylesheets" / "notebooks.css").read_text(encoding="utf-8")
    rule = re.search(r"\.jp-OutputArea-output pre\s*\{([^}]*)\}", css)
    assert rule, "notebooks.css must style the text outputs"
    assert re.search(r"white-space:\s*pre;", rule.group(1))
    assert re.search(r"word-break:\s*normal;", rule.group(1))
    assert "application/vnd.jupyter.stderr" in css
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "stylesheets/notebooks.css" in config
    assert "execute: !ENV [BAYESGLM_DOCS_EXECUTE, true]" in config


# -- slow: the site as built ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("BAYESGLM_DOCS_SITE")
    if given:
        path = Path(given)
        assert (path / "index.html").is_file(), f"BAYESGLM_DOCS_SITE={given} holds no built site"
        return path
    missing = _missing()
    if missing:
        pytest.skip(f"docs extras not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1")
    env.pop("BAYESGLM_DOCS_EXECUTE", None)  # the default: notebooks executed, as published
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_mkdocs_build_strict(site):
    for page in ("index.html", "validation/index.html", "benchmarks/index.html",
                 "api/glm/index.html", "notebooks/01_getting_started/index.html"):
        assert (site / page).is_file(), f"{page} missing from the built site"
    assert "fit_mle" in (site / "api/glm/index.html").read_text(encoding="utf-8")
    assert "plot_binned_residuals" in _page(site, "api/plots")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_page_shows_outputs(site, name):
    html = _page(site, f"notebooks/{name}")
    figures = len(re.findall(r'<img[^>]+src="data:image/png;base64,', html))
    assert figures >= 1, f"{name}: no figure on the page (notebook not executed?)"
    assert "jp-OutputArea-output" in html
    assert "stylesheets/notebooks.css" in html
    stderr = re.findall(r'data-mime-type="application/vnd.jupyter.stderr"[^>]*>\s*<pre>(.*?)</pre>',
                        html, flags=re.S)
    for text in stderr:
        assert "it/s" not in text and "Traceback" not in text, f"{name}: {text[:300]}"
    if name == "01_getting_started":  # both tables of the MLE and the posterior are there
        assert "Generalized Linear Model Regression Results" in html
        assert "ess_bulk" in html and "hdi_97%" in html


def _public_members(obj) -> set[str]:
    names = {n for n in dir(type(obj)) if not n.startswith("_")}
    return names | {n for n in vars(obj) if not n.startswith("_")}


@pytest.mark.slow
def test_api_reference_lists_every_results_member(site):
    import bayesglm as bg
    from bayesglm.bayes_results import BayesResults
    from bayesglm.convert import to_inference_data

    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(12), rng.normal(size=12)])
    mle = bg.GLM(X @ [1.0, 0.5] + rng.normal(size=12), X, family="gaussian").fit_mle()
    idata = to_inference_data(posterior={"beta": np.zeros((1, 2, 2))}, sample_stats=None,
                              names=["const", "x1"], obs_index=np.arange(12), y=np.zeros(12),
                              constant_data={})
    post = BayesResults(idata, family=bg.families.Gaussian(), names=["const", "x1"], mle=mle)
    html = _page(site, "api/results")
    for obj, path in ((mle, "bayesglm.results.MLEResults"),
                      (post, "bayesglm.bayes_results.BayesResults")):
        members = _public_members(obj)
        assert {"params", "bse", "pvalues", "aic", "llf", "deviance"} <= members or obj is post
        missing = sorted(m for m in members if f'id="{path}.{m}"' not in html)
        assert not missing, f"{path}: not in the API reference: {missing}"


@pytest.mark.slow
def test_no_literal_backticks(site):
    shown = {}
    for page in site.rglob("*.html"):
        text = _outside_code_blocks(page.read_text(encoding="utf-8"))
        if "`" in text:
            i = text.index("`")
            shown[str(page.relative_to(site))] = text[max(0, i - 120): i + 60]
    assert not shown, f"literal backticks on {sorted(shown)}: {shown}"
