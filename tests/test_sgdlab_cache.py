"""Tests of _ext/sgdlab_cache.py: a change in code/ or data/ re-executes the book.

The last test builds a real, tiny Sphinx + myst-nb project twice and shows
both the trap (without the extension a stale output survives) and the fix.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sgdlab_cache import STAMP_SUFFIX, fingerprint, refresh_cache


def _tree(root: Path) -> None:
    (root / "code" / "pkg").mkdir(parents=True)
    (root / "code" / "pkg" / "a.py").write_text("x = 1\n")
    (root / "data").mkdir()
    (root / "data" / "t.csv").write_text("a,b\n1,2\n")


def test_fingerprint_sees_edits_additions_and_renames(tmp_path):
    _tree(tmp_path)
    watched = ["code", "data"]
    first = fingerprint(tmp_path, watched)
    assert fingerprint(tmp_path, watched) == first
    (tmp_path / "data" / "t.csv").write_text("a,b\n1,3\n")
    second = fingerprint(tmp_path, watched)
    assert second != first
    (tmp_path / "code" / "pkg" / "new.py").write_text("")
    third = fingerprint(tmp_path, watched)
    assert third != second
    (tmp_path / "code" / "pkg" / "new.py").rename(
        tmp_path / "code" / "pkg" / "renamed.py"
    )
    assert fingerprint(tmp_path, watched) != third


def test_fingerprint_ignores_bytecode_and_install_metadata(tmp_path):
    _tree(tmp_path)
    before = fingerprint(tmp_path, ["code"])
    cache = tmp_path / "code" / "pkg" / "__pycache__"
    cache.mkdir()
    (cache / "a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "code" / "pkg.egg-info").mkdir()
    (tmp_path / "code" / "pkg.egg-info" / "SOURCES.txt").write_text("a.py\n")
    assert fingerprint(tmp_path, ["code"]) == before


def test_refresh_cache_clears_only_on_change(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("x")
    assert refresh_cache(cache, "aaa")  # no stamp yet: unknown provenance, clear
    assert not cache.exists()
    cache.mkdir()
    assert not refresh_cache(cache, "aaa")
    assert cache.exists()
    assert refresh_cache(cache, "bbb")
    assert (tmp_path / (".jupyter_cache" + STAMP_SUFFIX)).read_text().strip() == "bbb"


CONF = """
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb"{extra}]
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
sgdlab_watch = ["code"]
exclude_patterns = ["_build", "code"]
"""

PAGE = """\
---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
# Page

```{code-cell} ipython3
print("value:", open("code/value.txt").read().strip())
```
"""


def _build(root: Path) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            str(root),
            str(root / "_build/html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return (root / "_build" / "html" / "index.html").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("with_extension", [False, True])
def test_code_change_reaches_the_page(tmp_path, with_extension):
    extra = ', "sgdlab_cache"' if with_extension else ""
    ext = str(Path(__file__).resolve().parents[1] / "_ext")
    (tmp_path / "conf.py").write_text(
        textwrap.dedent(CONF.format(extra=extra, ext=ext))
    )
    (tmp_path / "index.md").write_text(PAGE)
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "value.txt").write_text("first\n")
    assert "value: first" in _build(tmp_path)
    (tmp_path / "code" / "value.txt").write_text("second\n")
    html = _build(tmp_path)
    if with_extension:
        assert "value: second" in html
    else:  # the trap this extension exists for: the cached output survives
        assert "value: first" in html
