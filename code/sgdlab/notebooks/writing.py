"""``sgdlab notebooks``: every chapter's notebooks, written into one folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat

from sgdlab.grading.exercises import CHAPTERS, book_dir, read_chapter

from .exercise_notebooks import make_notebooks, withheld_notebook


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def write_all(
    out: str | os.PathLike,
    book: str | os.PathLike | None = None,
    *,
    class_edition: bool = False,
    reader: bool = False,
    chapters: list[str] | None = None,
    timeout: int = 900,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write ``<chapter>-student.ipynb`` and ``<chapter>-instructor.ipynb`` for every
    chapter with graded exercises; return the paths. In the class edition the
    instructor notebook is a notice that the solutions are withheld.

    With ``reader``, also write every chapter's reader notebook,
    ``<chapter>.ipynb``, with its outputs: those of the book's build where it
    has a current one, else from a run (``timeout`` seconds per cell); see
    :func:`sgdlab.notebooks.reader.reader_notebook`. ``log`` is told where
    each reader notebook's outputs came from. ``chapters`` limits all of it to
    those chapters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    book = Path(book or book_dir())
    unknown = sorted(set(chapters or ()) - set(CHAPTERS))
    if unknown:
        raise ValueError(
            f"no chapter named {', '.join(unknown)}; the chapters are "
            f"{', '.join(CHAPTERS)}"
        )
    written = []
    for chapter in CHAPTERS:
        if chapters is not None and chapter not in chapters:
            continue
        if not (book / f"{chapter}.md").is_file():
            continue
        if reader:
            from .reader import reader_notebook

            path = out / f"{chapter}.ipynb"
            nb = reader_notebook(
                chapter,
                book,
                class_edition=class_edition,
                fallback=True,
                timeout=timeout,
                log=log,
            )
            _write(path, nbformat.writes(nb))
            written.append(path)
        if not read_chapter(chapter, book):
            continue
        student, teacher = make_notebooks(chapter, book)
        if class_edition:
            teacher = withheld_notebook(chapter, book)
        for kind, nb in (("student", student), ("instructor", teacher)):
            path = out / f"{chapter}-{kind}.ipynb"
            _write(path, nbformat.writes(nb))
            written.append(path)
    return written


__all__ = ["write_all"]
