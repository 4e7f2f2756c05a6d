"""Starting the runner in a sandbox and talking to it under time limits.

Isolation, strongest first:

``bubblewrap``
    ``bwrap`` (Debian package ``bubblewrap``) in new user, network, PID, IPC
    and UTS namespaces: no network at all; the system (``/usr``), the Python
    installation and a *grading copy* of the ``sgdlab`` package read-only; a
    private ``/tmp`` of at most :attr:`Limits.disk_bytes`; nothing else of the
    file system (no hidden cases, solutions, other submissions or gradebook);
    a cleared environment. The PID namespace ends with the runner.
``reduced isolation``
    Where user namespaces are unavailable (some containers and CI runners),
    a plain child process in its own Unix session (``setsid``), in an empty
    private folder, with a cleared environment and the same resource limits.
    When the grader runs as root, the child runs under a dedicated user id of
    its own, so it cannot signal the grader or anything else on the machine,
    and can write only where everybody may; the grader measures and caps what
    it writes there and removes it afterwards. The file system and network
    are otherwise reachable; every gradebook row says ``reduced isolation``.

In both modes, each submission gets (when the grader is root) a user id of
its own from :data:`~sgdlab.grading.uids.UID_RANGE`, and resource limits (``setrlimit``): address
space, CPU seconds, size of one file, open files, processes and threads, no
core dumps. Timeouts, the cap on the disk written and the cap on processes
and threads are enforced here, in the parent, which kills every process of
the submission on breach and when the session ends.

``SGDLAB_SANDBOX=bwrap`` or ``=rlimits`` forces one mode (for tests). The
modes are built in :mod:`sgdlab.grading.isolation_modes`, the user ids handed
out and cleaned up in :mod:`sgdlab.grading.uids`; this module holds the limits
and the :class:`Session` that runs the runner under them.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .isolation_modes import (
    BWRAP,
    SANDBOX_ENV,
    _bwrap_command,
    _is_root,
    _python_for_others,
    bwrap_has_size,
    isolation,
    package_mount,
)
from .limits import Limits
from .package import grading_copy
from .uids import (
    _UIDS,
    SHARED_WRITABLE,
    _owned_bytes,
    _processes_of,
    kill_user,
    remove_owned,
)

GRACE_SECONDS = 2.0


class SandboxError(RuntimeError):
    """The runner died, broke the protocol, ran out of time or broke a cap;
    or (kind ``environment``) the sandbox itself could not start."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "timeout", "crashed", "limit" or "environment"


_LIVE: set = set()
_LIVE_LOCK = threading.Lock()


def stop_all() -> int:
    """Kill every running sandbox of this grader (Ctrl-C); how many there were."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for session in live:
        session.kill()
    return len(live)


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


class Session:
    """One runner process: send the cells, then call functions one at a time.

    Use as a context manager; every process of the submission is killed on exit.
    """

    def __init__(
        self,
        cells: list,
        limits: Limits | None = None,
        mode: str | None = None,
        skip: set[int] | frozenset[int] = frozenset(),
        files: dict[str, str] | None = None,
    ):
        self.limits = limits = limits or Limits()
        self.mode = mode or isolation()
        self.started = time.monotonic()
        self._buffer = b""
        self._next_check = 0.0
        self.uid = _UIDS.acquire() if _is_root() else None
        self.proc = None
        self._selector = selectors.DefaultSelector()
        try:
            self._launch(cells, skip, files or {})
        except BaseException:
            self.close()
            raise

    def _launch(self, cells: list, skip, files: dict[str, str]) -> None:
        limits = self.limits
        self._tmp = tempfile.TemporaryDirectory(prefix="sgdlab-sandbox-")
        # What bubblewrap or Python says before the runner takes over stderr:
        # how an environment failure is told from a submission's.
        self._stderr = tempfile.TemporaryFile()
        if self.uid is not None:
            kill_user(self.uid)  # leftovers of a grader that was killed
            remove_owned(self.uid)
            os.chown(self._tmp.name, self.uid, self.uid)
        cmd, env, owner, fds, site_dirs = self._command(grading_copy())
        self._nproc = limits.processes
        if self.uid is None:  # RLIMIT_NPROC counts all processes of the user
            self._nproc += sum(1 + t for _, t in _processes_of(os.getuid()))
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self._tmp.name,
            env=env,
            start_new_session=True,
            preexec_fn=self._set_limits,
            pass_fds=fds,
            **owner,
        )
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        with _LIVE_LOCK:
            _LIVE.add(self)
        package = package_mount() if self.mode == BWRAP else grading_copy()
        self.send(
            {
                "cells": cells,
                "files": files,
                "output_limit": limits.output_chars,
                "cell_seconds": limits.cell_seconds,
                "cells_seconds": limits.cells_seconds,
                "skip": sorted(skip),
                "processes": limits.processes,
                "disk_bytes": limits.disk_bytes,
                "site": site_dirs,
                "package": str(package.parent),
                "call_seconds": limits.call_seconds,
                "reply_bytes": limits.reply_bytes,
            }
        )

    def _command(self, package_copy: Path) -> tuple:
        """(command, environment, owner, descriptors to pass, site folders)
        that start the runner in this session's isolation mode."""
        if self.mode == BWRAP:
            command = _bwrap_command(
                sys.executable, package_copy, self.limits, self.uid
            )
            return command, {}, {}, [], []
        python, fds, site_dirs, owner = sys.executable, [], [], {}
        if self.uid is not None:
            owner = {"user": self.uid, "group": self.uid, "extra_groups": []}
            python, fds, site_dirs = _python_for_others()
        tmp = self._tmp.name
        command = [python, "-I", str(package_copy / "grading" / "runner.py")]
        return (
            command,
            {**SANDBOX_ENV, "HOME": tmp, "TMPDIR": tmp},
            owner,
            fds,
            site_dirs,
        )

    def _set_limits(self) -> None:
        """In the child, after the user id changed and before ``exec``."""
        lim = self.limits
        cpu = int(lim.cells_seconds) + 600  # a backstop; wall-clock limits come first
        for what, value in (
            (resource.RLIMIT_AS, lim.memory_bytes),
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_FSIZE, min(lim.file_bytes, lim.disk_bytes)),
            (resource.RLIMIT_NOFILE, 256),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NPROC, self._nproc),
        ):
            resource.setrlimit(what, (value, value))
        # The runner dies with the grader (bubblewrap also has --die-with-parent).
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    # ----------------------------------------------------------------------
    def _check_caps(self, *, now_or_never: bool = False) -> None:
        """Processes, threads and disk written, measured from outside (at most
        every 0.2 s while waiting; ``now_or_never`` checks at once)."""
        now = time.monotonic()
        if self.uid is None or (now < self._next_check and not now_or_never):
            return
        self._next_check = now + 0.2
        threads = sum(t for _, t in _processes_of(self.uid))
        if threads >= self.limits.processes:
            raise SandboxError(
                "limit",
                f"the submission started {threads} processes and threads; "
                f"the limit is {self.limits.processes}",
            )
        written = self._written()
        if written > self.limits.disk_bytes:
            cap = self.limits.disk_bytes / 2**20
            raise SandboxError(
                "limit",
                f"the submission wrote {written / 2**20:.0f} MB to "
                f"disk; the limit is {cap:.0f} MB",
            )

    def _written(self) -> int:
        """Bytes the submission wrote where it may write."""
        if self.mode == BWRAP:
            if bwrap_has_size():  # its /tmp is a tmpfs of the capped size
                return 0
            pids = [pid for pid, _ in _processes_of(self.uid)]
            return _tree_bytes(f"/proc/{pids[0]}/root/tmp") if pids else 0
        roots = list(SHARED_WRITABLE)
        if not any(Path(self._tmp.name).is_relative_to(r) for r in roots):
            roots.append(self._tmp.name)  # else counted once, from its shared parent
        return sum(_owned_bytes(root, self.uid) for root in roots)

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SandboxError(
                "crashed", "the submission's process ended early"
            ) from None

    def receive(self, seconds: float, what: str) -> dict:
        """The next message, waiting at most ``seconds``."""
        deadline = time.monotonic() + seconds
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            self._check_caps()
            now = time.monotonic()
            if now >= deadline:
                raise SandboxError("timeout", f"{what} ran longer than {seconds:g} s")
            if not self._selector.select(min(deadline - now, 0.2)):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = self.proc.wait()
                self._check_caps()
                self._environment_failure()
                how = f"signal {-code}" if code < 0 else f"exit status {code}"
                raise SandboxError(
                    "crashed", f"the Python process ended ({how}) during {what}"
                )
            self._buffer += chunk
            if len(self._buffer) > self.limits.reply_bytes:
                raise SandboxError(
                    "crashed",
                    f"a reply during {what} exceeded {self.limits.reply_bytes} bytes",
                )
        # A cap broken just before the reply belongs to what replied (a cell
        # that filled the disk in less than one check's interval), not to
        # whatever the grader asks next.
        self._check_caps(now_or_never=True)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise SandboxError(
                "crashed", f"an unreadable reply during {what}"
            ) from None
        if not isinstance(message, dict):
            raise SandboxError("crashed", f"an unreadable reply during {what}")
        return message

    def _environment_failure(self) -> None:
        """Raise ``environment`` if bubblewrap (not the submission) failed."""
        self._stderr.seek(0)
        said = self._stderr.read(4000).decode(errors="replace")
        if self.mode == BWRAP and said.startswith("bwrap:"):
            raise SandboxError(
                "environment", f"the sandbox could not start: {said.strip()}"
            )

    def call(self, name: str, args: list, kwargs: dict | None = None) -> dict:
        """Call ``name(*args, **kwargs)`` in a process forked from the one that
        ran the cells; returns the reply (a call that runs too long is killed
        by the runner, which replies ``timeout``)."""
        seconds = self.limits.call_seconds
        self.send(
            {"call": name, "args": args, "kwargs": kwargs or {}, "seconds": seconds}
        )
        return self.receive(seconds + 1 + GRACE_SECONDS, f"the call of {name}")

    def kill(self) -> None:
        """Kill the runner and all it started (from any thread)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.uid is not None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                kill_user(self.uid, 2.0)

    def close(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
            self._stderr = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            # Reaped first: until then the runner is a zombie of the submission's
            # user id, which kill_user would wait for in vain (10 s a session).
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.uid is not None:
            kill_user(self.uid)
        if self.proc is not None:
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        with contextlib.suppress(Exception):
            self._selector.close()
        if self.uid is not None:
            remove_owned(self.uid)
            _UIDS.release(self.uid)
            self.uid = None
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tree_bytes(path: str, depth: int = 0) -> int:
    """Bytes of every file under ``path``."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if entry.is_dir(follow_symlinks=False) and depth < 64:
            total += _tree_bytes(entry.path, depth + 1)
        else:
            total += info.st_blocks * 512
    return total
