"""Shared fixtures. One thread: results are then bit-for-bit repeatable."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)

# The site's Sphinx extensions (_ext/) and tools (tools/) live outside the
# package; tests import them by their module names.
for _folder in ("_ext", "tools"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _folder))


@pytest.fixture(scope="session")
def boston():
    from sgdlab.data import load_boston

    return load_boston()


@pytest.fixture(scope="session")
def digits():
    """The 5,000 real digits of chapter 3, split as the chapter splits them."""
    from sgdlab.data import load_digits

    return load_digits(seed=0)


@pytest.fixture(scope="session")
def headline(boston):
    """The chapter-1 experiment: full batch and batches of 50, 300 epochs each."""
    from sgdlab.models import make_mlp
    from sgdlab.training import train

    full = train(
        make_mlp(boston.n_features, seed=12345), boston.X, boston.y, epochs=300
    )
    mini = train(
        make_mlp(boston.n_features, seed=12345),
        boston.X,
        boston.y,
        epochs=300,
        batch_size=50,
    )
    return full, mini


ROOT = Path(__file__).resolve().parents[1]


#: The module whose tests start the build: it goes first, so the build starts at once.
FIRST = "test_book.py"
#: The modules that grade in sandboxes, each checking that no grading user id is
#: left on the machine: one first (beside the build), the other last, so that
#: they do not run at the same time.
SANDBOXED = ("test_grading.py", "test_grading_batch.py")
#: The book modules that take longest, longest first (measured with the timings
#: of ``--durations``): whichever worker is free takes the next module, so the
#: long ones start early and the short ones fill in at the end.
LONGEST_BOOK_MODULES = ("test_binder.py", "test_reader.py", "test_site.py")


def pytest_itemcollected(item):
    """Every test that needs the book's build is a ``book`` test."""
    if "build" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.book)


def pytest_collection_modifyitems(config, items):
    """The modules in the order the two workers take them (``--dist loadfile``,
    a module at a time): the first book module (one worker builds), the
    modules that need no build (the other worker runs them meanwhile), then the
    other book modules, the longest first, and the second sandboxed module last."""
    needs_build = {item.path for item in items if item.get_closest_marker("book")}

    def rank(item) -> tuple[int, int]:
        name = item.path.name
        if name == FIRST:
            return 0, 0
        if name == SANDBOXED[0]:
            return 1, 0  # the longest module that needs no build
        if name == SANDBOXED[1]:
            return 4, 0
        if item.path not in needs_build:
            return 2, 0
        longest = LONGEST_BOOK_MODULES
        return 3, longest.index(name) if name in longest else len(longest)

    items.sort(key=rank)  # stable: each module keeps its own order


def _strict_build() -> tuple[int, str]:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", ".", "--all", "-W", "-n", "--keep-going"]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    log = result.stdout + result.stderr
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "test-build.log").write_text(log)
    return result.returncode, log


@pytest.fixture(scope="session")
def build(tmp_path_factory, worker_id):
    """One strict build of the whole book, shared by the book and site tests of
    every pytest-xdist worker: the first worker to need it builds, holding a lock
    in the session's temporary folder; the other waits for it and reads the result.

    ``--all`` makes Sphinx re-read every page, so a warning in an unchanged page
    is still reported; the execution cache spares re-running unchanged chapters.
    """
    if worker_id == "master":  # no xdist (-n 0)
        return _strict_build()
    shared = tmp_path_factory.getbasetemp().parent  # one per session, all workers
    with open(shared / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "build.json"
        if not done.is_file():
            done.write_text(json.dumps(_strict_build()))
        returncode, log = json.loads(done.read_text())
    return returncode, log


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright, shared by the site and explorer tests."""
    executable = os.environ.get("SGDLAB_CHROMIUM") or shutil.which("chromium")
    if executable is None:
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()
