"""Print each chapter's memory peak, kernel and child processes together, as on Binder.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/binder_memory.py [CHAPTER ...] [--interval 0.05] [--book DIR]

Each chapter (default: every chapter with code) is converted with jupytext and
run top to bottom in a fresh kernel with nbclient, in ``book/`` as the build
runs it, with ``OMP_NUM_THREADS=1`` as Binder's postBuild sets it. A thread
samples, every ``--interval`` seconds, every process below this one (the
kernel and what it starts: the data-parallel workers in chapter 3) from
``/proc/PID/smaps``, three ways:

* PSS, proportional set size: each shared page split between the processes
  that map it, *all* of them; on a machine where other jobs map the same
  libraries (PyTorch from the same environment), it counts less than the
  session alone would be charged;
* RSS, resident set size: shared pages counted in every process (too much);
* *session*: each process's private pages, plus each file's shared pages
  once (the most any one process of the tree has of it): what the session's
  memory limit counts, within a few MiB, whatever else runs on the machine.

A chapter's *peak* is the largest sum; its *idle* size is the kernel's
(session) size after its last cell, which it keeps while the reader has it
open. The limits below are checked against the session figure.

mybinder.org gives a session 2 GB for everything: the Jupyter server and all
its kernels. The last lines say whether every chapter peaks at 1 GiB or less,
and the worst case of two chapters open at once (one idle, one running).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jupytext
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30
MIB = 2**20
#: mybinder.org's memory limit per session (2 GB), server included.
SESSION_BYTES = 2 * 10**9
CHAPTER_LIMIT = GIB


@dataclass
class Peak:
    session: int = 0
    pss: int = 0
    rss: int = 0
    processes: int = 0
    idle: int = 0
    errors: int = 0
    cell: str = ""  # the first line of the code cell running at the peak
    running: str = ""


@dataclass
class Usage:
    """One process's memory, in bytes, from its ``smaps``."""

    rss: int = 0
    pss: int = 0
    private: int = 0
    shared: dict[str, int] | None = None  # file -> its shared pages here


def usage(pid: int) -> Usage:
    found = Usage(shared={})
    path = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            key, _, rest = line.partition(" ")
            if not key.endswith(
                ":"
            ):  # a mapping: address perms offset dev inode [path]
                fields = rest.split(None, 4)
                path = fields[4].strip() if len(fields) > 4 else ""
                path = path if path.startswith("/") else None
                continue
            if key not in _FIELDS:
                continue
            size = int(rest.split()[0]) * 1024
            if key == "Rss:":
                found.rss += size
            elif key == "Pss:":
                found.pss += size
            elif key.startswith("Private") or path is None:
                found.private += size  # anonymous memory is the process's own
            else:
                found.shared[path] = found.shared.get(path, 0) + size
    return found


_FIELDS = {
    "Rss:",
    "Pss:",
    "Private_Clean:",
    "Private_Dirty:",
    "Shared_Clean:",
    "Shared_Dirty:",
}


def _sample(peak: Peak) -> int:
    """Add one sample of the process tree to ``peak``; return its session size."""
    total, files = Usage(), {}
    count = 0
    for process in psutil.Process().children(recursive=True):
        try:
            one = usage(process.pid)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        count += 1
        total.rss, total.pss = total.rss + one.rss, total.pss + one.pss
        total.private += one.private
        for path, size in one.shared.items():
            files[path] = max(files.get(path, 0), size)
    session = total.private + sum(files.values())
    if session > peak.session:
        peak.session, peak.processes, peak.cell = session, count, peak.running
    peak.pss, peak.rss = max(peak.pss, total.pss), max(peak.rss, total.rss)
    return session


def measure(path: Path, interval: float, timeout: int) -> Peak:
    """Run the chapter at ``path`` in a fresh kernel; its memory peak."""
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        # A timing assertion that a loaded machine fails must not end the
        # measurement: later cells still run (the count is printed).
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    peak, done = Peak(), threading.Event()

    def sampler():
        while not done.is_set():
            _sample(peak)
            time.sleep(interval)

    thread = threading.Thread(target=sampler, daemon=True)
    with client.setup_kernel():
        thread.start()
        try:
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    lines = [line for line in cell.source.splitlines() if line.strip()]
                    peak.running = lines[0][:60] if lines else ""
                    client.execute_cell(cell, index)
            peak.errors = sum(
                output.get("output_type") == "error"
                for cell in notebook.cells
                for output in cell.get("outputs", [])
            )
            time.sleep(2 * interval)
            peak.idle = _sample(peak)
        finally:
            done.set()
            thread.join()
    return peak


def chapters(book: Path) -> list[str]:
    return [
        p.stem for p in sorted(book.glob("*.md")) if "```{code-cell}" in p.read_text()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=None)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument(
        "--book", type=Path, default=ROOT / "book", help="folder of the chapters"
    )
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    names = args.chapters or chapters(args.book)
    print(
        f"{'chapter':<24} {'session':>8} {'PSS':>8} {'RSS':>8} {'procs':>5} "
        f"{'idle':>8} {'errors':>6}"
    )
    peaks = {}
    for name in names:
        peak = measure(args.book / f"{name}.md", args.interval, args.timeout)
        peaks[name] = peak
        print(
            f"{name:<24} {peak.session / MIB:>4.0f} MiB {peak.pss / MIB:>4.0f} MiB "
            f"{peak.rss / MIB:>4.0f} MiB {peak.processes:>5} {peak.idle / MIB:>4.0f} MiB "
            f"{peak.errors:>6}",
            flush=True,
        )
    for name, peak in peaks.items():
        print(f"{name}: peak while running the cell that starts {peak.cell!r}")
    over = [n for n, p in peaks.items() if p.session > CHAPTER_LIMIT]
    print(
        "every chapter peaks at 1 GiB or less (session)"
        if not over
        else f"over 1 GiB (session): {', '.join(over)}"
    )
    if len(peaks) >= 2:
        pairs = [
            (peaks[a].idle + peaks[b].session, a, b)
            for a in peaks
            for b in peaks
            if a != b
        ]
        total, idle, running = max(pairs)
        print(
            f"two chapters open, worst case: {idle} idle + {running} at its peak = "
            f"{total / MIB:.0f} MiB of kernels; a session has "
            f"{SESSION_BYTES / MIB:.0f} MiB, leaving {(SESSION_BYTES - total) / MIB:.0f} "
            "MiB for the Jupyter server"
        )


if __name__ == "__main__":
    main()
