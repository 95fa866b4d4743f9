"""The release check: the solution passes its own tests, the unanswered student version fails.

One rule, used by the grader service before it publishes a release (on the results of
autograding both versions in a sandbox, exactly as a learner's submission is graded) and by
``grader course validate`` (on notebooks run by grader.engine.runner). A test that the
student version already passes gives points for no work; a test the solution fails gives
no one full marks. Manually graded cells are left to the human.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils as nbutils

from grader.engine.autograde import autograde_async
from grader.engine.release import ReleaseBuild, ReleaseNotebook, write_files
from grader.engine.results import GradeResult

#: notebook name -> grade_id -> (score, max_score); score None: not scored automatically
CellScores = Mapping[str, Mapping[str, tuple[float | None, float]]]


@dataclass
class ReleaseCheck:
    """Whether the tests of a release discriminate: source passes, student version fails."""

    ok: bool
    non_discriminating: list[str]
    failing_in_source: list[str]
    messages: list[str]
    source_result: Any = None
    student_result: Any = None
    #: "notebook/grade_id" -> the message about it, for callers that label cells their way
    by_cell: dict[str, str] = field(default_factory=dict)


def is_autograder_test(cell: NotebookNode) -> bool:
    """A code cell with points and no solution: what the check judges."""
    return cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell)


def judge_release(
    notebooks: Mapping[str, ReleaseNotebook],
    source: CellScores,
    student: CellScores,
    source_result: Any = None,
    student_result: Any = None,
) -> ReleaseCheck:
    """Apply the rule to the scores of each autograder test in both versions."""
    non_disc: list[str] = []
    failing: list[str] = []
    by_cell: dict[str, str] = {}
    for name, nb in notebooks.items():
        for grade_id in nb.grade_ids:
            cell = nb.cells[grade_id]
            if cell.solution or cell.cell_type != "code":
                continue  # manually graded: nothing to discriminate automatically
            key = f"{name}/{grade_id}"
            src_score, src_max = source.get(name, {}).get(grade_id, (None, cell.points or 0.0))
            stu_score, stu_max = student.get(name, {}).get(grade_id, (None, cell.points or 0.0))
            if src_score != src_max:
                failing.append(key)
                by_cell[key] = (
                    f"the solution scores {src_score} of {src_max:g} on this test; the "
                    "solution must pass its own tests"
                )
            if stu_score is not None and stu_score > 0:
                non_disc.append(key)
                by_cell[key] = (
                    f"the unanswered student version already scores {stu_score:g} of "
                    f"{stu_max:g}: this test does not tell a solution from none"
                )
    messages = [f"{key}: {text}" for key, text in by_cell.items()]
    return ReleaseCheck(
        ok=not non_disc and not failing,
        non_discriminating=non_disc,
        failing_in_source=failing,
        messages=messages,
        source_result=source_result,
        student_result=student_result,
        by_cell=by_cell,
    )


def scores_of_result(result: GradeResult) -> dict[str, dict[str, tuple[float | None, float]]]:
    """Per-cell scores of an autograde result."""
    return {
        name: {g: (c.score, c.max_score) for g, c in nb.cells.items()}
        for name, nb in result.notebooks.items()
    }


def scores_of_executed(nb: NotebookNode) -> dict[str, tuple[float | None, float]]:
    """Per-cell scores of an executed notebook, by nbgrader's own determine_grade."""
    scores = {}
    for cell in nb.cells:
        if is_autograder_test(cell):
            scores[cell.metadata["nbgrader"]["grade_id"]] = nbutils.determine_grade(cell)
    return scores


async def check_release_async(
    build: ReleaseBuild, pool: Any = None, config: Any = None
) -> ReleaseCheck:
    """Autograde the source and the student version in sandboxes, then judge."""
    results: dict[str, GradeResult] = {}
    with tempfile.TemporaryDirectory(prefix="ls-release-check-") as tmp:
        for version, files in (("source", build.source_files()),
                               ("student", build.student_files())):
            folder = Path(tmp) / version
            write_files(folder, files)
            results[version] = await autograde_async(build, folder, pool, config=config)
    return judge_release(
        build.notebooks,
        scores_of_result(results["source"]),
        scores_of_result(results["student"]),
        results["source"],
        results["student"],
    )


def check_release(build: ReleaseBuild, pool: Any = None, config: Any = None) -> ReleaseCheck:
    """Blocking form of check_release_async."""
    return asyncio.run(check_release_async(build, pool, config))
