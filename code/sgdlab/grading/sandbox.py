"""Starting the runner in a sandbox and talking to it under time limits.

Isolation, strongest first:

``bubblewrap``
    ``bwrap`` (Debian package ``bubblewrap``) in new user, network, PID, IPC
    and UTS namespaces: no network at all; the system (``/usr``), the Python
    installation and the ``sgdlab`` package read-only; a private, empty
    ``/tmp``; nothing else of the file system (no hidden cases, solutions,
    other submissions or gradebook); a cleared environment.
``reduced isolation``
    Where user namespaces are unavailable (some containers and CI runners),
    a plain child process in an empty temporary folder with a cleared
    environment. Resource limits still apply, but the file system and network
    are reachable; every gradebook row says so.

Both apply resource limits (``setrlimit``): address space, CPU seconds, file
size, open files, no core dumps. Timeouts are enforced here, in the parent, by
killing the runner's whole process group.

``SGDLAB_SANDBOX=bwrap`` or ``=rlimits`` forces one mode (for tests).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
BWRAP = "bubblewrap"
REDUCED = "reduced isolation"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    cell_seconds: float = 10.0
    call_seconds: float = 5.0
    total_seconds: float = 60.0
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * 1024**2
    output_chars: int = 100_000
    reply_bytes: int = 8 * 1024**2


class SandboxError(RuntimeError):
    """The runner died, broke the protocol or ran out of time."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "timeout" or "crashed"


def _bwrap_command(python: str) -> list[str]:
    package = Path(__file__).resolve().parents[1]
    binds: list[str] = []
    seen: set[str] = set()

    def ro(path: str | Path) -> None:
        path = str(Path(path).resolve())
        if path not in seen and os.path.exists(path):
            seen.add(path)
            binds.extend(["--ro-bind", path, path])

    ro("/usr")
    for top in ("/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        if os.path.islink(top):
            binds.extend(["--symlink", os.readlink(top), top])
        elif os.path.isdir(top):
            ro(top)
    for path in ("/etc/ld.so.cache", "/etc/localtime"):
        ro(path)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        ro(prefix)
    ro(Path(python).resolve().parent)
    ro(package)
    return [
        # The private /tmp comes first: binds below it (a venv or a clone in
        # /tmp) are then mounted on top of it instead of being hidden by it.
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--tmpfs", "/tmp",
        *binds, "--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp",
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "TMPDIR", "/tmp", "--setenv", "PYTHONHASHSEED", "0",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MPLBACKEND", "Agg",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        python, "-I", str(RUNNER),
    ]  # fmt: skip


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and may create the namespaces it needs."""
    if shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(
            ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"],
            capture_output=True, timeout=20,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def isolation() -> str:
    """The isolation this machine gives: ``"bubblewrap"`` or ``"reduced isolation"``."""
    forced = os.environ.get("SGDLAB_SANDBOX", "").strip().lower()
    if forced == "rlimits":
        return REDUCED
    if forced == "bwrap":
        if not bwrap_works():
            raise RuntimeError("SGDLAB_SANDBOX=bwrap but bubblewrap cannot run here")
        return BWRAP
    if forced:
        raise ValueError(f"SGDLAB_SANDBOX must be 'bwrap' or 'rlimits', got {forced!r}")
    return BWRAP if bwrap_works() else REDUCED


class Session:
    """One runner process: send the cells, then call functions one at a time.

    Use as a context manager; the process group is killed on exit.
    """

    def __init__(self, cells: list[str], limits: Limits | None = None, mode: str | None = None):
        self.limits = limits = limits or Limits()
        self.mode = mode or isolation()
        self.started = time.monotonic()
        self._buffer = b""
        self._tmp = tempfile.TemporaryDirectory(prefix="sgdlab-sandbox-")
        python = sys.executable
        if self.mode == BWRAP:
            cmd, env, cwd = _bwrap_command(python), {}, self._tmp.name
        else:
            cmd = [python, "-I", str(RUNNER)]
            env = {"PATH": "/usr/bin:/bin", "HOME": self._tmp.name, "TMPDIR": self._tmp.name,
                   "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                   "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
            cwd = self._tmp.name
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=cwd, env=env, start_new_session=True, preexec_fn=self._set_limits,
        )  # fmt: skip
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.send({"cells": cells, "output_limit": limits.output_chars})

    def _set_limits(self) -> None:
        lim = self.limits
        cpu = int(lim.total_seconds) + 5
        for what, value in (
            (resource.RLIMIT_AS, lim.memory_bytes),
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_FSIZE, lim.file_bytes),
            (resource.RLIMIT_NOFILE, 256),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(what, (value, value))

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SandboxError("crashed", "the submission's process ended early") from None

    def receive(self, seconds: float, what: str) -> dict:
        """The next message, waiting at most ``seconds`` (and the total budget)."""
        deadline = time.monotonic() + seconds
        total_deadline = self.started + self.limits.total_seconds
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            now = time.monotonic()
            if now >= total_deadline:
                raise SandboxError("timeout", f"the whole run took longer than "
                                   f"{self.limits.total_seconds:g} s ({what})")  # fmt: skip
            if now >= deadline:
                raise SandboxError("timeout", f"{what} ran longer than {seconds:g} s")
            if not self._selector.select(min(deadline, total_deadline) - now):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = self.proc.wait()
                how = f"signal {-code}" if code < 0 else f"exit status {code}"
                raise SandboxError("crashed", f"the Python process ended ({how}) during {what}")
            self._buffer += chunk
            if len(self._buffer) > self.limits.reply_bytes:
                raise SandboxError("crashed", f"a reply during {what} exceeded "
                                   f"{self.limits.reply_bytes} bytes")  # fmt: skip
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise SandboxError("crashed", f"an unreadable reply during {what}") from None
        if not isinstance(message, dict):
            raise SandboxError("crashed", f"an unreadable reply during {what}")
        return message

    def call(self, name: str, args: list, kwargs: dict | None = None) -> dict:
        """Call ``name(*args, **kwargs)`` in the sandbox; returns the reply."""
        self.send({"call": name, "args": args, "kwargs": kwargs or {}})
        return self.receive(self.limits.call_seconds, f"the call of {name}")

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._selector.close()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._tmp.cleanup()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
