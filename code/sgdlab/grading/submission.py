"""Reading a submission: a notebook or a Python file, as a list of code cells.

Anything that cannot be read (empty, too large, not a notebook or Python
file, made for another chapter, or of no known chapter) raises
:class:`InvalidSubmission` with the reason that goes into the gradebook.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_SUBMISSION_BYTES = 20 * 1024**2


class InvalidSubmission(ValueError):
    """The file is not a gradable submission; the message says why."""


def read_submission(path: str | os.PathLike) -> tuple[list[dict], str | None]:
    """The code cells of a ``.ipynb`` (or the text of a ``.py``), each as
    ``{"number": n, "source": text}`` where ``n`` counts every cell the student
    sees (Markdown too), and the chapter named in the notebook's metadata.

    Raises :class:`InvalidSubmission` with a message for the student when the
    file is empty, not UTF-8, not JSON or not a notebook.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InvalidSubmission(f"cannot read the file: {err.strerror}") from None
    if size == 0:
        raise InvalidSubmission("the file is empty")
    if size > MAX_SUBMISSION_BYTES:
        raise InvalidSubmission(
            f"the file is larger than {MAX_SUBMISSION_BYTES // 2**20} MB"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            "the file is not text (UTF-8); submit the .ipynb or .py"
        ) from None
    if path.suffix == ".py":
        if not text.strip():
            raise InvalidSubmission("the file is empty")
        return [{"number": 1, "source": text}], None
    if path.suffix != ".ipynb":
        raise InvalidSubmission(
            f"submit a .ipynb notebook or a .py file, not {path.suffix!r}"
        )
    try:
        notebook = json.loads(text)
    except ValueError as err:
        raise InvalidSubmission(
            f"the notebook is not valid JSON ({err}); was it saved completely?"
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise InvalidSubmission(
            "the file is JSON but not a Jupyter notebook (no list of cells)"
        )
    meta = notebook.get("metadata", {})
    meta = meta.get("sgdlab", {}) if isinstance(meta, dict) else {}
    chapter = meta.get("chapter") if isinstance(meta, dict) else None
    cells = []
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidSubmission(
                f"the source of cell {number} is neither text nor a list of lines"
            )
        cells.append({"number": number, "source": source})
    return cells, chapter if isinstance(chapter, str) else None


def read_cells(path: str | os.PathLike, chapter: str) -> list[dict]:
    """Like :func:`read_submission`, refusing a notebook made for another chapter."""
    cells, other = read_submission(path)
    if other and other != chapter:
        raise InvalidSubmission(
            f"this notebook is for chapter {other!r}, but this run grades {chapter!r}"
        )
    return cells


def chapter_of(path: Path, chapter: str | None) -> str:
    """The chapter to grade ``path`` for: ``chapter`` if given, else the one in
    the notebook's metadata. Raises :class:`InvalidSubmission` if neither."""
    if chapter:
        return chapter
    try:
        _, found = read_submission(path)
    except InvalidSubmission:
        raise
    if not found:
        raise InvalidSubmission(
            "the chapter is unknown: the file names none in its metadata "
            "(a .py file, or a notebook not made from the book); grade it "
            "with --chapter"
        )
    return found
