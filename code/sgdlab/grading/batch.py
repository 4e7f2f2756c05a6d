"""What a batch is made of: the files and folders an instructor passes to
``sgdlab grade``, as one entry (one gradebook row) per submission, and the
student each belongs to, read from the names LMS exports give.

Every file of a folder gets a row: a notebook or Python file (any case of
``.ipynb`` / ``.py``) is graded; anything else (a PDF, a zip) is an
``invalid`` row that says why. A sub-folder is one student's submission (the
exports of Gradescope, Moodle and Blackboard): the notebook inside it is
graded, whatever else lies beside it, and the row is named by the folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

GRADABLE = (".ipynb", ".py")
#: Files of an export that are not submissions.
IGNORED = ("submission_metadata.yml", "__MACOSX", ".ipynb_checkpoints", "__pycache__")

#: What a file or folder name of an LMS export says about its student, most
#: specific first. Each pattern has a group ``student``; ``order`` (a
#: submission or attempt number), when present, tells resubmissions apart.
LMS_PATTERNS = {
    # Canvas: "doejane_12345_678901_notebook.ipynb", late: "doejane_LATE_12345_..."
    "canvas": r"^[^_]+?(?:_LATE)?_(?P<student>\d+)_(?P<order>\d+)_.+$",
    # Moodle: a folder "Jane Doe_12345_assignsubmission_file_"
    "moodle": r"^.+?_(?P<student>\d+)_assignsubmission_\w+?_?$",
    # Blackboard: "Homework 1_jdoe_attempt_2026-03-01-10-15-00_notebook.ipynb"
    "blackboard": r"^.+?_(?P<student>[^_]+)_attempt_(?P<order>[\d-]+)(?:_.+)?$",
    # Brightspace (D2L): "123-456 - Jane Doe - Mar 1, 2026 1015 AM - notebook.ipynb"
    "brightspace": r"^(?P<order>\d+)-\d+ - (?P<student>.+?) - .+ - .+$",
}


@dataclass
class Entry:
    """One submission of the batch: the file to grade (None if there is none)
    and the row's name; ``problem`` says why it cannot be graded."""

    path: Path | None
    name: str
    student: str = ""
    order: int = 0
    problem: str = ""
    folder: Path | None = None  # the student's folder, if the entry is one
    helpers: tuple[Path, ...] = ()  # .py files beside its notebook (importable)


def _ignored(path: Path) -> bool:
    return path.name.startswith(".") or path.name in IGNORED


def _file_entry(path: Path) -> Entry:
    suffix = path.suffix.lower()
    if suffix in GRADABLE:
        return Entry(path, path.name)
    if suffix == ".zip":
        why = "a .zip archive: unpack it and grade the notebook inside"
    elif suffix == ".pdf":
        why = "a PDF cannot be graded: submit the .ipynb notebook"
    else:
        why = (
            f"not a notebook: submit a .ipynb notebook or a .py file, not {path.name!r}"
        )
    return Entry(None, path.name, problem=why)


def _files_in(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _ignored(Path(d)))
        found += [Path(root, f) for f in sorted(files) if not _ignored(Path(f))]
    return found


def folder_entry(folder: Path, name: str | None = None) -> Entry:
    """One student's folder: its notebook (else its one Python file)."""
    name = name or folder.name
    files = _files_in(folder)
    for suffix in GRADABLE:
        chosen = [f for f in files if f.suffix.lower() == suffix]
        if len(chosen) == 1:
            helpers = tuple(
                f
                for f in files
                if f.parent == chosen[0].parent and f.suffix.lower() == ".py"
            )
            return Entry(chosen[0], name, folder=folder, helpers=helpers)
        if len(chosen) > 1:
            names = ", ".join(str(f.relative_to(folder)) for f in chosen)
            return Entry(
                None,
                name,
                folder=folder,
                problem=f"the folder holds {len(chosen)} {suffix} files ({names}): "
                "keep only the one to grade",
            )
    listed = ", ".join(f.name for f in files[:5]) or "nothing"
    return Entry(
        None, name, problem=f"no .ipynb or .py file in the folder (found {listed})"
    )


#: Folder names that are one student's submission in an LMS export.
STUDENT_FOLDERS = (LMS_PATTERNS["moodle"], r"^submission_\d+$")


def _is_batch(folder: Path) -> bool:
    """Whether a sub-folder is itself a batch (the instructor passed the
    folder above the export), not one student's: no LMS student-folder name,
    and two or more notebooks or folders at its top."""
    if (folder / "submission_metadata.yml").exists() or any(
        re.match(p, folder.name) for p in STUDENT_FOLDERS
    ):
        return False
    top = [
        c
        for c in folder.iterdir()
        if not _ignored(c) and (c.is_dir() or c.suffix.lower() == ".ipynb")
    ]
    return len(top) >= 2


def _folder_entries(folder: Path) -> list[Entry]:
    entries = []
    for child in sorted(folder.iterdir()):
        if _ignored(child):
            continue
        if child.is_dir() and _is_batch(child):
            entries += _folder_entries(child)
        elif child.is_dir():
            entries.append(folder_entry(child))
        else:
            entries.append(_file_entry(child))
    return entries


def discover(paths: list[Path], single: bool = False) -> list[Entry]:
    """The batch's entries, one per submission, rows named uniquely.

    ``single``: each folder given is *one* submission (Gradescope's
    ``/autograder/submission``), not a folder of submissions."""
    entries = []
    for path in paths:
        if path.is_dir() and single:
            entries.append(folder_entry(path))
        elif path.is_dir():
            entries += _folder_entries(path)
        elif path.is_file():
            entries.append(_file_entry(path))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    _unique(entries)
    return entries


def _unique(entries: list[Entry]) -> None:
    seen: dict[str, int] = {}
    for entry in entries:
        count = seen.get(entry.name, 0)
        seen[entry.name] = count + 1
        if count:
            entry.name = f"{entry.name}-{count + 1}"


def student_of(name: str, patterns: list[str]) -> tuple[str, int]:
    """(student, order) from a row's name, by the first pattern that matches;
    else the name without its extension, order 0."""
    for pattern in patterns:
        match = re.match(pattern, name)
        if match and match.groupdict().get("student"):
            order = re.sub(r"\D", "", match.groupdict().get("order") or "")
            return match.group("student"), int(order or 0)
    return Path(name).stem if Path(name).suffix.lower() in GRADABLE else name, 0


def gradescope_student(folder: Path) -> str:
    """The student id in a Gradescope export's ``submission_metadata.yml``."""
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return ""
    text = meta.read_text(errors="replace")
    found = re.search(r":sid:\s*['\"]?([^'\"\n]+)", text) or re.search(
        r":email:\s*['\"]?([^'\"\n]+)", text
    )
    return found.group(1).strip() if found else ""


def name_students(entries: list[Entry], pattern: str | None = None) -> None:
    """Fill in each entry's student (``pattern``, a regular expression with a
    group ``student``, is tried before the built-in LMS patterns)."""
    patterns = ([pattern] if pattern else []) + list(LMS_PATTERNS.values())
    if pattern and "(?P<student>" not in pattern:
        raise ValueError(
            f"--student-pattern {pattern!r} needs a group (?P<student>...)"
        )
    for entry in entries:
        from_meta = gradescope_student(entry.folder) if entry.folder else ""
        entry.student, entry.order = student_of(entry.name, patterns)
        if from_meta:
            entry.student = from_meta
