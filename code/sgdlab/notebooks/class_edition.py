"""The class edition: a chapter's text without the solutions of its graded exercises.

The site's class edition (``_ext/sgdlab_notebooks.py``) strips them before
Sphinx parses or executes a chapter; the reader notebooks of that edition
strip them the same way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sgdlab.grading.exercises import GRADED

#: The words that switch the class edition on (or, from the environment, off).
YES, NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def class_edition_from_env() -> bool | None:
    """``SGDLAB_CLASS_EDITION``: True or False where it is set, None where not."""
    value = os.environ.get("SGDLAB_CLASS_EDITION")
    if value is None:
        return None
    value = value.strip().lower()
    if value not in YES + NO:
        raise ValueError(
            f"SGDLAB_CLASS_EDITION must be one of {', '.join(YES + NO[:-1])}, "
            f"got {value!r}"
        )
    return value in YES


def class_edition_requested(root: str | os.PathLike) -> bool:
    """Whether the class edition is asked for: ``SGDLAB_CLASS_EDITION`` where it
    is set, else ``sgdlab_class_edition`` under ``sphinx: config:`` in
    ``root/_config.yml`` (the book's root: what Binder's ``postBuild`` and the
    site's build both read)."""
    from_env = class_edition_from_env()
    if from_env is not None:
        return from_env
    config = Path(root) / "_config.yml"
    if not config.is_file():
        return False
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    value = (settings.get("sphinx") or {}).get("config", {}).get("sgdlab_class_edition")
    return value is True


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
    "class_edition_from_env",
    "class_edition_requested",
    "strip_graded_solutions",
]
