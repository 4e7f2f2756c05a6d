"""Write the notebooks a Binder session opens (run by postBuild, in the repository root).

On mybinder.org the launch button opens ``book/<chapter>.ipynb``. The chapters
are MyST Markdown files; this writes each one, converted by jupytext, as a
notebook beside it, so the chapter opens as a notebook while README.md, the
intro and the grading page (plain Markdown) open as Markdown. The chapters'
``{download}`` links point at the student and instructor notebooks in
``_build/notebooks``: a MyST role that JupyterLab cannot render, so they become
ordinary Markdown links, and postBuild writes those notebooks there.

Usage: ``python .binder/make_notebooks.py [BOOK_DIR]`` (default ``book``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext

DOWNLOAD = re.compile(r"\{download\}`([^`<]+?)\s*<([^`>]+)>`")


def is_chapter(path: Path) -> bool:
    """A MyST Markdown notebook (jupytext header), not a plain Markdown page."""
    return path.read_text(encoding="utf-8").startswith("---\njupytext")


def markdown_links(source: str) -> str:
    """``{download}`text <path>``` -> ``[text](path)``, which JupyterLab opens."""
    return DOWNLOAD.sub(lambda m: f"[{m.group(1).strip()}]({m.group(2).strip()})", source)


def binder_notebook(path: Path):
    """The chapter at ``path`` as a notebook, with Markdown links for its downloads."""
    notebook = jupytext.read(path)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_links(cell.source)
    return notebook


def main(book: Path) -> list[Path]:
    written = []
    for path in sorted(book.glob("*.md")):
        if is_chapter(path):
            target = path.with_suffix(".ipynb")
            jupytext.write(binder_notebook(path), target)
            written.append(target)
    return written


if __name__ == "__main__":
    for target in main(Path(sys.argv[1] if len(sys.argv) > 1 else "book")):
        print(f"wrote {target}")
