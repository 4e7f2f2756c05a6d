"""The notebooks made from the chapters: student, instructor and reader notebooks.

The one source is each chapter's MyST file. The modules, by idea:

* :mod:`.exercise_notebooks`: the student and instructor notebooks of a
  chapter's graded exercises (the grader, :mod:`sgdlab.grading`, reads their
  ``metadata.sgdlab.chapter``);
* :mod:`.class_edition`: a chapter's text without its graded solutions;
* :mod:`.reader`: the whole chapter as a notebook that reads like its page
  (Binder's launch buttons open it), with :mod:`.myst_markdown` for the text,
  :mod:`.from_build` for outputs taken from the book's build instead of a run,
  and :mod:`.in_kernel` for what its hidden cells run;
* :mod:`.writing`: :func:`write_all`, all of them into a folder
  (``sgdlab notebooks``).

The names below are imported on first use, so that the reader notebook's
first cell (``from sgdlab.notebooks.in_kernel import ...``) loads no more than
it needs into the reader's kernel.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "make_notebooks": "exercise_notebooks",
    "student_stub": "exercise_notebooks",
    "strip_graded_solutions": "class_edition",
    "reader_notebook": "reader",
    "write_all": "writing",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'sgdlab.notebooks' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


__all__ = sorted(_HOMES)
