"""mypy, configured in pyproject's [tool.mypy], passes on the package (strict on the decoding
layer, the engines, the guards, the outputs and the registry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pipeline

ROOT = Path(pipeline.__file__).resolve().parents[1]  # the checkout, wherever this file is


@pytest.mark.slow  # a cold mypy run over the package takes about half a minute
def test_mypy_passes_on_the_package(tmp_path: Path) -> None:
    # A fresh cache outside the checkout: the run is the same on every machine, and the
    # tree stays clean.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
