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
its own from :data:`UID_RANGE`, and resource limits (``setrlimit``): address
space, CPU seconds, size of one file, open files, processes and threads, no
core dumps. Timeouts, the cap on the disk written and the cap on processes
and threads are enforced here, in the parent, which kills every process of
the submission on breach and when the session ends.

``SGDLAB_SANDBOX=bwrap`` or ``=rlimits`` forces one mode (for tests).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .package import grading_copy

BWRAP = "bubblewrap"
REDUCED = "reduced isolation"
#: User ids given to submissions when the grader runs as root (one per
#: running session). ``SGDLAB_SANDBOX_UIDS=START-END`` changes the range.
UID_RANGE = (1_500_000_000, 1_500_004_095)
#: Folders anyone may write to; with reduced isolation the grader counts and
#: removes what a submission's user id leaves there.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run.

    ``cell_seconds`` applies to each cell, ``cells_seconds`` to all cells of
    one run together, ``call_seconds`` to each graded call.
    """

    cell_seconds: float = 30.0
    call_seconds: float = 5.0
    cells_seconds: float = 120.0
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * 1024**2
    disk_bytes: int = 64 * 1024**2
    processes: int = 64
    output_chars: int = 100_000
    reply_bytes: int = 8 * 1024**2

    def __post_init__(self) -> None:
        for name in ("cell_seconds", "call_seconds", "cells_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.processes < 4:
            raise ValueError(f"processes must be at least 4, got {self.processes}")


class SandboxError(RuntimeError):
    """The runner died, broke the protocol, ran out of time or broke a cap."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "timeout", "crashed" or "limit"


# --------------------------------------------------------------------------
# User ids of submissions
# --------------------------------------------------------------------------
def _uid_range() -> tuple[int, int]:
    text = os.environ.get("SGDLAB_SANDBOX_UIDS", "").strip()
    if not text:
        return UID_RANGE
    try:
        start, end = (int(x) for x in text.split("-"))
    except ValueError:
        raise ValueError(
            f"SGDLAB_SANDBOX_UIDS must look like 1500000000-1500004095, got {text!r}"
        ) from None
    if not 1000 <= start <= end < 2**32 - 1:
        raise ValueError(
            f"SGDLAB_SANDBOX_UIDS: need 1000 <= START <= END, got {text!r}"
        )
    return start, end


class _UidPool:
    """Hands out unused user ids, locked with ``flock`` in a folder only root
    can write, so that two graders on one machine never share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}

    def _folder(self) -> Path:
        folder = (
            Path("/run/sgdlab-uids")
            if os.path.isdir("/run")
            else Path(tempfile.gettempdir(), "sgdlab-uids-root")
        )
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
            raise RuntimeError(f"{folder} must be a folder owned by root with mode 700")
        return folder

    def acquire(self) -> int:
        start, end = _uid_range()
        folder = self._folder()
        with self._lock:
            for uid in range(start, end + 1):
                if uid in self._held or _processes_of(uid):  # still dying: not yet
                    continue
                fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise RuntimeError(f"all {end - start + 1} sandbox user ids are in use")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)


_UIDS = _UidPool()


def _processes_of(uid: int) -> list[tuple[int, int]]:
    """(pid, threads) of every process whose real user id is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            found.append((int(entry.name), int(fields.get("Threads", "1").strip())))
    return found


def kill_user(uid: int, seconds: float = 10.0) -> bool:
    """Kill every process of ``uid`` and wait until they are gone (True) or
    ``seconds`` passed. ``kill(-1, SIGKILL)`` sent *as* ``uid`` reaches all of
    them at once, so a fork bomb cannot outrun it."""
    deadline = time.monotonic() + seconds
    while _processes_of(uid):
        if time.monotonic() > deadline:
            return False
        subprocess.run(
            ["kill", "-KILL", "-1"],
            user=uid,
            group=uid,
            extra_groups=[],
            capture_output=True,
            check=False,
        )
        time.sleep(0.02)
    return True


def _owned_bytes(path: str, uid: int, depth: int = 0) -> int:
    """Bytes of the files under ``path`` that ``uid`` owns (recursing into its
    own folders and into folders anyone may write to)."""
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
        if stat.S_ISDIR(info.st_mode):
            shared = info.st_mode & 0o002 and depth < 3
            if (info.st_uid == uid or shared) and depth < 64:
                total += _owned_bytes(entry.path, uid, depth + 1)
        elif info.st_uid == uid:
            total += info.st_blocks * 512
    return total


def remove_owned(uid: int, roots=SHARED_WRITABLE) -> None:
    """Remove what ``uid`` left in the folders anyone may write to."""
    for root in roots:
        _remove_owned(root, uid, 0)


def _remove_owned(path: str, uid: int, depth: int) -> None:
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid == uid:
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002 and depth < 3:
            _remove_owned(entry.path, uid, depth + 1)


# --------------------------------------------------------------------------
# The two isolation modes
# --------------------------------------------------------------------------
def _ancestors(paths) -> list[str]:
    """Every parent folder of ``paths``, shallowest first."""
    out: list[str] = []
    for path in paths:
        parts = Path(path).parts[1:-1]
        for i in range(1, len(parts) + 1):
            folder = "/" + "/".join(parts[:i])
            if folder not in out:
                out.append(folder)
    return out


def _bwrap_command(
    python: str, package_copy: Path, limits: Limits, uid: int | None
) -> list[str]:
    """The bubblewrap command line. As root (``uid`` given) bubblewrap sets up
    the mounts as root, without a user namespace, and ``setpriv`` drops to
    ``uid`` with no capabilities before Python starts; otherwise bubblewrap
    runs as the grader's user in a new user namespace.

    It is long because the command is: every mount and namespace of the
    sandbox is listed here, so that its whole isolation reads in one place."""
    package = Path(__file__).resolve().parents[1]
    binds: list[str] = []
    seen: set[str] = set()
    sources: list[tuple[str, str]] = []

    def ro(path: str | Path, dest: str | Path | None = None) -> None:
        path = str(Path(path).resolve())
        dest = str(dest or path)
        if dest not in seen and os.path.exists(path):
            seen.add(dest)
            sources.append((path, dest))

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
    # The grading copy is mounted where the package is: whatever the
    # submission imports or reads as sgdlab is the copy.
    ro(package_copy, package)
    # Folders bubblewrap creates for the binds: readable by the sandbox's user.
    for folder in _ancestors(dest for _, dest in sources):
        if folder not in seen and not any(folder == d for d in ("/usr",)):
            binds.extend(["--perms", "0755", "--dir", folder])
    for path, dest in sources:
        binds.extend(["--ro-bind", path, dest])
    if uid is None:
        namespaces = ["--unshare-all"]
        drop: list[str] = []
    else:
        namespaces = [*_ROOT_NAMESPACES, "--unshare-cgroup-try", *_ROOT_CAPS]
        drop = _setpriv(uid)
    return [
        # The private /tmp comes first: binds below it (a venv or a clone in
        # /tmp) are then mounted on top of it instead of being hidden by it.
        "bwrap",
        *namespaces,
        "--die-with-parent",
        "--new-session",
        "--perms",
        "1777",
        "--size",
        str(limits.disk_bytes),
        "--tmpfs",
        "/tmp",
        *binds,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--chdir",
        "/tmp",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--setenv",
        "PYTHONHASHSEED",
        "0",
        "--setenv",
        "OMP_NUM_THREADS",
        "1",
        "--setenv",
        "MPLBACKEND",
        "Agg",
        "--setenv",
        "PYTHONDONTWRITEBYTECODE",
        "1",
        *drop,
        python,
        "-I",
        str(package / "grading" / "runner.py"),
    ]


def _reachable(path: str | Path) -> bool:
    """Whether any user may reach and read ``path`` (every parent searchable)."""
    path = Path(path).resolve()
    for folder in [*path.parents, path]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001 or (folder == path and not mode & 0o004):
            return False
    return True


def _is_root() -> bool:
    return os.geteuid() == 0


#: A root grader's sandbox: namespaces of its own, but no user namespace (the
#: submission runs under a user id of its own, set by setpriv).
_ROOT_NAMESPACES = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts")
#: Every capability dropped but the two that setpriv needs to change user.
_ROOT_CAPS = ("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")


def _setpriv(uid: int) -> list[str]:
    """The command prefix that drops to user and group ``uid``, with no
    supplementary groups and no inheritable capabilities."""
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
    ]


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and may create the namespaces it needs
    (as a sandbox user id when the grader is root)."""
    if shutil.which("bwrap") is None:
        return False
    if _is_root():
        command = [
            "bwrap",
            *_ROOT_NAMESPACES,
            *_ROOT_CAPS,
            *("--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"),
            *_setpriv(UID_RANGE[0]),
            "true",
        ]
    else:
        command = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]
    try:
        probe = subprocess.run(command, capture_output=True, timeout=20)
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


def privilege_note(mode: str) -> str:
    """A warning for a weak setting, or ``""``."""
    if mode == REDUCED and not _is_root():
        return (
            "reduced isolation without root: submissions run under your own user id, "
            "so they could signal your processes and read your files; run the grader "
            "as root (e.g. with sudo): each submission then gets a user id of its own"
        )
    return ""


@functools.cache
def _python_for_others() -> tuple[str, list[int], list[str]]:
    """How a sandbox user id starts this Python with reduced isolation.

    If the installation sits where other users cannot reach it (pyenv under
    ``/root``), the child gets an open descriptor of the installation's folder
    and starts ``/proc/self/fd/N/bin/python``: it can read the installation,
    and only that, without any parent folder becoming readable. The
    environment's site-packages are added by the runner.
    """
    real = Path(sys.executable).resolve()
    base = Path(sys.base_prefix).resolve()
    sites = [p for p in sysconfig_paths() if _reachable(p)]
    if _reachable(real) and _reachable(base):
        return str(real), [], sites
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(fd, True)
    return f"/proc/self/fd/{fd}/{real.relative_to(base)}", [fd], sites


def sysconfig_paths() -> list[str]:
    """The environment's site-packages (a venv's included)."""
    import sysconfig

    return sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


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
            self._launch(cells, skip)
        except BaseException:
            self.close()
            raise

    def _launch(self, cells: list, skip) -> None:
        limits = self.limits
        self._tmp = tempfile.TemporaryDirectory(prefix="sgdlab-sandbox-")
        tmp = self._tmp.name
        package_copy = grading_copy()
        python = sys.executable
        owner: dict = {}
        fds: list[int] = []
        site_dirs: list[str] = []
        if self.uid is not None:
            kill_user(self.uid)  # leftovers of a grader that was killed
            remove_owned(self.uid)
            os.chown(tmp, self.uid, self.uid)
        if self.mode == BWRAP:
            cmd, env = _bwrap_command(python, package_copy, limits, self.uid), {}
        else:
            if self.uid is not None:
                owner = {"user": self.uid, "group": self.uid, "extra_groups": []}
                python, fds, site_dirs = _python_for_others()
            cmd = [python, "-I", str(package_copy / "grading" / "runner.py")]
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": tmp,
                "TMPDIR": tmp,
                "PYTHONHASHSEED": "0",
                "OMP_NUM_THREADS": "1",
                "MPLBACKEND": "Agg",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        nproc = limits.processes
        if self.uid is None:  # RLIMIT_NPROC counts all processes of the user
            nproc += sum(1 + threads for _, threads in _processes_of(os.getuid()))
        self._nproc = nproc
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
            env=env,
            start_new_session=True,
            preexec_fn=self._set_limits,
            pass_fds=fds,
            **owner,
        )
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.send(
            {
                "cells": cells,
                "output_limit": limits.output_chars,
                "cell_seconds": limits.cell_seconds,
                "cells_seconds": limits.cells_seconds,
                "skip": sorted(skip),
                "processes": limits.processes,
                "disk_bytes": limits.disk_bytes,
                "site": site_dirs,
                "package": None if self.mode == BWRAP else str(package_copy.parent),
            }
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
    def _check_caps(self) -> None:
        """Processes, threads and disk written, measured from outside."""
        now = time.monotonic()
        if now < self._next_check or self.uid is None:
            return
        self._next_check = now + 0.2
        threads = sum(t for _, t in _processes_of(self.uid))
        if threads >= self.limits.processes:
            raise SandboxError(
                "limit",
                f"the submission started {threads} processes and threads; "
                f"the limit is {self.limits.processes}",
            )
        if self.mode != BWRAP:  # bubblewrap's /tmp is a tmpfs of the capped size
            roots = list(SHARED_WRITABLE)
            if not any(Path(self._tmp.name).is_relative_to(r) for r in roots):
                roots.append(
                    self._tmp.name
                )  # else counted once, from its shared parent
            written = sum(_owned_bytes(root, self.uid) for root in roots)
            if written > self.limits.disk_bytes:
                cap = self.limits.disk_bytes / 2**20
                raise SandboxError(
                    "limit",
                    f"the submission wrote {written / 2**20:.0f} MB to "
                    f"disk; the limit is {cap:.0f} MB",
                )

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

    def call(self, name: str, args: list, kwargs: dict | None = None) -> dict:
        """Call ``name(*args, **kwargs)`` in the sandbox; returns the reply."""
        self.send({"call": name, "args": args, "kwargs": kwargs or {}})
        return self.receive(self.limits.call_seconds, f"the call of {name}")

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
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
