"""The class edition: a chapter's text without the solutions of its graded exercises.

The site's class edition (``_ext/sgdlab_notebooks.py``) strips them before
Sphinx parses or executes a chapter; the reader notebooks of that edition
strip them the same way.
"""

from __future__ import annotations

import re

from sgdlab.grading.exercises import GRADED


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


__all__ = ["strip_graded_solutions"]
