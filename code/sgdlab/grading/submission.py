"""Reading a submission: a notebook or a Python file, as a list of code cells.

Anything that cannot be read (empty, too large, not a notebook or Python
file, made for another chapter, or of no known chapter) raises
:class:`InvalidSubmission` with the reason that goes into the gradebook.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

#: The most code a submission may hold (outputs, such as embedded plots, do
#: not count: they are dropped before this applies).
MAX_SUBMISSION_BYTES = 20 * 1024**2
#: The largest file read at all, outputs included.
MAX_FILE_BYTES = 512 * 1024**2
#: Where a Jupyter or VS Code export of a notebook as ``.py`` starts a cell.
CELL_MARKER = re.compile(r"^# ?(%%|In\[[ \d]*\]:)")


class InvalidSubmission(ValueError):
    """The file is not a gradable submission; the message says why."""


def _text(path: Path) -> str:
    """The file's text: UTF-8 (a byte order mark is dropped), newlines as \\n."""
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InvalidSubmission(f"cannot read the file: {err.strerror}") from None
    if size == 0:
        raise InvalidSubmission("the file is empty")
    if size > MAX_FILE_BYTES:
        raise InvalidSubmission(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            "the file is not text (UTF-8); submit the .ipynb or .py"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def python_cells(text: str) -> list[dict]:
    """A ``.py`` file as cells, split where Jupyter, VS Code or Spyder mark one
    (``# %%``, ``# In[3]:``); each keeps its first line in the file, so that
    errors name the file's lines."""
    cells: list[dict] = []
    start, lines = 1, []
    for number, line in enumerate(text.split("\n"), 1):
        if CELL_MARKER.match(line) and any(x.strip() for x in lines):
            cells.append({"line": start, "source": "\n".join(lines)})
            start, lines = number, []
        lines.append(line)
    if any(x.strip() for x in lines):
        cells.append({"line": start, "source": "\n".join(lines)})
    return [{"number": i, **c} for i, c in enumerate(cells, 1)]


def _ipython(source: str) -> str:
    """The cell as IPython runs it (magics and ``!`` commands become calls of
    ``get_ipython()``); unchanged where IPython is not installed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - leave it to the runner's SyntaxError
        return source


def _notebook_cells(text: str) -> tuple[list[dict], str | None]:
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
        cells.append({"number": number, "source": source.replace("\r\n", "\n")})
    return cells, chapter if isinstance(chapter, str) else None


def read_submission(path: str | os.PathLike) -> tuple[list[dict], str | None]:
    """The code cells of a ``.ipynb`` (or of a ``.py``, split at its cell
    markers), each as ``{"number": n, "source": text}`` where ``n`` counts
    every cell the student sees (Markdown too), and the chapter named in the
    notebook's metadata. Sources are as IPython runs them.

    Raises :class:`InvalidSubmission` with a message for the student when the
    file is empty, not UTF-8, not JSON or not a notebook.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        raise InvalidSubmission(
            f"submit a .ipynb notebook or a .py file, not {path.suffix!r}"
        )
    text = _text(path)
    if suffix == ".py":
        cells, chapter = python_cells(text), None
    else:
        cells, chapter = _notebook_cells(text)
    if suffix == ".py" and not cells:
        raise InvalidSubmission("the file is empty")
    code = sum(len(c["source"].encode()) for c in cells)
    if code > MAX_SUBMISSION_BYTES:
        raise InvalidSubmission(
            f"the code is larger than {MAX_SUBMISSION_BYTES // 2**20} MB"
        )
    for cell in cells:
        cell["source"] = _ipython(cell["source"])
    return cells, chapter


#: The most a student's helper modules may hold, together.
MAX_HELPER_BYTES = 1024**2


def helper_files(paths) -> dict[str, str]:
    """The text of the ``.py`` files beside a notebook in a student's folder,
    by file name: the runner puts them where the notebook's ``import`` finds
    them, as Jupyter does. Files that are not text or too large are left out."""
    files, size = {}, 0
    for path in paths:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        size += len(text)
        if size > MAX_HELPER_BYTES:
            break
        files[Path(path).name] = text
    return files


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
            "(a .py file, or a notebook not made from the book's student notebook); "
            "your instructor grades it by hand"
        )
    return found
