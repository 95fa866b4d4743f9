"""Build an nbgrader source notebook from an AI-drafted exercise."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .client import AIDraftingError

EXERCISE_SYSTEM = (
    "You write programming exercises for Jupyter notebooks graded by nbgrader. Answer with "
    "one JSON object only, with keys: title (string), instructions (markdown string), "
    "starter_code (string, may be empty), solution_code (Python, complete, correct), "
    "tests (list of objects {code: Python assert statements that pass with the solution, "
    "points: positive integer}), hints (list of short strings, gentlest first)."
)


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def build_exercise_notebook(data: dict, slug: str) -> nbformat.NotebookNode:
    """Turn the AI's JSON into a source notebook; raise AIDraftingError if it is unusable."""
    try:
        title = str(data["title"]).strip()
        instructions = str(data["instructions"]).strip()
        solution = str(data["solution_code"]).rstrip()
        tests = list(data["tests"])
    except (KeyError, TypeError) as error:
        raise AIDraftingError(
            f"The AI exercise is missing {error}; nothing was saved. Try again."
        ) from error
    hints = [str(h) for h in data.get("hints", []) if str(h).strip()]
    starter = str(data.get("starter_code", "")).rstrip()
    if not title or not solution or not tests:
        raise AIDraftingError("The AI exercise has no title, solution or tests; nothing was saved.")
    if starter:
        # Shown, not prepended: nbgrader replaces the whole solution region with
        # "# YOUR CODE HERE", so a starter header above it would leave invalid Python.
        instructions += f"\n\nStart from:\n\n```python\n{starter}\n```"
    cells = [
        new_markdown_cell(
            f"# {title}\n\n{instructions}",
            metadata={"nbgrader": _nbgrader(f"{slug}-instructions", solution=False,
                                            grade=False, locked=True)},
        )
    ]
    cells.append(new_code_cell(
        "### BEGIN SOLUTION\n" + solution + "\n### END SOLUTION",
        metadata={
            "nbgrader": _nbgrader(f"{slug}-solution", solution=True, grade=False, locked=False),
            "learning_studio": {"hints": hints},
        },
    ))
    for n, test in enumerate(tests, start=1):
        if not isinstance(test, dict) or not str(test.get("code", "")).strip():
            raise AIDraftingError(f"AI test {n} has no code; nothing was saved.")
        try:
            points = float(test.get("points", 1))
        except (TypeError, ValueError):
            points = 1.0
        if points <= 0:
            points = 1.0
        cells.append(new_code_cell(
            str(test["code"]).rstrip(),
            metadata={"nbgrader": _nbgrader(f"{slug}-test-{n}", solution=False, grade=True,
                                            locked=True, points=points)},
        ))
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return notebook
