"""Reader notebooks with the outputs of the book's build, instead of a run.

A strict build (``jupyter-book build .``) executes every chapter and leaves,
for each, ``_build/jupyter_execute/book/<chapter>.ipynb`` (its code cells with
their outputs) and ``<chapter>.glue.json`` (everything it glued). A reader
notebook's code cells are the chapter's, plus a hidden first cell and one
cell per figure; so where the build is current, the reader notebook can take
its outputs, its figures and its numbers from there, in a second, instead of
running the chapter again.

The build is current for a chapter when

* ``code/`` and ``data/`` are as they were when it ran (the fingerprint that
  ``_ext/sgdlab_cache.py`` keeps beside the execution cache, in
  ``_build/.jupyter_cache.sgdlab-fingerprint``, equals theirs now),
* its executed notebook has exactly the reader notebook's code cells, in
  order, and
* no cell of it stopped with an error.

Anything else (no build, a stale one, another edition) and the reader
notebook is run instead.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import nbformat

#: The hidden cells a reader notebook adds to the chapter's code cells.
ADDED_TAGS = {"reader-setup", "reader-figure"}
STAMP = Path("_build") / ".jupyter_cache.sgdlab-fingerprint"
EXECUTED = Path("_build") / "jupyter_execute"


def _fingerprint_now(root: Path) -> str | None:
    """The fingerprint of ``code/`` and ``data/`` as the build computes it (by
    the build's own extension), or ``None`` where the repository has none."""
    path = root / "_ext" / "sgdlab_cache.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("_sgdlab_cache", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fingerprint(root, ["code", "data"])


def build_outputs(chapter: str, book: Path) -> tuple[tuple | None, str]:
    """``((executed notebook, glued values), where)`` from the build of the book
    in ``book``, or ``(None, why not)`` where it has no current build."""
    root = Path(book).resolve().parent
    executed = root / EXECUTED / Path(book).name / f"{chapter}.ipynb"
    glue = executed.with_name(f"{chapter}.glue.json")
    stamp = root / STAMP
    if not (executed.is_file() and stamp.is_file()):
        return None, "no build of it"
    if stamp.read_text().strip() != _fingerprint_now(root):
        return None, "code/ or data/ changed since the build"
    nb = nbformat.read(executed, as_version=4)
    errors = [
        output
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if errors:
        return None, "the build's run of it stopped with an error"
    values = json.loads(glue.read_text()) if glue.is_file() else {}
    glued = {name: output.get("data", {}) for name, output in values.items()}
    return (nb, glued), str(executed.relative_to(root))


def assemble(reader, executed, glued: dict[str, dict]):
    """``reader`` (a reader notebook, unrun) with the outputs of ``executed``
    and the values in ``glued``; ``None`` where their code cells differ."""
    from .reader import KERNELSPEC, fill_glue

    nb = copy.deepcopy(reader)
    ours = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code"
        and not ADDED_TAGS & set(cell.metadata.get("tags", []))
    ]
    theirs = [cell for cell in executed.cells if cell.cell_type == "code"]
    if [c.source for c in ours] != [c.source for c in theirs]:
        return None
    for cell, done in zip(ours, theirs, strict=True):
        cell.outputs = copy.deepcopy(done.outputs)
        cell.execution_count = done.get("execution_count")
    for cell in nb.cells:
        if "reader-figure" in cell.metadata.get("tags", []):
            name = cell.source.split('"')[1]
            if name not in glued:
                return None
            cell.outputs = [
                nbformat.v4.new_output("display_data", data=copy.deepcopy(glued[name]))
            ]
    try:
        fill_glue(nb, glued, reader.metadata["sgdlab"]["chapter"])
    except ValueError:  # the text shows a value the build did not glue
        return None
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = copy.deepcopy(
        executed.metadata.get("language_info", {"name": "python"})
    )
    return nb


__all__ = ["assemble", "build_outputs"]
