"""User ids of submissions, when the grader runs as root.

Each running session gets a user id of its own from :data:`UID_RANGE`, so a
submission cannot signal the grader or another submission. The pool hands
them out; :func:`kill_user` ends every process of one, and
:func:`remove_owned` removes what it left in the folders anyone may write to
(:data:`SHARED_WRITABLE`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

#: User ids given to submissions when the grader runs as root (one per
#: running session). ``SGDLAB_SANDBOX_UIDS=START-END`` changes the range.
UID_RANGE = (1_500_000_000, 1_500_004_095)
#: Folders anyone may write to; with reduced isolation the grader counts and
#: removes what a submission's user id leaves there.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


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
