"""Results: grades the worker stores, manual grades and feedback instructors add, and
the grade events each change sends the site (queued in the same transaction)."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.engine.late import seconds_late
from grader.engine.redact import HiddenSource
from grader.service.errors import Conflict, Forbidden, InvalidRequest, NotFound
from grader.service.orm import Grade, Submission, SubmissionResult, WebhookDelivery, utcnow
from grader.service.parts import GradebookPart
from grader.service.permissions import Person
from grader.service.records import submission_json, totals
from studio_contracts.events import validate_grade_event

log = logging.getLogger("grader")

# set_manual_score: leave the score as it is (only the comment changes)
UNCHANGED = object()



class Results(GradebookPart):
    """Store grading results and instructors' changes to them."""

    def store(self, s: Session, submission: Submission, result, feedback: dict[str, str]):
        """Replace the submission's grades with a new result, keeping manual scores."""
        manual = {
            (g.notebook, g.cell_id): (g.manual_score, g.comment, g.graded_by)
            for g in submission.grades
        }
        for g in list(submission.grades):
            s.delete(g)
        s.flush()
        data = result.to_json()
        for nb_name, nb in data["notebooks"].items():
            for cell_id, cell in nb["cells"].items():
                manual_score, comment, graded_by = manual.get((nb_name, cell_id), (None, "", ""))
                auto = result.notebooks[nb_name].cells[cell_id]
                s.add(
                    Grade(
                        submission_id=submission.id,
                        notebook=nb_name,
                        cell_id=cell_id,
                        auto_score=auto.auto_score,
                        manual_score=manual_score,
                        max_score=cell["max_score"],
                        needs_manual_grade=bool(cell["needs_manual_grade"])
                        and manual_score is None,
                        comment=comment or (auto.comment or ""),
                        graded_by=graded_by,
                    )
                )
        messages = list(result.messages)
        for name, nb in result.notebooks.items():
            messages += [f"{name}: {m}" for m in nb.messages]
        feedback_blobs = {name: self.blobs.put(html.encode()) for name, html in feedback.items()}
        graded_blobs = {
            name: self.blobs.put(json.dumps(nb.graded_notebook).encode())
            for name, nb in result.notebooks.items()
            if getattr(nb, "graded_notebook", None)
        }
        late = seconds_late(submission.submitted_at, submission.release.due_at)
        if submission.result is None:
            submission.result = SubmissionResult(submission_id=submission.id)
        res = submission.result
        review = "; ".join(getattr(result, "review_reasons", None) or [])
        # Sent to review: no automatic points, every cell waits for the instructor.
        res.auto_score = 0.0 if review else float(data["score"])
        res.max_score = float(data["max_score"])
        res.needs_manual_grade = bool(review) or bool(data["needs_manual_grade"])
        res.review_reason = review
        res.seconds_late = late
        res.message = "\n".join(messages)
        res.feedback = feedback_blobs
        res.graded_notebooks = graded_blobs
        res.graded_at = utcnow()
        s.flush()
        s.expire(submission, ["grades"])
        scores = totals(submission, res)
        res.late_penalty = scores["late_penalty"]
        self.emit(s, "submission.graded", submission_json(s, submission, instructor=True))

    def set_manual_score(
        self,
        person: Person,
        submission_id: int,
        notebook: str,
        cell_id: str,
        score=UNCHANGED,
        comment: str | None = None,
    ) -> dict:
        with self.sessions.begin() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise NotFound(f"submission {submission_id} does not exist")
            self.permissions.require(s, person, sub.assignment.course.slug, "instructor")
            grade = s.scalar(
                select(Grade).where(
                    Grade.submission_id == sub.id,
                    Grade.notebook == notebook,
                    Grade.cell_id == cell_id,
                )
            )
            if grade is None:
                raise NotFound(
                    f"submission {submission_id} has no graded cell {notebook}/{cell_id} "
                    "(is it graded yet?)"
                )
            if score is not UNCHANGED:
                if score is not None:
                    score = float(score)
                    if not 0 <= score <= grade.max_score:
                        raise InvalidRequest(
                            f"score {score} is outside 0..{grade.max_score} for "
                            f"{notebook}/{cell_id}"
                        )
                grade.manual_score = score
                # nbgrader's formgrader rule: waits for a person only while nothing scored it
                grade.needs_manual_grade = score is None and grade.auto_score is None
            if comment is not None:
                grade.comment = str(comment)
            grade.graded_by = person.name
            s.flush()
            s.refresh(sub)
            out = submission_json(s, sub, instructor=True, cells=True)
            self.emit(s, "grade.updated", out)
            return out

    def release_feedback(
        self, person: Person, submission_id: int, notebook: str, html: str
    ) -> dict:
        """Instructor: replace a graded submission's feedback for one notebook with HTML they
        made themselves (nbgrader's generate_feedback + release_feedback)."""
        if not notebook or "/" in notebook or notebook.endswith(".ipynb"):
            raise InvalidRequest(f"give the notebook's name without .ipynb, not {notebook!r}")
        with self.sessions.begin() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise NotFound(f"submission {submission_id} does not exist")
            self.permissions.require(s, person, sub.assignment.course.slug, "instructor")
            if notebook not in sub.release.notebooks:
                raise NotFound(
                    f"{notebook!r} is not a notebook of {sub.assignment.course.slug}/"
                    f"{sub.assignment.slug} (its notebooks: {', '.join(sub.release.notebooks)})"
                )
            if sub.result is None:
                raise Conflict(
                    f"submission {submission_id} is not graded yet: release feedback once the "
                    "grader has graded it (or regrade it)"
                )
            # Defence in depth: an instructor's own feedback (nbgrader generate_feedback)
            # may quote hidden tests; their lines are taken out as in the grader's feedback.
            html = HiddenSource.of(self.book.releases.load_build(sub.release)).scrub_html(html)
            # a new dict: the JSON column notices assignment, not in-place changes
            sub.result.feedback = {**sub.result.feedback,
                                   notebook: self.blobs.put(html.encode())}
            log.info("feedback for submission %d released (%s)", submission_id, notebook,
                     extra={"user": person.name, "course": sub.assignment.course.slug,
                            "assignment": sub.assignment.slug})
            return {"submission": submission_id, "notebook": notebook, "released": True}

    def graded_notebook(self, person: Person, submission_id: int, notebook: str) -> bytes:
        """The executed notebook with the release's tests, hidden ones included: instructors only."""
        with self.sessions() as s:
            sub, instructor = self.permissions.visible_submission(s, person, submission_id)
            if not instructor:
                raise Forbidden(
                    "the graded notebook holds the hidden tests: only instructors see it; "
                    "your feedback is at .../feedback/<notebook>"
                )
            if sub.result is None or notebook not in (sub.result.graded_notebooks or {}):
                raise NotFound(f"no graded notebook {notebook!r} for submission {submission_id}")
            return self.blobs.get(sub.result.graded_notebooks[notebook])

    def emit(self, s: Session, event: str, submission_json: dict) -> None:
        """Queue a grade event for the site in the same transaction (nothing if no webhook).

        The payload is studio_contracts' grade event; the sender adds the delivery id. It is
        checked against the schema here, so a malformed event fails where it is made."""
        if not self.settings.webhook_url:
            return
        payload = {
            "event": event,
            "course": submission_json["course"],
            "assignment": submission_json["assignment"],
            "username": submission_json["username"],
            "submission_id": submission_json["id"],
            "attempt": submission_json["attempt"],
            "status": submission_json["status"],
            "score": submission_json.get("score"),
            "max_score": submission_json.get("max_score"),
            "late_penalty": submission_json.get("late_penalty"),
            "needs_manual_grade": submission_json.get("needs_manual_grade"),
            "submitted_at": submission_json["submitted_at"],
            "graded_at": submission_json.get("graded_at"),
        }
        validate_grade_event({"delivery_id": 1, **payload})
        s.add(WebhookDelivery(event=event, payload=payload))
