"""Student, instructor and reader notebooks, all made from the chapters.

The one source is the chapter's MyST file (see :mod:`sgdlab.grading.exercises`).
The instructor notebook takes each graded exercise's solution and check cells
as they are; the student notebook keeps the function's signature and
docstring and replaces the body with ``raise NotImplementedError``. Both carry
``metadata.sgdlab.chapter``, from which the grader infers the chapter. The
reader notebook (:mod:`sgdlab.grading.reader`) is the whole chapter as a
notebook that reads like its page; Binder's launch buttons open it.
:func:`write_all` writes all three kinds.

The book's Sphinx side (the ``{graded}`` block, the class edition, writing
these notebooks for the site, the launch buttons) is the local extension
``_ext/sgdlab_notebooks.py``, not part of the package.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from .exercises import (
    CHAPTERS,
    GRADED,
    Exercise,
    book_dir,
    chapter_exercises,
    exercise_parts,
    read_chapter,
)

STUB = '    raise NotImplementedError("write your solution here")\n'
INTRO = """\
**{kind} notebook** for the chapter *{title}* of the course book *Epochs and
mini-batches*. {what}

Run it where `sgdlab` is installed (the book's Binder, or `pip install -r
requirements.txt` in a clone of the repository). After each exercise,
`check(...)` runs the public cases and tells you which pass. Your instructor
grades the saved notebook with more cases.
"""
WITHHELD = """\
# {title}: instructor notebook withheld

This site is the **class edition** of the course book: the solutions of the
graded exercises are not published here. Instructors generate the instructor
notebooks from the book's sources with `sgdlab notebooks --out DIR`.
"""


def student_stub(source: str, function: str) -> str:
    """``source`` with ``function``'s body replaced by ``raise NotImplementedError``;
    imports are kept, anything else is dropped."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.extend(lines[node.lineno - 1 : node.end_lineno])
        elif isinstance(node, ast.FunctionDef) and node.name == function:
            body = node.body
            has_doc = (
                isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            )
            keep_to = body[0].end_lineno if has_doc else body[0].lineno - 1
            start = (
                node.decorator_list[0].lineno if node.decorator_list else node.lineno
            ) - 1
            if out:
                out.append("\n\n")
            out.extend(lines[start:keep_to])
            out.append(STUB)
    return "".join(out)


def _title(chapter_text: str) -> str:
    match = re.search(r"^# (.+)$", chapter_text, re.M)
    return match.group(1).strip() if match else "?"


def make_notebooks(chapter: str, book: str | os.PathLike | None = None):
    """The (student, instructor) notebooks of ``chapter`` as nbformat objects."""
    path = Path(book or book_dir()) / f"{chapter}.md"
    text = path.read_text()
    exercises = read_chapter(chapter, book)
    result = []
    for kind in ("student", "instructor"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata["sgdlab"] = {"chapter": chapter, "kind": kind}
        what = (
            "Write each function where it says so; keep its name and arguments."
            if kind == "student"
            else "It holds the solutions and must score full marks."
        )
        nb.cells.append(
            nbformat.v4.new_markdown_cell(
                f"# {_title(text)}: graded exercises\n\n"
                + INTRO.format(kind=kind.capitalize(), title=_title(text), what=what)
            )
        )
        nb.cells.append(nbformat.v4.new_code_cell("from sgdlab.grading import check"))
        for exercise in exercises:
            statement, solution, checking = exercise_parts(text, exercise)
            code = (
                solution
                if kind == "instructor"
                else student_stub(solution, exercise.function)
            )
            heading = f"## Exercise `{exercise.id}` ({exercise.points:g} points)"
            nb.cells.append(nbformat.v4.new_markdown_cell(f"{heading}\n\n{statement}"))
            nb.cells.append(nbformat.v4.new_code_cell(code.rstrip("\n")))
            nb.cells.append(nbformat.v4.new_code_cell(checking.rstrip("\n")))
        result.append(nb)
    return tuple(result)


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
) -> list[Path]:
    """Write ``<chapter>-student.ipynb`` and ``<chapter>-instructor.ipynb`` for every
    chapter with graded exercises; return the paths. In the class edition the
    instructor notebook is a notice that the solutions are withheld.

    With ``reader``, also write every chapter's reader notebook,
    ``<chapter>.ipynb`` (executed once, so it shows its numbers and figures;
    see :func:`sgdlab.grading.reader.reader_notebook`). ``chapters`` limits
    all of it to those chapters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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
        if not (Path(book or book_dir()) / f"{chapter}.md").is_file():
            continue
        if reader:
            from .reader import reader_notebook

            path = out / f"{chapter}.ipynb"
            _write(
                path,
                nbformat.writes(
                    reader_notebook(
                        chapter,
                        Path(book or book_dir()),
                        class_edition=class_edition,
                        fallback=True,
                    )
                ),
            )
            written.append(path)
        if not read_chapter(chapter, book):
            continue
        student, teacher = make_notebooks(chapter, book)
        if class_edition:
            title = _title((Path(book or book_dir()) / f"{chapter}.md").read_text())
            teacher = nbformat.v4.new_notebook()
            teacher.metadata["sgdlab"] = {"chapter": chapter, "kind": "withheld"}
            teacher.cells.append(
                nbformat.v4.new_markdown_cell(WITHHELD.format(title=title))
            )
        for kind, nb in (("student", student), ("instructor", teacher)):
            path = out / f"{chapter}-{kind}.ipynb"
            _write(path, nbformat.writes(nb))
            written.append(path)
    return written


# --------------------------------------------------------------------------
# The class edition
# --------------------------------------------------------------------------
def strip_graded_solutions(text: str) -> str:
    """``text`` without the solution blocks of its graded exercises."""
    for match in list(GRADED.finditer(text)):
        before = text[: match.start()]
        labels = re.findall(r":::\{exercise-start\}\n:label: (\S+)", before)
        if not labels:
            continue
        label = re.escape(labels[-1])
        text = re.sub(
            rf"\n:::\{{solution-start\}} {label}\n.*?\n:::\{{solution-end\}}\n:::\n",
            "\n",
            text,
            flags=re.S,
        )
    return text


__all__ = [
    "Exercise",
    "chapter_exercises",
    "make_notebooks",
    "strip_graded_solutions",
    "student_stub",
    "write_all",
]
