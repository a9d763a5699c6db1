"""mkdocs hooks: pages from files that live outside ``docs/``.

* every ``notebooks/*.ipynb`` becomes a page ``notebooks/<name>/`` (rendered by mkdocs-jupyter,
  which runs after this hook), so the notebooks are kept in one place;
* ``benchmarks.md`` is made from ``benchmarks/README.md`` at build time, with a note that says so;
  its relative links (to the scripts and results beside it) become plain file paths, since those
  files are not part of the site;
* Sphinx roles left in docstrings (``:class:`X```) are shown as plain code;
* numpydoc's double backticks where mkdocstrings shows text as code (a ``Returns`` line read as a
  type: ``DataFrame with columns ``mean``, ...``) become code spans in plain text, so no page
  shows a literal backtick outside a code block.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?!https?://|#|mailto:)([^)\s]+)\)")

_BENCHMARK_NOTE = """\
!!! note "Generated page"
    This page is `benchmarks/README.md` of the repository, copied at build time: the benchmark
    scripts and their raw results live beside it in `benchmarks/`.

"""


def _benchmarks_page() -> str:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    text = _LINK.sub(lambda m: f"{m.group(1)} (`benchmarks/{m.group(2)}`)", text)
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):  # keep the title first, the note under it
        return lines[0] + "\n\n" + _BENCHMARK_NOTE + "\n".join(lines[1:]) + "\n"
    return "# Benchmarks\n\n" + _BENCHMARK_NOTE + text


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files, config):
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(File(f"notebooks/{nb.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    files.append(File.generated(config, "benchmarks.md", content=_benchmarks_page()))
    return files


# Docstrings written for Sphinx use roles (:class:`~bayesglm.X`), which mkdocstrings renders as
# ":class:" followed by code: drop the role, and for "~a.b.C" show "C" as Sphinx would.
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|obj|data|exc):<code>(~?)([^<]*)</code>")


def _strip_role(m: re.Match) -> str:
    name = m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)
    return f"<code>{name}</code>"


# <code> holding backticks, outside <pre> blocks (whose code may hold any character)
_TICKED = re.compile(r"<code>([^<]*`[^<]*)</code>")
_SPAN = re.compile(r"``?([^`]+?)``?")
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S)


def _untick(m: re.Match) -> str:
    """``<code>DataFrame with ``mean``</code>`` -> ``DataFrame with <code>mean</code>``."""
    return _SPAN.sub(r"<code>\1</code>", m.group(1))


def fix_backticks(html: str) -> str:
    """Turn literal (double) backticks in inline code into code spans of plain text."""
    parts = _PRE.split(html)
    return "".join(p if i % 2 else _TICKED.sub(_untick, p) for i, p in enumerate(parts))


def on_page_content(html, page, config, files):
    return fix_backticks(_ROLE.sub(_strip_role, html))
