"""The records the grader returns for releases and submissions, and the queries behind
them, shared by the gradebook's parts (grader.service.releases, .submissions, .results,
.reports). What a learner may see of them is decided by the callers, through
grader.service.permissions; ``instructor=False`` records leave out what only instructors see.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from grader.engine.late import notebook_penalty
from grader.service.errors import NotFound
from grader.service.orm import Assignment, Course, GradingJob, Release, Submission, SubmissionResult


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()


def assignment_of(s: Session, course: Course, slug: str) -> Assignment:
    assignment = s.scalar(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.slug == slug)
    )
    if assignment is None or not assignment.releases:
        raise NotFound(f"assignment {slug!r} of {course.slug} has not been released")
    return assignment



def current_release(assignment: Assignment) -> Release:
    return assignment.releases[-1]



def release_json(release: Release, assignment: Assignment, instructor: bool) -> dict:
    out = {
        "assignment": assignment.slug,
        "title": assignment.title,
        "version": release.version,
        "notebooks": release.notebooks,
        "max_score": release.max_score,
        "due_at": iso(release.due_at),
        "late_policy": release.late_policy,
        "late_penalty_per_hour": release.late_penalty_per_hour,
        "max_submissions": release.max_submissions,
        "released_at": iso(release.created_at),
    }
    if instructor:
        out["check_report"] = release.check_report
        out["created_by"] = release.created_by
        out["points"] = release.points
    return out



def preload_jobs(s: Session, subs: list[Submission]) -> dict[int, GradingJob]:
    """Load grades, results and latest jobs of many submissions in a few queries."""
    if not subs:
        return {}
    ids = [sub.id for sub in subs]
    s.execute(
        select(Submission)
        .where(Submission.id.in_(ids))
        .options(
            selectinload(Submission.grades),
            selectinload(Submission.result),
            selectinload(Submission.release),
        )
    ).all()
    latest = (
        select(func.max(GradingJob.id))
        .where(GradingJob.submission_id.in_(ids))
        .group_by(GradingJob.submission_id)
    )
    jobs = s.scalars(select(GradingJob).where(GradingJob.id.in_(latest))).all()
    return {job.submission_id: job for job in jobs}



def latest_job(s: Session, submission: Submission) -> GradingJob | None:
    return s.scalar(
        select(GradingJob)
        .where(GradingJob.submission_id == submission.id)
        .order_by(GradingJob.id.desc())
        .limit(1)
    )



def submission_json(
    s: Session, sub: Submission, instructor: bool, cells=False, jobs=None
) -> dict:
    job = jobs.get(sub.id) if jobs is not None else latest_job(s, sub)
    result = sub.result
    release = sub.release
    out = {
        "id": sub.id,
        "course": sub.assignment.course.slug,
        "assignment": sub.assignment.slug,
        "username": sub.username,
        "attempt": sub.attempt,
        "release_version": release.version,
        "content_hash": sub.tree,
        "size_bytes": sub.size_bytes,
        "submitted_at": iso(sub.submitted_at),
        "job": None
        if job is None
        else {"state": job.state, "attempts": job.attempts,
              "error": job.error if instructor else learner_job_error(job.error)},
    }
    if job is not None and job.state in ("queued", "running"):
        out["status"] = "grading"
    elif result is not None:
        out["status"] = "graded"
    elif job is not None and job.state == "failed":
        out["status"] = "failed"
    else:
        out["status"] = "submitted"
    if result is not None:
        scores = totals(sub, result)
        out.update(scores)
        out["message"] = result.message
        out["in_review"] = bool(result.review_reason)
        if instructor and result.review_reason:
            out["review_reason"] = result.review_reason
        out["graded_at"] = iso(result.graded_at)
        out["feedback_notebooks"] = sorted(result.feedback)
    if cells and result is not None:
        out["cells"] = [
            {
                "notebook": g.notebook,
                "cell_id": g.cell_id,
                "score": g.score,
                "auto_score": g.auto_score,
                "manual_score": g.manual_score,
                "max_score": g.max_score,
                "needs_manual_grade": g.needs_manual_grade,
                "comment": g.comment,
            }
            for g in sub.grades
        ]
    return out



def learner_job_error(error: str | None) -> str | None:
    """Why a grading job failed or waits, as its learner may read it. The grader's reason can
    quote an exception raised while the notebooks ran, whose text learner code (holding the
    hidden tests by then) may have shaped: the learner gets its kind, instructors all of it."""
    if not error:
        return error
    if error.startswith("waiting for a sandbox"):
        return "waiting for a sandbox: the grader cannot run submissions right now"
    if error.startswith("gave up after"):
        return error  # the queue's own words, nothing of the submission in them
    return ("grading failed: the grader could not finish grading this submission; your "
            "instructor sees why and can regrade it")


def totals(sub: Submission, result: SubmissionResult) -> dict:
    """Scores with nbgrader's rules: manual beats auto, penalty per notebook."""
    per_nb: dict[str, float] = {}
    needs_manual = False
    for g in sub.grades:
        per_nb[g.notebook] = per_nb.get(g.notebook, 0.0) + (g.score or 0.0)
        if g.needs_manual_grade:
            needs_manual = True
    release = sub.release
    penalty = sum(
        notebook_penalty(
            release.late_policy, score, result.seconds_late, release.late_penalty_per_hour
        )
        for score in per_nb.values()
    )
    raw = sum(per_nb.values())
    return {
        "score": round(raw - penalty, 6),
        "raw_score": round(raw, 6),
        "max_score": result.max_score,
        "late_penalty": round(penalty, 6),
        "seconds_late": result.seconds_late,
        "needs_manual_grade": needs_manual,
    }



def latest_submissions(s: Session, course: Course, assignment: Assignment | None):
    q = select(Submission).join(Assignment).where(Assignment.course_id == course.id)
    if assignment is not None:
        q = q.where(Submission.assignment_id == assignment.id)
    latest: dict[tuple[str, str], Submission] = {}
    for sub in s.scalars(q.order_by(Submission.attempt)):
        latest[(sub.assignment.slug, sub.username)] = sub
    return latest

