"""Run a command beside busy numeric jobs, as on a shared runner.

Usage (from the repository root)::

    python tools/busy_load.py [--jobs 2] -- COMMAND [ARG ...]

Each job is a single-threaded loop of 256 × 256 matrix products in a process
of its own, started in a session of its own (``os.setsid()``, what
``start_new_session=True`` does). That matters: Linux shares the cores between
sessions first (autogroup scheduling), so busy loops started in the command's
own session barely slow it, while jobs in other sessions, like other users'
builds on a shared machine, take their full share. The jobs are stopped
when the command ends; the command's exit status is returned.

Tests use :func:`busy_jobs` directly (``tests/test_timing_under_load.py``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

LOOP = (
    "import numpy as np\n"
    "a = np.random.default_rng(0).random((256, 256))\n"
    "while True:\n"
    "    a = a @ a\n"
    "    a /= np.abs(a).max()\n"
)


@contextlib.contextmanager
def busy_jobs(n: int = 2) -> Iterator[list[subprocess.Popen]]:
    """Keep ``n`` single-threaded matrix-product loops running, each in a
    session of its own, for the duration of the ``with`` block."""
    if n < 0:
        raise ValueError(f"n must be 0 or more jobs, got {n}")
    env = dict(
        os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    jobs = [
        subprocess.Popen([sys.executable, "-c", LOOP], env=env, start_new_session=True)
        for _ in range(n)
    ]
    try:
        time.sleep(0.5)  # let them start spinning
        for job in jobs:
            if job.poll() is not None:
                raise RuntimeError(
                    f"a busy job exited at once (status {job.returncode})"
                )
        yield jobs
    finally:
        for job in jobs:
            if job.poll() is None:
                os.killpg(job.pid, signal.SIGTERM)  # its own session: its own group
        for job in jobs:
            job.wait(timeout=10)


def main(argv: list[str]) -> int:
    jobs = 2
    if argv[:1] == ["--jobs"]:
        jobs, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with busy_jobs(jobs):
        start = time.perf_counter()
        status = subprocess.call(argv)
        print(
            f"busy_load: {argv[0]} exited {status} after "
            f"{time.perf_counter() - start:.1f} s beside {jobs} busy jobs",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
