"""The student and instructor notebooks of a chapter's graded exercises.

The instructor notebook takes each graded exercise's solution and check cells
as they are; the student notebook keeps the function's signature and
docstring and replaces the body with ``raise NotImplementedError``. Both carry
``metadata.sgdlab.chapter``, from which the grader infers the chapter. In the
class edition the instructor notebook is a notice (:func:`withheld_notebook`).
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from sgdlab.grading.exercises import book_dir, exercise_parts, read_chapter

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


def withheld_notebook(chapter: str, book: str | os.PathLike | None = None):
    """The class edition's instructor notebook of ``chapter``: a notice that its
    solutions are withheld."""
    title = _title((Path(book or book_dir()) / f"{chapter}.md").read_text())
    nb = nbformat.v4.new_notebook()
    nb.metadata["sgdlab"] = {"chapter": chapter, "kind": "withheld"}
    nb.cells.append(nbformat.v4.new_markdown_cell(WITHHELD.format(title=title)))
    return nb


__all__ = ["make_notebooks", "student_stub", "withheld_notebook"]
