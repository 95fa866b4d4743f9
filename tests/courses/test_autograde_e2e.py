"""One assignment of each course through stock nbgrader: release, a correct and an incorrect
submission, ``nbgrader autograde``, and the scores in nbgrader's gradebook.

The lead repeats this through the grader service; the expected scores here are the reference.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from courses_testlib import COURSES

from grader.courses.manifest import load_course
from grader.engine.release import student_version

pytestmark = pytest.mark.slow



@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch):
    """nbgrader runs `alembic` (and kernels) from PATH: use this interpreter's environment."""
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def _answer(source_cell) -> str:
    """What a learner who knows the answer types: the solution without nbgrader's markers."""
    return "\n".join(line for line in source_cell.source.splitlines() if not _MARKER.match(line))


def _nbgrader(course_root: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"


def _setup(tmp_path: Path, slug: str, assignment: str) -> Path:
    root = tmp_path / "nbgrader-course"
    shutil.copytree(COURSES / slug / "source" / assignment, root / "source" / assignment)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {slug!r}\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n"
        "c.Execute.timeout = 120\n"
    )
    _nbgrader(root, "generate_assignment", assignment, "--force")
    return root


def _submit(root: Path, assignment: str, student: str, answers: dict[str, str]) -> None:
    """Copy the released notebook as ``student`` and fill in their answers by grade id."""
    release = root / "release" / assignment
    submitted = root / "submitted" / student / assignment
    shutil.copytree(release, submitted)
    path = submitted / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(nb, path)
    (submitted / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")


def _scores(root: Path, assignment: str, student: str) -> tuple[float, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        submission = gb.find_submission(assignment, student)
        per_cell = {
            grade.name: grade.score
            for nb in submission.notebooks
            for grade in nb.grades
            if grade.auto_score is not None
        }
        return submission.score, per_cell


def _solution_answers(slug: str, assignment: str) -> dict[str, str]:
    course = load_course(COURSES / slug)
    nb = nbformat.read(course.source_notebooks(assignment)[0], as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: _answer(cell)
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    }


def test_python_foundations_ps03_graded_by_stock_nbgrader(tmp_path):
    slug, assignment = "python-foundations", "ps03-conditionals-and-functions"
    root = _setup(tmp_path, slug, assignment)
    # The validator's student version is the one stock nbgrader releases.
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    released = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    assert [c.source for c in student_version(source)[0].cells] == [
        c.source for c in released.cells
    ]
    assert "is_leap_year(1900)" not in json.dumps(released), "hidden tests must not ship"

    correct = _solution_answers(slug, assignment)
    _submit(root, assignment, "correct", correct)
    _submit(root, assignment, "incorrect", {
        "letter-grade": correct["letter-grade"],
        # Passes the visible tests, fails the hidden century rule: no points for the cell.
        "leap-year": "def is_leap_year(year):\n    return year % 4 == 0",
        # fizzbuzz left as released (raise NotImplementedError).
    })
    _nbgrader(root, "autograde", assignment, "--force")

    total, cells = _scores(root, assignment, "correct")
    assert total == 10 and load_course(COURSES / slug).assignment(assignment).points == 10
    assert cells == {"letter-grade-tests": 3, "leap-year-tests": 3, "fizzbuzz-tests": 4}

    total, cells = _scores(root, assignment, "incorrect")
    assert cells == {"letter-grade-tests": 3, "leap-year-tests": 0, "fizzbuzz-tests": 0}
    assert total == 3


def test_data_analysis_pa03_plot_graded_by_its_data(tmp_path):
    slug, assignment = "data-analysis-pandas", "pa03-weather-plots"
    root = _setup(tmp_path, slug, assignment)
    correct = _solution_answers(slug, assignment)
    _submit(root, assignment, "correct", correct)
    _submit(root, assignment, "incorrect", {
        # Looks like a rain chart but plots temperature: the bar data gives it away.
        "plot-rain": correct["plot-rain"].replace('rows["rain_mm"]', 'rows["temp_c"]'),
        "plot-temperatures": correct["plot-temperatures"],
        "wettest-month": "def wettest_month(weather, city):\n    return 'Jan'",
    })
    _nbgrader(root, "autograde", assignment, "--force")

    total, cells = _scores(root, assignment, "correct")
    assert cells == {"plot-rain-tests": 4, "plot-temperatures-tests": 4, "wettest-month-tests": 2}
    assert total == load_course(COURSES / slug).assignment(assignment).points == 10

    total, cells = _scores(root, assignment, "incorrect")
    assert cells == {"plot-rain-tests": 0, "plot-temperatures-tests": 4, "wettest-month-tests": 0}
    assert total == 4
