"""The committed notebooks are the course's source: each shipped course keeps the rules of
course_sources.py, and a copy broken in each way is caught with a message that says where.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from course_sources import course_problems, notebook_problems
from courses_testlib import COURSES, course_dirs

NOTEBOOKS = sorted(p for p in COURSES.glob("*/*/**/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(COURSES)))
def test_notebook_is_a_clean_source(path):
    assert notebook_problems(path, graded=path.parts[-3] == "source") == []


@pytest.mark.parametrize("folder", course_dirs(), ids=lambda p: p.name)
def test_course_names_exactly_its_notebooks_and_data(folder):
    assert course_problems(folder) == []


def test_every_shipped_notebook_is_checked():
    """The rules above saw every lesson and assignment (a glob that finds nothing passes)."""
    lessons = [p for p in NOTEBOOKS if p.parts[-2] == "lessons"]
    sources = [p for p in NOTEBOOKS if p.parts[-3] == "source"]
    assert len(lessons) >= 15 and len(sources) >= 12 and len(NOTEBOOKS) == len(lessons) + len(
        sources)


# ------------------------------------------------------------- broken on purpose

PF = "python-foundations"
DA = "data-analysis-pandas"
LESSON = "lessons/01-values-and-types.ipynb"
PS03 = "source/ps03-conditionals-and-functions/ps03-conditionals-and-functions.ipynb"
PS06 = "source/ps06-files/ps06-files.ipynb"
PA01 = "source/pa01-numpy-steps/pa01-numpy-steps.ipynb"


@pytest.fixture
def copy_of(tmp_path) -> Callable[[str], Path]:
    def make(slug: str) -> Path:
        return Path(shutil.copytree(COURSES / slug, tmp_path / slug))

    return make


def _edit_notebook(rel: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / rel
        nb = json.loads(path.read_text())
        change(nb)
        path.write_text(json.dumps(nb, indent=1))

    return edit


def _edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        data = yaml.safe_load((root / "course.yml").read_text())
        change(data)
        (root / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False))

    return edit


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                == grade_id)


def _code(nb: dict, index: int = 0) -> dict:
    return [c for c in nb["cells"] if c["cell_type"] == "code"][index]


def _set(cell: dict, key: str, value) -> None:
    cell["metadata"]["nbgrader"][key] = value


def _source_replace(cell: dict, old: str, new: str) -> None:
    text = "".join(cell["source"])
    assert old in text, old
    cell["source"] = text.replace(old, new)


BREAKAGES = {
    "not-nbformat": (PF, _edit_notebook(LESSON, lambda nb: nb["cells"][0].update(
        cell_type="prose")), "not valid nbformat 4"),
    "old-nbformat-without-ids": (PF, _edit_notebook(LESSON, lambda nb: (
        nb.update(nbformat_minor=4), [c.pop("id") for c in nb["cells"]])), "nbformat 4.4"),
    "saved-output": (PF, _edit_notebook(LESSON, lambda nb: _code(nb).update(outputs=[
        {"output_type": "stream", "name": "stdout", "text": "3\n"}])), "has saved outputs"),
    "execution-count": (PF, _edit_notebook(LESSON, lambda nb: _code(nb).update(
        execution_count=4)), "has an execution count"),
    "duplicate-cell-id": (PF, _edit_notebook(LESSON, lambda nb: nb["cells"][2].update(
        id=nb["cells"][1]["id"])), "cell ids must be unique"),
    "other-kernel": (PF, _edit_notebook(LESSON, lambda nb: nb["metadata"].update(
        kernelspec={"name": "ir", "language": "R", "display_name": "R"})), "kernelspec is"),
    "no-kernelspec": (PF, _edit_notebook(LESSON, lambda nb: nb["metadata"].pop("kernelspec")),
                      "kernelspec is missing"),
    "grading-in-a-lesson": (PF, _edit_notebook(LESSON, lambda nb: _code(nb)["metadata"].update(
        nbgrader={"grade": True, "grade_id": "x", "locked": True, "points": 1,
                  "schema_version": 3, "solution": False, "task": False})),
        "lessons are plain notebooks"),
    "lesson-without-try-it": (PF, _edit_notebook(LESSON, lambda nb: nb["cells"].pop(-2)),
                              "Try it yourself"),
    "duplicate-grade-id": (PF, _edit_notebook(PS03, lambda nb: _set(
        _cell(nb, "fizzbuzz-tests"), "grade_id", "leap-year-tests")),
        "grade_id 'leap-year-tests' is also cell"),
    "points-on-a-solution": (PF, _edit_notebook(PS03, lambda nb: _set(
        _cell(nb, "leap-year"), "points", 2)), "points 2 on a cell that is not graded"),
    "test-without-points": (PF, _edit_notebook(PS03, lambda nb: _cell(
        nb, "leap-year-tests")["metadata"]["nbgrader"].pop("points")), "needs points > 0"),
    "zero-points": (PF, _edit_notebook(PS03, lambda nb: _set(
        _cell(nb, "leap-year-tests"), "points", 0)), "needs points > 0, it has 0"),
    "schema-version": (PF, _edit_notebook(PS03, lambda nb: _set(
        _cell(nb, "leap-year"), "schema_version", 2)), "schema_version 2"),
    "missing-required-key": (PF, _edit_notebook(PS03, lambda nb: _cell(
        nb, "leap-year")["metadata"]["nbgrader"].pop("locked")), "lacks locked"),
    "solution-without-markers": (PF, _edit_notebook(PS03, lambda nb: _cell(
        nb, "leap-year").update(source="def is_leap(year):\n    return year % 4 == 0\n")),
        "needs '### BEGIN SOLUTION'"),
    "solution-never-closed": (PF, _edit_notebook(PS03, lambda nb: _source_replace(
        _cell(nb, "leap-year"), "### END SOLUTION", "")), "is never closed"),
    "misspelt-marker": (PF, _edit_notebook(PS03, lambda nb: _source_replace(
        _cell(nb, "leap-year"), "### END SOLUTION", "### End Solution")),
        "misspelt; nbgrader would ship it to learners (write 'END SOLUTION')"),
    "solution-in-a-test-cell": (PF, _edit_notebook(PS03, lambda nb: _source_replace(
        _cell(nb, "leap-year-tests"), "### BEGIN HIDDEN TESTS",
        "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### BEGIN HIDDEN TESTS")),
        "outside a solution cell"),
    "hidden-tests-never-closed": (PF, _edit_notebook(PS03, lambda nb: _source_replace(
        _cell(nb, "leap-year-tests"), "### END HIDDEN TESTS", "")),
        "'BEGIN HIDDEN TESTS' is never closed"),
    "hidden-tests-in-a-plain-cell": (PF, _edit_notebook(PS03, lambda nb: _cell(
        nb, "leap-year-tests")["metadata"].pop("nbgrader")), "outside an autograded test cell"),
    "unlocked-test": (PF, _edit_notebook(PS03, lambda nb: _set(
        _cell(nb, "leap-year-tests"), "locked", False)), "must be a locked code cell"),
    "exercise-without-hints": (PF, _edit_notebook(PS03, lambda nb: _cell(
        nb, "leap-year")["metadata"].pop("learning_studio")), "needs metadata.learning_studio"),
    "nothing-graded": (PF, _edit_notebook(PS03, lambda nb: [
        c["metadata"].pop("nbgrader", None) for c in nb["cells"]
        if not c["metadata"].get("nbgrader", {}).get("solution")]), "no graded cell"),
    "data-file-missing": (DA, lambda root: (root / "source/pa01-numpy-steps/steps.csv").unlink(),
                          "reads steps.csv, which does not exist beside it"),
    "lesson-data-missing": (DA, lambda root: (root / "lessons/data/weather.csv").unlink(),
                            "reads data/weather.csv, which does not exist"),
    "data-file-not-listed": (PF, _edit_manifest(lambda m: m["assignments"][5].update(
        files=["poem.txt"])), "readings.txt: not listed in the assignment's files"),
    "lesson-data-not-listed": (DA, _edit_manifest(lambda m: m["lessons"][1].pop("files")),
                               "course.yml does not list in its files (lessons/data/weather.csv)"),
    "absolute-path": (DA, _edit_notebook(PA01, lambda nb: [_source_replace(
        c, '"steps.csv"', '"/home/ada/steps.csv"') for c in nb["cells"]
        if '"steps.csv"' in "".join(c["source"])]), "outside its folder"),
    "stray-output-file": (PF, lambda root: (root / "source/ps06-files/_report_test.txt")
                          .write_text("a: 4.00\n"), "_report_test.txt: not listed"),
    "lesson-not-in-manifest": (PF, lambda root: shutil.copy(
        root / LESSON, root / "lessons/11-extra.ipynb"), "lessons/11-extra.ipynb: a lesson "
        "notebook that course.yml does not list"),
    "manifest-lesson-missing": (PF, lambda root: (root / LESSON).unlink(),
                                f"lesson {LESSON} does not exist"),
    "assignment-not-in-manifest": (PF, _edit_manifest(lambda m: m["assignments"].pop()),
                                   "source/ps09-testing/: an assignment folder that course.yml"),
    "manifest-assignment-missing": (PF, lambda root: shutil.rmtree(root / "source/ps09-testing"),
                                    "assignment ps09-testing has no folder"),
    "empty-assignment-folder": (PF, lambda root: (root / PS06).rename(
        root / "source/ps06-files.ipynb"), "source/ps06-files/: no notebook"),
    "notebook-outside-lessons-and-source": (PF, lambda root: shutil.copy(
        root / LESSON, root / "notes.ipynb"), "notes.ipynb: a notebook that is neither"),
    "points-differ-from-manifest": (PF, _edit_manifest(lambda m: m["assignments"][2].update(
        points=12)), "has points 12 but its notebooks' points add up to 10"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_broken_copy_is_caught(name, copy_of):
    slug, breakage, expected = BREAKAGES[name]
    root = copy_of(slug)
    assert course_problems(root) == [], "the copy must be clean before it is broken"
    breakage(root)
    problems = course_problems(root)
    assert any(expected in p for p in problems), "\n".join(problems) or "no problem found"


def test_checkpoints_and_caches_are_not_content(copy_of):
    """JupyterLab's autosave folder and Python's caches beside a notebook are not shipped."""
    root = copy_of(PF)
    for folder in (root / "lessons", root / "source/ps06-files"):
        (folder / ".ipynb_checkpoints").mkdir()
        shutil.copy(root / LESSON, folder / ".ipynb_checkpoints/x-checkpoint.ipynb")
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__/x.pyc").write_bytes(b"")
    assert course_problems(root) == []


def test_a_notebook_that_writes_its_own_file_needs_no_data_file(tmp_path):
    """Files made by open(..., "w") or a write*/save*/to_* call are not data to ship."""
    from course_sources import data_files_read

    cells = ['with open("notes.txt", "w") as f:\n    f.write("x")',
             'df.to_csv("out.csv")', 'write_report(data, "report.txt")',
             '%matplotlib inline\nimport pandas as pd\npd.read_csv("in.csv")',
             'open("notes.txt").read()', 'print(f"see {name}.csv")']
    nb = {"cells": [{"cell_type": "code", "source": s, "metadata": {}} for s in cells]}
    assert data_files_read(nb) == {"in.csv"}
