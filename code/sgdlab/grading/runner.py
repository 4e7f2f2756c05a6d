"""The sandboxed side of the grader: runs a submission's cells, then calls its
functions on the inputs the grader sends, one at a time.

Started by :mod:`sgdlab.grading.sandbox` as ``python -I runner.py`` inside
bubblewrap (or, with reduced isolation, in a plain child process). It talks to
the trusted parent with one JSON object per line: requests arrive on stdin,
replies leave on a private copy of stdout. The submission's own output goes
to a capped buffer, so it can neither flood the grader nor forge a reply by
printing. Expected values never come here; the parent compares.

Standard library only (plus NumPy/torch if the submission imports them), so
that start-up stays fast.
"""

import builtins
import errno
import importlib.abc
import importlib.util
import io
import json
import os
import random
import signal
import sys
import time
import traceback

_spec = importlib.util.spec_from_file_location(
    "_sgdlab_values",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "values.py"),
)
_values = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_values)

SEED = 0
LIMITS = {"processes": 64, "disk_bytes": 64 * 1024**2}


class CellTimeout(BaseException):
    """Raised in a cell that runs past its time limit."""


def _on_alarm(signum, frame):
    raise CellTimeout()


def _use_grading_copy(folder) -> None:
    """With reduced isolation: import sgdlab from the grading copy in ``folder``,
    not from wherever the grader's environment installed it."""
    if not folder:
        return
    sys.meta_path[:] = [
        f
        for f in sys.meta_path
        if "editable" not in type(f).__name__.lower()
        and "editable" not in getattr(f, "__name__", "").lower()
    ]
    sys.path.insert(0, folder)
    sys.path_importer_cache.clear()
    for name in [m for m in sys.modules if m == "sgdlab" or m.startswith("sgdlab.")]:
        del sys.modules[name]


def limit_breach(err: BaseException):
    """What cap ``err`` ran into, or None."""
    if isinstance(err, OSError) and err.errno in (
        errno.ENOSPC,
        errno.EFBIG,
        errno.EDQUOT,
    ):
        return (
            f"the disk limit ({LIMITS['disk_bytes'] // 2**20} MB written) was reached: "
            f"{type(err).__name__}: {err}"
        )
    if (isinstance(err, BlockingIOError) and err.errno == errno.EAGAIN) or (
        isinstance(err, RuntimeError) and "can't start new thread" in str(err)
    ):
        return (
            f"the limit of {LIMITS['processes']} processes and threads was reached: "
            f"{type(err).__name__}: {err}"
        )
    return None


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and drops the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts = []
        self.overflow = False

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
        if len(text) > room:
            self.overflow = True
        self.size += len(text)
        return len(text)

    def text(self) -> str:
        return "".join(self.parts)


def seed_everything() -> None:
    """Seed ``random``, NumPy and torch (those already imported)."""
    random.seed(SEED)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(SEED)
    if "torch" in sys.modules and hasattr(sys.modules["torch"], "manual_seed"):
        sys.modules["torch"].manual_seed(SEED)


class _SeedOnImport(importlib.abc.MetaPathFinder):
    """Seeds NumPy and torch right after a submission imports them."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("numpy", "torch"):
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module):
            original(module)
            seed_everything()

        loader.exec_module = exec_module
        return spec


def _strip_magics(source: str) -> str:
    """Comment out IPython-only lines (``%magic``, ``!shell``) so plain Python runs."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("# " + line if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _student_traceback(err: BaseException) -> str:
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if f.filename.startswith("<cell")
    ]
    where = (
        f" ({frames[-1].filename[1:-1]}, line {frames[-1].lineno})" if frames else ""
    )
    return f"{type(err).__name__}: {err}{where}"


def _cell(item, i):
    """(number the student sees, source) of one cell sent by the grader."""
    if isinstance(item, dict):
        return int(item.get("number", i + 1)), str(item.get("source", ""))
    return i + 1, str(item)


def main() -> None:
    """The sandboxed process's whole life, in the order it happens.

    Take over stdin and stdout, read the setup line, run the submission's
    cells under their time limits, report ``ready``, then answer one call
    request per line until asked to exit. It is kept in one piece, longer
    than the package's other functions, so that everything that runs around
    the submission's code can be checked in one reading.
    """
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    # The submission gets no stdin and writes, at the file level, to a scratch file.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    scratch = os.open(
        os.path.join(os.environ.get("TMPDIR", "/tmp"), "sgdlab-output.txt"),
        os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
        0o600,
    )
    os.dup2(scratch, 1)
    os.dup2(scratch, 2)

    def send(message: dict) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    setup = json.loads(requests.readline())
    import site

    for folder in setup.get("site") or []:
        site.addsitedir(folder)
    _use_grading_copy(setup.get("package"))
    LIMITS.update({k: setup[k] for k in LIMITS if k in setup})
    output = CappedOutput(int(setup.get("output_limit", 100_000)))
    sys.stdout = sys.stderr = output
    sys.meta_path.insert(0, _SeedOnImport())
    seed_everything()
    cell_seconds = float(setup.get("cell_seconds", 30.0))
    budget = float(setup.get("cells_seconds", 120.0))
    skip = set(setup.get("skip", []))
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    started = time.monotonic()
    for i, item in enumerate(setup["cells"]):
        number, source = _cell(item, i)
        if i in skip:
            continue
        signal.signal(signal.SIGALRM, _on_alarm)  # a cell may have changed it
        left = budget - (time.monotonic() - started)
        if left <= 0:
            send(
                {
                    "event": "cell_error",
                    "cell": i,
                    "kind": "timeout",
                    "message": f"cell {number} and the cells after it were not run: the cells "
                    f"used up their {budget:g} s",
                }
            )
            break
        send({"event": "cell_start", "cell": i})
        try:
            code = compile(_strip_magics(source), f"<cell {number}>", "exec")
        except SyntaxError as err:
            send(
                {
                    "event": "cell_error",
                    "cell": i,
                    "kind": "SyntaxError",
                    "message": f"SyntaxError in cell {number}, line {err.lineno}: {err.msg}",
                }
            )
            continue
        limit = min(cell_seconds, left)
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                exec(code, namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except CellTimeout:
            send(
                {
                    "event": "cell_error",
                    "cell": i,
                    "kind": "timeout",
                    "message": f"cell {number} was stopped after {limit:g} s (an endless loop?); "
                    "the other cells still ran",
                }
            )
            continue
        except BaseException as err:  # noqa: BLE001 - SystemExit and all: report, go on
            breach = limit_breach(err)
            send(
                {
                    "event": "limit" if breach else "cell_error",
                    "cell": i,
                    "kind": type(err).__name__,
                    "message": f"cell {number}: {breach}"
                    if breach
                    else _student_traceback(err),
                }
            )
            continue
        send({"event": "cell_done", "cell": i})
    send(
        {
            "event": "ready",
            "output_overflow": output.overflow,
            "output": output.text()[:2000],
        }
    )

    for line in requests:
        request = json.loads(line)
        if request.get("exit"):
            break
        name = request["call"]
        function = namespace.get(name)
        if function is None:
            send(
                {
                    "error": "missing",
                    "message": f"no function named {name!r} is defined",
                }
            )
            continue
        if not callable(function):
            send(
                {
                    "error": "missing",
                    "message": f"{name!r} is a {type(function).__name__}, not a function",
                }
            )
            continue
        seed_everything()
        try:
            value = function(*request.get("args", []), **request.get("kwargs", {}))
        except BaseException as err:  # noqa: BLE001
            breach = limit_breach(err)
            send(
                {
                    "error": "limit" if breach else "exception",
                    "message": breach or _student_traceback(err),
                }
            )
            continue
        try:
            send({"value": _values.encode(value)})
        except (TypeError, ValueError, RecursionError) as err:
            send({"error": "type", "message": str(err)})
    proto.close()


if __name__ == "__main__":
    main()
