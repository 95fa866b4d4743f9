"""The shipped courses validate, and they contain what the curriculum promises."""

from __future__ import annotations

import re

import nbformat
import pytest
from courses_testlib import COURSES, course_dirs

from grader.courses.manifest import load_course
from grader.courses.validate import validate_course


@pytest.mark.docker
@pytest.mark.parametrize("folder", course_dirs(), ids=lambda p: p.name)
def test_every_course_validates(folder, sandbox_runner):
    """What CI relies on: manifest, metadata, solutions pass, student versions fail, every
    notebook run in a sandbox of the learner image (as `course validate` does by default)."""
    before = sandbox_runner.notebooks_run
    report = validate_course(folder, jobs=2, runner=sandbox_runner)
    assert report.ok, "\n" + report.summary()
    course = load_course(folder)
    notebooks = len(course.lessons) + 2 * len(course.assignments)
    assert f"executed {notebooks} notebook(s) {sandbox_runner.where}" in report.checked, (
        report.checked
    )
    assert sandbox_runner.notebooks_run - before == notebooks


def test_both_starter_courses_are_shipped():
    assert {p.name for p in course_dirs()} >= {"python-foundations", "data-analysis-pandas"}


def _graded_cells(course, assignment):
    for path in course.source_notebooks(assignment):
        nb = nbformat.read(path, as_version=4)
        yield from nb.cells


def test_python_foundations_curriculum():
    course = load_course(COURSES / "python-foundations")
    assert len(course.lessons) >= 10
    titles = " ".join(lesson.title.lower() for lesson in course.lessons)
    for topic in ["values and types", "strings", "lists and loops", "conditionals",
                  "functions", "dictionaries", "files", "errors and exceptions", "classes",
                  "testing your own code"]:
        assert topic in titles, f"no lesson on {topic}"
    assert len(course.assignments) >= 8
    manual = 0
    for assignment in course.assignments:
        cells = list(_graded_cells(course, assignment))
        tests = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")
                 and not c.metadata["nbgrader"].get("solution")]
        assert tests, f"{assignment.slug} has no autograded tests"
        assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests), (
            f"{assignment.slug}: every test cell should have hidden tests too"
        )
        for cell in cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code":
                hints = cell.metadata.get("learning_studio", {}).get("hints", [])
                assert len(hints) >= 2, f"{assignment.slug}/{meta['grade_id']} needs hints"
            if meta.get("solution") and meta.get("grade"):
                manual += 1
    assert manual >= 1, "python-foundations needs a manually graded question"


def test_data_analysis_curriculum():
    course = load_course(COURSES / "data-analysis-pandas")
    assert len(course.lessons) >= 5 and len(course.assignments) >= 3
    sources = {a.slug: "\n".join(c.source for c in _graded_cells(course, a))
               for a in course.assignments}
    everything = "\n".join(sources.values())
    for library in ("numpy", "pandas", "matplotlib"):
        assert f"import {library}" in everything
    for assignment in course.assignments:
        assert assignment.files, f"{assignment.slug} ships no data set"
        for rel in assignment.files:
            assert (course.assignment_dir(assignment) / rel).stat().st_size > 100
    # Plots are graded by their data through matplotlib's API, never by pixels.
    assert re.search(r"get_height\(\)|get_ydata\(\)", everything)
    assert "png" not in everything.lower()
