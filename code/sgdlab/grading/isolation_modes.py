"""The two isolation modes of the sandbox: the bubblewrap command line, and
what reduced isolation needs (dropping privileges, a Python the submission's
user may read); which mode this machine gives (:func:`isolation`).

See :mod:`sgdlab.grading.sandbox` for what each mode isolates.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .limits import Limits
from .uids import UID_RANGE

BWRAP = "bubblewrap"
REDUCED = "reduced isolation"


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


def _read_only_binds(python: str, package_copy: Path, package: Path) -> list[str]:
    """The read-only part of the sandbox's file system: the system, the Python
    installation and the grading copy of the package (where the package is,
    so that whatever the submission imports or reads as sgdlab is the copy)."""
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
    ro(package_copy, package)
    # Folders bubblewrap creates for the binds: readable by the sandbox's user.
    for folder in _ancestors(dest for _, dest in sources):
        if folder not in seen and folder != "/usr":
            binds.extend(["--perms", "0755", "--dir", folder])
    for path, dest in sources:
        binds.extend(["--ro-bind", path, dest])
    return binds


#: The sandbox's environment: nothing of the grader's.
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def package_mount() -> Path:
    """Where the sandbox sees the (grading copy of the) package."""
    return Path(__file__).resolve().parents[1]


def _bwrap_command(
    python: str, package_copy: Path, limits: Limits, uid: int | None
) -> list[str]:
    """The bubblewrap command line. As root (``uid`` given) bubblewrap sets up
    the mounts as root, without a user namespace, and ``setpriv`` drops to
    ``uid`` with no capabilities before Python starts; otherwise bubblewrap
    runs as the grader's user in a new user namespace.

    The private ``/tmp`` comes first: binds below it (a venv or a clone in
    /tmp) are then mounted on top of it instead of being hidden by it. Its
    size is capped by bubblewrap's ``--size`` where bubblewrap has it (0.7.0
    and later); otherwise the grader measures what is written there."""
    package = package_mount()
    if uid is None:
        namespaces, drop = ["--unshare-all"], []
    else:
        namespaces = [*_ROOT_NAMESPACES, "--unshare-cgroup-try", *_ROOT_CAPS]
        drop = _setpriv(uid)
    size = ["--size", str(limits.disk_bytes)] if bwrap_has_size() else []
    env = [x for k, v in SANDBOX_ENV.items() for x in ("--setenv", k, v)]
    return [
        "bwrap",
        *namespaces,
        *("--die-with-parent", "--new-session", "--perms", "1777"),
        *size,
        *("--tmpfs", "/tmp"),
        *_read_only_binds(python, package_copy, package),
        *("--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp", "--clearenv"),
        *env,
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
    return _probe(command) == 0


def _probe(command: list[str]) -> int:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode
    except (OSError, subprocess.SubprocessError):
        return -1


@functools.cache
def bwrap_has_size() -> bool:
    """Whether the installed bubblewrap takes ``--size`` (0.7.0 and later;
    Ubuntu 22.04, Gradescope's base image, ships 0.6)."""
    namespaces = list(_ROOT_NAMESPACES) if _is_root() else ["--unshare-all"]
    tmp = ["--perms", "1777", "--size", "1048576", "--tmpfs", "/tmp"]
    return _probe(["bwrap", *namespaces, "--ro-bind", "/", "/", *tmp, "true"]) == 0


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


def readable_secrets(paths) -> list[str]:
    """Those of ``paths`` a submission's own user id could read (with reduced
    isolation, as root): world-readable, every parent folder searchable."""
    found = []
    for path in map(Path, paths):
        try:
            path = path.resolve()
            searchable = all(f.stat().st_mode & 0o001 for f in path.parents)
            readable = path.stat().st_mode & 0o004
        except OSError:
            continue
        if searchable and readable:
            found.append(str(path))
    return found


def check_private(mode: str, paths) -> None:
    """Refuse reduced isolation while the reference solutions or hidden cases
    are readable by the submissions' user ids (``SGDLAB_READABLE_OK=1``
    accepts it, e.g. for the book's public sample)."""
    if mode != REDUCED or not _is_root() or os.environ.get("SGDLAB_READABLE_OK"):
        return
    readable = readable_secrets(paths)
    if readable:
        raise ValueError(
            "reduced isolation, and a submission could read the reference "
            f"solutions or hidden cases: {', '.join(readable[:3])}; make them "
            "unreadable to other users (chmod -R go-rwx on their folder) or grade "
            "where bubblewrap works"
        )


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
