"""Measuring how long things take, robustly enough for a shared machine.

Used by chapter 1 (reading the data versus one training step) and by the
step timers of chapter 3 (:mod:`sgdlab.step_time`). :func:`median_time`
resists the outliers of a busy machine better than a mean. Where two things
are compared, :func:`interleaved_best` times them in turn, round after round,
and keeps each one's fastest round: other jobs slow a run down, never speed it
up, so the minimum is the estimate least touched by them, and interleaving
makes a slow spell hit every contender alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import TypeVar

from ._checks import check_non_negative_int, check_positive_int


def median_time(
    fn: Callable[[], object], *, repeats: int = 21, warmup: int = 2
) -> float:
    """Median wall-clock time of ``fn()`` in seconds.

    Parameters
    ----------
    fn
        A function of no arguments; its result is discarded.
    repeats
        Number of timed calls (odd numbers give a true median).
    warmup
        Untimed calls made first (caches, lazy initialization).
    """
    repeats = check_positive_int(repeats, "repeats")
    warmup = check_non_negative_int(warmup, "warmup")
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {type(fn).__name__}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


K = TypeVar("K", bound=Hashable)


def interleaved_best(
    timers: Mapping[K, Callable[[], float]], *, rounds: int = 5
) -> dict[K, float]:
    """The smallest of ``rounds`` measurements of each timer, taken in turn.

    Each timer is a function of no arguments that runs something and returns
    the seconds it measured (so it may time only part of what it does). Round
    after round, every timer is called once, in order; the result maps each
    key to its fastest round.
    """
    rounds = check_positive_int(rounds, "rounds")
    if not timers or not all(callable(t) for t in timers.values()):
        raise ValueError("timers must map names to functions that return seconds")
    best = {key: float("inf") for key in timers}
    for _ in range(rounds):
        for key, timer in timers.items():
            best[key] = min(best[key], float(timer()))
    return best


def clock(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn()`` takes (a timer for :func:`interleaved_best`)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def synchronize(device) -> None:
    """Wait until a GPU ``device`` has done the work queued on it (nothing on the CPU).

    A GPU runs operations after Python has moved on; a clock read without
    waiting would miss them.
    """
    if device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def cpu_model() -> str:
    """The processor's model name, from ``/proc/cpuinfo`` where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="ignore").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, str | int]:
    """What a timing was measured on: CPU, cores, torch threads and version, GPU.

    Benchmarks and chapters print this next to their numbers.
    """
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "torch threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gpu": gpu,
    }
