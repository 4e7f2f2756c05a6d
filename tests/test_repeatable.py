"""Deterministic results repeat from build to build, figures byte for byte.

The book promises (intro, "How to read it") that everything except timings
depends only on the seeds and the pinned versions. This test executes chapters
whose every output is deterministic once more, outside Sphinx, and compares
each output with the one the strict build wrote: text, glued numbers, SVG
figures and the animation players must be identical bytes. A figure that
embeds the build's date, a random element id or an unseeded draw fails it.

It costs one extra execution of these chapters (about a minute), not a
second build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.book

# Chapters without timings: every output is a function of seeds and versions.
DETERMINISTIC = ["watching-sgd", "landscape"]


def _outputs(nb) -> list[tuple[int, str, str]]:
    """(code cell, MIME type or stream name, content) of every output, in order."""
    found = []
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code_cells):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.append((i, out["name"], out["text"]))
            elif out["output_type"] in ("display_data", "execute_result"):
                for mime, value in sorted(out["data"].items()):
                    text = value if isinstance(value, str) else json.dumps(value)
                    found.append((i, mime, "".join(text)))
            elif out["output_type"] == "error":
                found.append((i, "error", out["ename"]))
    return found


@pytest.mark.parametrize("chapter", DETERMINISTIC)
def test_a_second_execution_gives_identical_outputs(build, chapter):
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    built = nbformat.read(ROOT / "_build" / "jupyter_execute" / "book" / f"{chapter}.ipynb", 4)
    again = jupytext.read(ROOT / "book" / f"{chapter}.md")
    NotebookClient(
        again, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT / "book"}}
    ).execute()

    first, second = _outputs(built), _outputs(again)
    assert len(first) == len(second), "the two executions made different numbers of outputs"
    figures = 0
    for (cell, mime, a), (_, mime_b, b) in zip(first, second, strict=True):
        assert mime == mime_b, f"code cell {cell}: {mime} vs {mime_b}"
        assert a == b, f"code cell {cell}: the {mime} output differs between executions"
        figures += mime == "image/svg+xml" or "sgdlab-animation" in a
    assert figures >= 3, "the chapter should have figures to compare"
