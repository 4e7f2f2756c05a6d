"""Print each chapter's memory peak, kernel and child processes together, as on Binder.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/binder_memory.py [CHAPTER ...] [--interval 0.05]

Each chapter (default: every chapter with code) is converted with jupytext and
run top to bottom in a fresh kernel with nbclient, in ``book/`` as the build
runs it, with ``OMP_NUM_THREADS=1`` as Binder's postBuild sets it. A thread
samples, every ``--interval`` seconds, every process below this one (the
kernel and what it starts: ``torchrun`` and its workers in chapter 3) and
sums their proportional set size (PSS: each shared page counted once, split
between the processes that map it) and their resident set size (RSS: shared
pages counted in every process). A chapter's *peak* is the largest sum; its
*idle* size is the kernel's PSS after its last cell, which is what it keeps
while the reader has it open.

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
    pss: int = 0
    rss: int = 0
    processes: int = 0
    idle_pss: int = 0
    errors: int = 0


def _tree() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def _sample(peak: Peak) -> int:
    """Add one sample of the process tree to ``peak``; return the tree's PSS."""
    pss = rss = count = 0
    for process in _tree():
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        pss, rss, count = pss + info.pss, rss + info.rss, count + 1
    if pss > peak.pss:
        peak.pss, peak.processes = pss, count
    peak.rss = max(peak.rss, rss)
    return pss


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
                    client.execute_cell(cell, index)
            peak.errors = sum(
                output.get("output_type") == "error"
                for cell in notebook.cells
                for output in cell.get("outputs", [])
            )
            time.sleep(2 * interval)
            peak.idle_pss = _sample(peak)
        finally:
            done.set()
            thread.join()
    return peak


def chapters() -> list[str]:
    return [
        p.stem
        for p in sorted((ROOT / "book").glob("*.md"))
        if "```{code-cell}" in p.read_text()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=None)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    names = args.chapters or chapters()
    print(
        f"{'chapter':<24} {'peak PSS':>9} {'peak RSS':>9} {'procs':>5} {'idle':>8} {'errors':>6}"
    )
    peaks = {}
    for name in names:
        peak = measure(ROOT / "book" / f"{name}.md", args.interval, args.timeout)
        peaks[name] = peak
        print(
            f"{name:<24} {peak.pss / MIB:>5.0f} MiB {peak.rss / MIB:>5.0f} MiB "
            f"{peak.processes:>5} {peak.idle_pss / MIB:>4.0f} MiB {peak.errors:>6}",
            flush=True,
        )
    over = [n for n, p in peaks.items() if p.pss > CHAPTER_LIMIT]
    print(
        "every chapter peaks at 1 GiB or less (PSS)"
        if not over
        else f"over 1 GiB (PSS): {', '.join(over)}"
    )
    if len(peaks) >= 2:
        pairs = [
            (peaks[a].idle_pss + peaks[b].pss, a, b)
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
