"""What grading a submission produces: a score per test cell, per notebook, in total.

Scores follow nbgrader's Grade model (manual score over auto score; a cell never scored
waits for a human). Late penalties are not here: the service applies them
(grader.engine.late) when it stores a result, as nbgrader's AssignLatePenalties does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellGrade:
    max_score: float
    auto_score: float | None = None
    needs_manual_grade: bool = True  # nbgrader's Grade default: a cell never scored waits
    manual_score: float | None = None
    comment: str | None = None
    failed: bool = False

    @property
    def score(self) -> float | None:
        if self.manual_score is not None:
            return self.manual_score
        if self.needs_manual_grade:
            return None
        return self.auto_score

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "needs_manual_grade": self.needs_manual_grade,
        }


@dataclass
class NotebookGrade:
    """One notebook's grades. What a learner may see of it: the scores, ``messages``,
    ``feedback_html`` and ``learner_notebook`` (the learner view, grader.engine.redact).
    ``graded_notebook`` is the executed notebook with hidden tests and every output: for
    instructors only."""

    name: str
    cells: dict[str, CellGrade]
    messages: list[str] = field(default_factory=list)
    feedback_html: str = ""
    graded_notebook: dict[str, Any] | None = None
    learner_notebook: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def score(self) -> float:
        # nbgrader's Grade.score: manual if set, else auto, else 0
        total = 0.0
        for c in self.cells.values():
            if c.manual_score is not None:
                total += c.manual_score
            elif c.auto_score is not None:
                total += c.auto_score
        return total

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells.values())

    @property
    def needs_manual_grade(self) -> bool:
        return any(c.needs_manual_grade for c in self.cells.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "cells": {g: c.to_json() for g, c in self.cells.items()},
        }


REVIEW_MESSAGE = "Sent to your instructor for review."


@dataclass
class GradeResult:
    notebooks: dict[str, NotebookGrade]
    messages: list[str] = field(default_factory=list)
    # seconds: waiting for a sandbox, running the notebooks, total (benchmarks, logs)
    timings: dict[str, float] = field(default_factory=dict)
    # Why this submission gets no automatic points and waits for its instructor: a kernel
    # reported a test as passed that did not run to its end (grader.engine.kernel_guard).
    review_reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(nb.score for nb in self.notebooks.values())

    def send_to_review(self, reasons: list[str]) -> None:
        """No automatic points: every graded cell waits for the instructor."""
        self.review_reasons.extend(reasons)
        for nb in self.notebooks.values():
            for cell in nb.cells.values():
                cell.auto_score = None
                cell.needs_manual_grade = True
        if REVIEW_MESSAGE not in self.messages:
            self.messages.insert(0, REVIEW_MESSAGE)

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks.values())

    @property
    def needs_manual_grade(self) -> bool:
        return any(nb.needs_manual_grade for nb in self.notebooks.values())

    def to_json(self) -> dict[str, Any]:
        """The CLI contract (``python -m grader autograde ... --json``).

        A learner may read it (a course's CI grading their own work), so it holds numbers
        only: anything text added here must come from the learner view
        (grader.engine.redact), never from ``graded_notebook``. A submission sent to review
        has a null score and says why (``review_reason``: the grader's words, naming test
        cells and points, nothing of their code)."""
        out: dict[str, Any] = {
            "score": None if self.review_reasons else self.score,
            "max_score": self.max_score,
            "needs_manual_grade": self.needs_manual_grade,
            "notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()},
        }
        if self.review_reasons:
            out["review_reason"] = "; ".join(self.review_reasons)
        return out


