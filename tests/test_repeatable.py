"""Deterministic results repeat from build to build, figures byte for byte.

The book promises (intro, "How to read it") that everything except timings
depends only on the seeds and the pinned versions. This test executes chapters
whose every output is deterministic once more, outside Sphinx, and compares
that execution's outputs with the strict build's own execution (the notebook
myst-nb stored in the execution cache, ``_build/.jupyter_cache``) and its glued
values with those the build wrote: text, glued numbers, SVG figures and the
animation players must be identical bytes. A figure that embeds the build's
date, a random element id or an unseeded draw fails it.

It costs one execution of these chapters, not a second build. (The executed
notebooks in ``_build/jupyter_execute`` cannot serve: myst-nb moves the glued
outputs out of them.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.book

# Chapters without timings: every output is a function of seeds and versions.
DETERMINISTIC = ["watching-sgd", "landscape"]


def _outputs(nb) -> tuple[list[tuple[int, str, str]], dict[str, dict[str, str]]]:
    """Every displayed output as (code cell, MIME type or stream, content), in
    order, and the glued values by name (myst-nb moves those out of the
    executed notebook into ``<chapter>.glue.json``)."""
    shown, glued = [], {}
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code_cells):
        for out in cell.get("outputs", []):
            scrap = out.get("metadata", {}).get("scrapbook")
            if scrap:
                prefix = scrap["mime_prefix"]
                glued[scrap["name"]] = {
                    mime.removeprefix(prefix): _text(value)
                    for mime, value in out["data"].items()
                }
            elif out["output_type"] == "stream":
                # A kernel may send one print in several messages; join them,
                # as the build does (nb_merge_streams).
                if shown and shown[-1][:2] == (i, out["name"]):
                    shown[-1] = (i, out["name"], shown[-1][2] + out["text"])
                else:
                    shown.append((i, out["name"], out["text"]))
            elif out["output_type"] in ("display_data", "execute_result"):
                for mime, value in sorted(out["data"].items()):
                    shown.append((i, mime, _text(value)))
            elif out["output_type"] == "error":
                shown.append((i, "error", out["ename"]))
    return shown, glued


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _execute(chapter: str):
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": ROOT / "book"}},
    )
    client.execute()
    return _outputs(nb)


def _built(chapter: str):
    """The outputs of the build's execution, from its execution cache: the cache
    matches a notebook by its code cells, and it is cleared when code/ or data/
    change, so a match is an execution of this very code."""
    import jupytext
    from jupyter_cache import get_cache

    cache = get_cache(ROOT / "_build" / ".jupyter_cache")
    nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
    _, executed = cache.merge_match_into_notebook(nb)
    return _outputs(executed)


@pytest.mark.parametrize("chapter", DETERMINISTIC)
def test_a_chapter_executed_again_gives_the_builds_outputs(build, chapter):
    assert build[0] == 0, "the strict build failed; see _build/test-build.log"
    shown_built, glued_built = _built(chapter)
    shown, glued = _execute(chapter)

    assert len(shown) == len(shown_built), (
        "this execution displayed different outputs from the build's"
    )
    for (cell, mime, a), (_, mime_b, b) in zip(shown, shown_built, strict=True):
        assert mime == mime_b, f"code cell {cell}: {mime} vs {mime_b}"
        assert a == b, f"code cell {cell}: the {mime} output differs from the build's"
    assert glued == glued_built, "a glued number or figure differs between executions"

    # And the same as what the strict build glued into the pages.
    glue_file = ROOT / "_build" / "jupyter_execute" / "book" / f"{chapter}.glue.json"
    built = {
        name: {mime: _text(value) for mime, value in entry["data"].items()}
        for name, entry in json.loads(glue_file.read_text()).items()
    }
    assert built.keys() == glued.keys()
    figures = 0
    for name, data in built.items():
        assert data == glued[name], f"glued {name!r} differs from the build's"
        figures += "image/svg+xml" in data or "sgdlab-animation" in data.get(
            "text/html", ""
        )
    assert figures >= 3, "the chapter should have figures to compare"
