"""The code follows one formatter: ``ruff format`` (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_code_tests_and_tools_are_formatted():
    command = [
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--check",
        "code",
        "tests",
        "tools",
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (
        "run `ruff format code tests tools`:\n" + result.stdout + result.stderr
    )
