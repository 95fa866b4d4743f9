"""Build nbgrader-format notebooks for the engine tests (our own fixtures, never uploads)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def solution(grade_id: str, source: str, *, points: float | None = None,
             markdown: bool = False):
    meta = {"nbgrader": {"grade_id": grade_id, "solution": True, "grade": points is not None,
                         "locked": False, "schema_version": 3}}
    if points is not None:
        meta["nbgrader"]["points"] = points
    make = new_markdown_cell if markdown else new_code_cell
    return make(source, metadata=meta)


def test(grade_id: str, source: str, points: float, **extra):
    meta = {"nbgrader": {"grade_id": grade_id, "grade": True, "solution": False,
                         "locked": True, "points": points, "schema_version": 3}}
    meta.update(extra)
    return new_code_cell(source, metadata=meta)


def locked(grade_id: str, source: str, markdown: bool = False):
    meta = {"nbgrader": {"grade_id": grade_id, "grade": False, "solution": False,
                         "locked": True, "schema_version": 3}}
    return (new_markdown_cell if markdown else new_code_cell)(source, metadata=meta)


def task(grade_id: str, source: str, points: float):
    meta = {"nbgrader": {"grade_id": grade_id, "task": True, "grade": False, "solution": False,
                         "locked": True, "points": points, "schema_version": 3}}
    return new_markdown_cell(source, metadata=meta)


def notebook(*cells, minor: int = 5):
    nb = new_notebook(cells=list(cells), metadata={"kernelspec": KERNELSPEC})
    nb.nbformat_minor = minor
    return nb


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb))
    return path


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def reference_assignment(dest: Path) -> Path:
    """The reference assignment: two notebooks, a data file, hidden tests, manual cells."""
    p1 = notebook(
        new_markdown_cell("# Squares\nWrite `squares(n)`."),
        locked("setup", "import math\nBASE = 10"),
        solution("squares", "def squares(n):\n    ### BEGIN SOLUTION\n"
                 "    return [i * i for i in range(n)]\n    ### END SOLUTION",
                 ),
        test("test_squares", "assert squares(3) == [0, 1, 4]\nprint('visible ok')", 2),
        test("test_squares_hidden",
             "assert squares(0) == []\n### BEGIN HIDDEN TESTS\n"
             "assert squares(BASE)[-1] == 81\n### END HIDDEN TESTS", 1),
        solution("explain", "Squares grow fast.\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
                 points=2, markdown=True),
    )
    p1.cells[2].metadata["learning_studio"] = {"hints": ["Use a list comprehension."]}
    p2 = notebook(
        new_markdown_cell("# Totals\nRead `data/numbers.csv`."),
        solution("total", "def total(path):\n    ### BEGIN SOLUTION\n"
                 "    with open(path) as f:\n        return sum(int(x) for x in f.read().split())\n"
                 "    ### END SOLUTION"),
        test("test_total", "assert total('data/numbers.csv') == 10", 3),
        test("test_partial", "# partial credit: the cell's value is the score\n"
             "0.5 if total('data/numbers.csv') == 10 else 0.0", 1),
        task("task_plot", "Describe a plot of the data.", 1),
    )
    write(p1, dest / "problem1.ipynb")
    write(p2, dest / "problem2.ipynb")
    (dest / "data").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "numbers.csv").write_text("1 2 3 4\n")
    return dest


def submission_from(student_version: Path, dest: Path, answers: dict[str, dict[str, str]]):
    """Copy the student version and fill solution cells: {notebook: {grade_id: source}}."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(student_version.glob("*.ipynb")):
        nb = read(path)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid and gid in answers.get(path.stem, {}):
                cell.source = answers[path.stem][gid]
        write(nb, dest / path.name)
    for extra in student_version.rglob("*"):
        if extra.is_file() and extra.suffix != ".ipynb":
            target = dest / extra.relative_to(student_version)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(extra.read_bytes())
    return dest


CORRECT = {
    "problem1": {"squares": "def squares(n):\n    return [i * i for i in range(n)]",
                 "explain": "They grow quadratically."},
    "problem2": {"total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())"},
}
WRONG = {
    "problem1": {"squares": "def squares(n):\n    return list(range(n))"},
    "problem2": {"total": "def total(path):\n    return 0"},
}

__all__ = ["json"]
