"""The sandboxed side of the grader: runs a submission's cells once, then calls
its functions on the inputs the grader sends, each call in a process of its
own forked from the one that ran the cells.

A call that loops is killed alone (the cells' state stays for the next case),
and what a call changes (globals, inputs it saved) dies with its process, so
no case sees another's inputs.

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
_fork, _kill, _waitpid, _pipe = os.fork, os.kill, os.waitpid, os.pipe
LIMITS = {"processes": 64, "disk_bytes": 64 * 1024**2}


class CellTimeout(BaseException):
    """Raised in a cell (or a call) that runs past its time limit."""


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


class _IPython:
    """What ``get_ipython()`` returns while grading: line magics and shell
    commands do nothing; ``%%time``-like cell magics run their cell."""

    RUN_BODY = ("time", "timeit", "capture", "prun", "debug")

    def __init__(self, namespace: dict) -> None:
        self.user_ns = namespace

    def run_cell_magic(self, name, line, cell):
        if name in self.RUN_BODY:
            exec(compile(cell, "<cell magic>", "exec"), self.user_ns)
        elif name == "writefile" and line.strip():
            with open(line.split()[-1], "w") as f:
                f.write(cell)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _display(*objects, **kwargs):
    """``display()`` as a script sees it: the objects' text, printed."""
    for obj in objects:
        print(repr(obj))


def _jupyter_namespace() -> dict:
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    shell = _IPython(namespace)
    namespace["get_ipython"] = lambda: shell
    namespace["display"] = _display
    return namespace


def _strip_magics(source: str) -> str:
    """Comment out IPython-only lines (``%magic``, ``!shell``) that the grader
    could not turn into calls, so that plain Python runs."""
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
    """(number the student sees, first line, source) of one cell."""
    if isinstance(item, dict):
        return (
            int(item.get("number", i + 1)),
            int(item.get("line", 1)),
            str(item.get("source", "")),
        )
    return i + 1, 1, str(item)


def _take_over_streams():
    """The protocol's own copies of stdin and stdout; the submission gets no
    stdin and writes, at the file level, to a scratch file."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
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

    return proto, requests, send


def _prepare(setup: dict) -> CappedOutput:
    """Imports, limits, the capped output and the seeds, from the setup line."""
    import site

    for folder in setup.get("site") or []:
        site.addsitedir(folder)
    _use_grading_copy(setup.get("package"))
    LIMITS.update({k: setup[k] for k in LIMITS if k in setup})
    for name, text in (setup.get("files") or {}).items():  # the student's modules
        with open(os.path.basename(name), "w") as f:
            f.write(text)
    sys.path.insert(0, os.getcwd())  # as Jupyter: the notebook's folder imports
    output = CappedOutput(int(setup.get("output_limit", 100_000)))
    sys.stdout = sys.stderr = output
    sys.meta_path.insert(0, _SeedOnImport())
    seed_everything()
    return output


def _timed_exec(code, namespace, seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)  # a cell may have changed it
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(code, namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _run_cell(i, item, namespace, limit: float) -> dict:
    """Run one cell; the event that reports it."""
    number, line, source = _cell(item, i)
    try:
        code = compile(
            "\n" * (line - 1) + _strip_magics(source), f"<cell {number}>", "exec"
        )
    except SyntaxError as err:
        message = f"SyntaxError in cell {number}, line {err.lineno}: {err.msg}"
        return {
            "event": "cell_error",
            "cell": i,
            "kind": "SyntaxError",
            "message": message,
        }
    try:
        _timed_exec(code, namespace, limit)
    except CellTimeout:
        message = (
            f"cell {number} was stopped after {limit:g} s (an endless loop?); "
            "the other cells still ran"
        )
        return {"event": "cell_error", "cell": i, "kind": "timeout", "message": message}
    except BaseException as err:  # noqa: BLE001 - SystemExit and all: report, go on
        breach = limit_breach(err)
        return {
            "event": "limit" if breach else "cell_error",
            "cell": i,
            "kind": type(err).__name__,
            "message": f"cell {number}: {breach}"
            if breach
            else _student_traceback(err),
        }
    return {"event": "cell_done", "cell": i}


def _run_cells(setup: dict, namespace: dict, send) -> None:
    """Every cell not skipped, each under its limit, all under the budget."""
    cell_seconds = float(setup.get("cell_seconds", 30.0))
    budget = float(setup.get("cells_seconds", 120.0))
    skip = set(setup.get("skip", []))
    started = time.monotonic()
    for i, item in enumerate(setup["cells"]):
        if i in skip:
            continue
        left = budget - (time.monotonic() - started)
        if left <= 0:
            number = _cell(item, i)[0]
            message = (
                f"cell {number} and the cells after it were not run: the cells "
                f"used up their {budget:g} s"
            )
            send(
                {
                    "event": "cell_error",
                    "cell": i,
                    "kind": "timeout",
                    "message": message,
                }
            )
            break
        send({"event": "cell_start", "cell": i})
        send(_run_cell(i, item, namespace, min(cell_seconds, left)))


def _call_here(request: dict, namespace: dict, seconds: float) -> dict:
    """In the forked process: call the function, the reply to send."""
    name = request["call"]
    function = namespace.get(name)
    if function is None:
        return {"error": "missing", "message": f"no function named {name!r} is defined"}
    if not callable(function):
        kind = type(function).__name__
        return {"error": "missing", "message": f"{name!r} is a {kind}, not a function"}
    seed_everything()
    try:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            value = function(*request.get("args", []), **request.get("kwargs", {}))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CellTimeout:
        return {"error": "timeout", "message": f"ran longer than {seconds:g} s"}
    except BaseException as err:  # noqa: BLE001
        breach = limit_breach(err)
        return {
            "error": "limit" if breach else "exception",
            "message": breach or _student_traceback(err),
        }
    try:
        return {"value": _values.encode(value)}
    except (TypeError, ValueError, RecursionError) as err:
        return {"error": "type", "message": str(err)}


def _child_reply(pid: int, reader: int, seconds: float, limit: int) -> dict:
    """The forked call's reply, read from ``reader`` within ``seconds``; a
    call that does not answer in time is killed."""
    import selectors

    deadline = time.monotonic() + seconds
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(reader, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _kill(pid, signal.SIGKILL)
                _waitpid(pid, 0)
                return {"error": "timeout", "message": f"ran longer than {seconds:g} s"}
            if not selector.select(min(left, 0.5)):
                continue
            chunk = os.read(reader, 1 << 16)
            if not chunk or len(data) > limit:
                break
            data += chunk
            if b"\n" in data:  # answered (a process it started may hold the pipe)
                break
    _kill(pid, signal.SIGKILL)
    _, status = _waitpid(pid, 0)
    if b"\n" in data:
        return json.loads(data.split(b"\n", 1)[0])
    how = (
        f"signal {os.WTERMSIG(status)}"
        if os.WIFSIGNALED(status)
        else f"exit status {os.waitstatus_to_exitcode(status)}"
    )
    return {"error": "crashed", "message": f"the call ended its Python process ({how})"}


def _forked_call(request: dict, namespace: dict, setup: dict) -> dict:
    seconds = float(request.get("seconds", setup.get("call_seconds", 5.0)))
    reader, writer = _pipe()
    pid = _fork()
    if pid == 0:  # the call's own process
        os.close(reader)
        try:
            reply = json.dumps(_call_here(request, namespace, seconds)) + "\n"
        except BaseException as err:  # noqa: BLE001
            reply = json.dumps({"error": "exception", "message": repr(err)}) + "\n"
        view = memoryview(reply.encode())
        while view:
            view = view[os.write(writer, view) :]
        os._exit(0)
    os.close(writer)
    try:
        return _child_reply(
            pid, reader, seconds + 1.0, int(setup.get("reply_bytes", 8 << 20))
        )
    finally:
        os.close(reader)


def main() -> None:
    """The sandboxed process's whole life: take over stdin and stdout, read
    the setup line, run the cells, report ``ready``, then answer one call
    request per line, each in a forked process, until asked to exit."""
    proto, requests, send = _take_over_streams()
    setup = json.loads(requests.readline())
    output = _prepare(setup)
    namespace = _jupyter_namespace()
    _run_cells(setup, namespace, send)
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
        send(_forked_call(request, namespace, setup))
    proto.close()


if __name__ == "__main__":
    main()
