"""Notebook code is linted: `nbqa ruff courses/` (ruff on every code cell) finds nothing.

The rules are the project's ruff config (root pyproject.toml) with courses/ruff.toml's
allowances for teaching code and [tool.nbqa.addopts]'s for nbqa's one-script view of a
notebook; the tests on a copy in tmp_path show that this config still finds real faults.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from courses_testlib import REPO


def _nbqa_ruff(cwd: Path, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbqa", "ruff", *paths, "--output-format", "concise"],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def test_course_notebooks_are_clean():
    result = _nbqa_ruff(REPO, "courses/")
    assert result.returncode == 0, (
        "nbqa ruff courses/ found problems; fix them in the notebooks (JupyterLab, or "
        "`nbqa ruff courses/ --fix` for the safe ones):\n" + result.stdout + result.stderr
    )


def _notebook(path: Path, *cells: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                    "display_name": "Python 3 (ipykernel)"}},
        "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [],
                   "execution_count": None, "source": s} for i, s in enumerate(cells)],
    }))


def _project_copy(tmp_path: Path) -> Path:
    """The repo's lint config, in a folder laid out like the repo."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "courses").mkdir()
    shutil.copy(REPO / "courses" / "ruff.toml", tmp_path / "courses" / "ruff.toml")
    return tmp_path


def test_teaching_code_and_magics_pass(tmp_path):
    """What notebooks do on purpose: display a cell's last value, import where a lesson
    introduces a module, show type(42), and use IPython magics and shell commands."""
    root = _project_copy(tmp_path)
    _notebook(root / "courses/demo/lessons/01-intro.ipynb",
              "%matplotlib inline\nx = [3, 1, 2]\nsorted(x)",
              "type(42), type(3.5)",
              "!echo hello\nfrom pathlib import Path\n\nPath('.').exists()")
    result = _nbqa_ruff(root, "courses/")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_finding_fails(tmp_path):
    root = _project_copy(tmp_path)
    _notebook(root / "courses/demo/source/ps1/ps1.ipynb",
              "import os\n\n%timeit sum(range(10))",
              "def area(w, h):\n    ### BEGIN SOLUTION\n    return w * hh\n    ### END SOLUTION")
    result = _nbqa_ruff(root, "courses/")
    assert result.returncode != 0
    findings = [line for line in result.stdout.splitlines() if "ps1.ipynb:cell_" in line]
    assert any("cell_1:" in f and "F401" in f for f in findings), result.stdout + result.stderr
    assert any("cell_2:" in f and "F821" in f and "hh" in f for f in findings), result.stdout
