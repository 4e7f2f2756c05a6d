"""The limits of one submission's run, their command-line options and presets.

One home for every number an instructor may change: the time a cell, all
cells, one case and the whole submission may take, the memory, the disk
written, the processes and the output kept. ``sgdlab grade --preset
gradescope`` sizes them for Gradescope's default container (768 MB of memory,
a 600 s timeout for the whole autograder run).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission.

    ``cell_seconds`` applies to each cell, ``cells_seconds`` to all cells
    together, ``call_seconds`` to each graded case (each runs in a process of
    its own, forked after the cells ran) and ``submission_seconds`` to the
    whole submission: cells, restarts and cases.
    """

    cell_seconds: float = 30.0
    call_seconds: float = 5.0
    cells_seconds: float = 120.0
    submission_seconds: float = 600.0
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * MiB
    disk_bytes: int = 64 * MiB
    processes: int = 64
    output_chars: int = 100_000
    reply_bytes: int = 8 * MiB

    def __post_init__(self) -> None:
        for name in ("cell_seconds", "call_seconds", "cells_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.submission_seconds > 0:
            raise ValueError(
                f"submission_seconds must be positive, got {self.submission_seconds}"
            )
        if self.processes < 4:
            raise ValueError(f"processes must be at least 4, got {self.processes}")
        if self.memory_bytes < 256 * MiB:
            raise ValueError(
                f"memory must be at least 256 MB (Python and NumPy need it), "
                f"got {self.memory_bytes / MiB:.0f} MB"
            )


#: Named presets: ``default`` for a machine of the instructor's, ``gradescope``
#: for Gradescope's default container (768 MB of memory, 600 s for the whole
#: autograder run, of which the grader's start-up takes some). The memory
#: limit caps address space, which counts more than memory in use (importing
#: torch alone reserves about 640 MB of it); the container caps memory in use.
PRESETS = {
    "default": Limits(),
    "gradescope": Limits(
        cell_seconds=60.0,
        call_seconds=5.0,
        cells_seconds=300.0,
        submission_seconds=480.0,
        memory_bytes=1024 * MiB,
        disk_bytes=64 * MiB,
    ),
}

#: Command-line option -> (field, unit multiplier, help).
OPTIONS = {
    "--cell-timeout": ("cell_seconds", 1, "seconds per cell"),
    "--cells-timeout": ("cells_seconds", 1, "seconds for all cells together"),
    "--call-timeout": ("call_seconds", 1, "seconds per graded case"),
    "--submission-timeout": (
        "submission_seconds",
        1,
        "seconds per submission in all (cells, restarts, cases)",
    ),
    "--memory-mb": ("memory_bytes", MiB, "memory (address space) in MB"),
    "--disk-mb": ("disk_bytes", MiB, "MB a submission may write"),
    "--processes": ("processes", 1, "processes and threads a submission may start"),
}


def from_options(preset: str, values: dict) -> Limits:
    """The preset's limits with the options given (``None`` = the preset's)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESETS)}")
    changes = {}
    for option, (name, unit, _) in OPTIONS.items():
        value = values.get(option.lstrip("-").replace("-", "_"))
        if value is not None:
            changes[name] = type(getattr(PRESETS[preset], name))(value * unit)
    return replace(PRESETS[preset], **changes)
