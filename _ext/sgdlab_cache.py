"""A Sphinx extension that re-executes the book when ``sgdlab`` or the data change.

myst-nb caches each chapter's outputs keyed on the text of its code cells.
A chapter that calls ``sgdlab.training.train`` keeps the same code cells when
``train`` changes, so the cache would serve outputs computed by the old code.
This extension fingerprints the watched folders (by default ``code/`` and
``data/``) at the start of every build. When the fingerprint differs from the
one stored beside the execution cache, it

1. deletes the execution cache, so every chapter runs again, and
2. exposes the fingerprint as the config value ``sgdlab_fingerprint``, which
   Sphinx compares with the previous build: a change makes it re-read every
   page instead of only the pages whose text changed.

Enabled in ``_config.yml`` under ``sphinx: local_extensions`` (it lives in
``_ext/``, outside the watched folders, so editing it does not re-execute the
book). Folders to watch are set with ``sgdlab_watch`` (paths relative to the
book's root).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Files that never change what a chapter computes.
IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
STAMP_SUFFIX = ".sgdlab-fingerprint"


def fingerprint(root: str | Path, watched: Iterable[str]) -> str:
    """SHA-256 over the relative paths and contents of every file in ``watched``.

    Byte-compiled files, caches and the ``*.egg-info`` metadata that
    ``pip install -e .`` writes are skipped; a missing folder counts as empty.
    Renaming, adding, removing or editing a file changes the result.
    """
    root = Path(root)
    digest = hashlib.sha256()
    for folder in sorted(watched):
        base = root / folder
        files = (
            sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        )
        for path in files:
            rel = path.relative_to(root)
            if (
                IGNORED_PARTS.intersection(rel.parts)
                or path.suffix in IGNORED_SUFFIXES
                or any(part.endswith(".egg-info") for part in rel.parts)  # made by pip
            ):
                continue
            digest.update(rel.as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def cache_path(app: Sphinx, config: Config) -> Path:
    """Where myst-nb keeps its execution cache for this build."""
    configured = getattr(config, "nb_execution_cache_path", "") or ""
    if configured:
        return Path(configured).resolve()
    return Path(app.outdir).parent.joinpath(".jupyter_cache").resolve()


def refresh_cache(cache: Path, current: str) -> bool:
    """Delete ``cache`` if it was made from other sources; record ``current``.

    Returns ``True`` when the cache was deleted.
    """
    stamp = cache.with_name(cache.name + STAMP_SUFFIX)
    previous = stamp.read_text().strip() if stamp.is_file() else None
    cleared = False
    if previous != current and cache.exists():
        shutil.rmtree(cache)
        cleared = True
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return cleared


def _on_config_inited(app: Sphinx, config: Config) -> None:
    current = fingerprint(app.srcdir, config.sgdlab_watch)
    config.sgdlab_fingerprint = current
    cache = cache_path(app, config)
    if refresh_cache(cache, current):
        logger.info(
            "sgdlab: code or data changed since the last build; cleared the execution "
            "cache %s so that every chapter runs again",
            cache,
        )


def setup(app: Sphinx) -> dict:
    app.add_config_value("sgdlab_watch", ["code", "data"], "env")
    app.add_config_value("sgdlab_fingerprint", "", "env")
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
