"""The code stays typed (mypy --strict on the package) and lint-clean (ruff on everything)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "mypy", "fou_review"],
    [sys.executable, "-m", "ruff", "check", "fou_review", "tests", "bench", "scripts"],
], ids=["mypy", "ruff"])
def test_clean(command: list[str], pytestconfig: pytest.Config) -> None:
    root: Path = pytestconfig.rootpath
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
