"""Small builders for course notebooks: plain cells, exercises, tests, manual questions.

Used by build_courses.py. Every graded cell gets nbgrader 0.9.6 metadata (schema 3) and
every exercise its hints under ``learning_studio.hints`` (gentle first, most revealing last).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "version": "3.11", "mimetype": "text/x-python",
                 "file_extension": ".py"}


def _clean(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool,
              points: float | None = None, task: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": task}
    if grade or task:
        meta["points"] = points
    return meta


def md(text: str):
    return new_markdown_cell(_clean(text))


def code(text: str):
    return new_code_cell(_clean(text))


def solution(grade_id: str, text: str, hints: list[str]):
    """A code cell the learner fills in; ``text`` holds ### BEGIN/END SOLUTION markers."""
    assert "### BEGIN SOLUTION" in text and hints, grade_id
    cell = new_code_cell(_clean(text))
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=False, solution=True, locked=False)
    cell.metadata["learning_studio"] = {"hints": hints}
    return cell


def tests(grade_id: str, points: float, visible: str, hidden: str = ""):
    """A locked autograder test cell: visible asserts, then a hidden block."""
    body = _clean(visible)
    if hidden:
        body += "\n\n### BEGIN HIDDEN TESTS\n" + _clean(hidden) + "\n### END HIDDEN TESTS"
    cell = new_code_cell(body)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=False, locked=True,
                                          points=points)
    return cell


def manual_answer(grade_id: str, points: float, model_answer: str):
    """A markdown answer an instructor grades by hand (nbgrader: solution + grade, no tests)."""
    cell = new_markdown_cell(_clean(model_answer))
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=True, locked=False,
                                          points=points)
    return cell


def locked_md(grade_id: str, text: str):
    """Instructions the learner cannot edit (nbgrader read-only cell)."""
    cell = new_markdown_cell(_clean(text))
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=False, solution=False, locked=True)
    return cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    return nb


@dataclass
class Lesson:
    slug: str
    title: str
    cells: list
    files: list[str] = field(default_factory=list)  # relative to the course folder
    try_it: str = ""  # an ungraded practice prompt closing the lesson

    def all_cells(self) -> list:
        if not self.try_it:
            return self.cells
        return [*self.cells, md("## Try it yourself\n\n" + _clean(self.try_it)),
                code("# your experiments here")]


@dataclass
class Assignment:
    slug: str
    title: str
    cells: list
    due_offset_days: int
    max_submissions: int | None = 5
    files: dict[str, str] = field(default_factory=dict)  # name -> content, beside the notebook

    @property
    def points(self) -> float:
        return sum(c.metadata.get("nbgrader", {}).get("points") or 0
                   for c in self.cells if c.metadata.get("nbgrader", {}).get("grade"))


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Stable cell ids keep diffs small when the generator is re-run.
    for i, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = (gid or f"cell-{i:02d}")[:64]
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
