"""Reports for instructors and operators: grades as CSV, score statistics, the queue."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from grader.service.orm import Assignment, Course, GradingJob, Submission
from grader.service.parts import GradebookPart
from grader.service.permissions import OPERATOR, Person
from grader.service.records import (
    assignment_of,
    current_release,
    latest_submissions,
    preload_jobs,
    submission_json,
    totals,
)


class Reports(GradebookPart):
    """Exports and statistics of a course; the grading queue's state."""

    def export_csv(self, person: Person, slug: str, assignment_slug: str | None = None) -> str:
        """One row per learner and assignment (latest submission), like nbgrader export."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            assignment = assignment_of(s, course, assignment_slug) if assignment_slug else None
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(
                [
                    "course", "assignment", "username", "attempt", "submitted_at", "status",
                    "raw_score", "late_penalty", "score", "max_score", "needs_manual_grade",
                ]
            )
            latest = latest_submissions(s, course, assignment)
            jobs = preload_jobs(s, list(latest.values()))
            for (a_slug, username), sub in sorted(latest.items()):
                j = submission_json(s, sub, instructor=True, jobs=jobs)
                w.writerow(
                    [
                        slug, a_slug, username, sub.attempt, j["submitted_at"], j["status"],
                        j.get("raw_score", ""), j.get("late_penalty", ""), j.get("score", ""),
                        j.get("max_score", sub.release.max_score),
                        j.get("needs_manual_grade", ""),
                    ]
                )
            return buf.getvalue()

    def statistics(self, person: Person, slug: str, assignment_slug: str, bins: int = 10) -> dict:
        """Histogram of latest scores and, per graded cell, how many got full marks."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            assignment = assignment_of(s, course, assignment_slug)
            release = current_release(assignment)
            latest = list(latest_submissions(s, course, assignment).values())
            preload_jobs(s, latest)
            latest = [sub for sub in latest if sub.result]
            scores = [totals(sub, sub.result)["score"] for sub in latest]
            max_score = release.max_score or 0.0
            edges = [max_score * i / bins for i in range(bins + 1)]
            counts = [0] * bins
            for score in scores:
                i = min(int(score / max_score * bins), bins - 1) if max_score else 0
                counts[i] += 1
            cells: dict[str, dict] = {}
            for sub in latest:
                for g in sub.grades:
                    c = cells.setdefault(
                        f"{g.notebook}/{g.cell_id}",
                        {"notebook": g.notebook, "cell_id": g.cell_id, "max_score": g.max_score,
                         "graded": 0, "full_marks": 0, "mean_score": 0.0},
                    )
                    if g.score is None:
                        continue
                    c["graded"] += 1
                    c["mean_score"] += g.score
                    if g.score >= g.max_score:
                        c["full_marks"] += 1
            for c in cells.values():
                c["success_rate"] = c["full_marks"] / c["graded"] if c["graded"] else None
                c["mean_score"] = c["mean_score"] / c["graded"] if c["graded"] else None
            return {
                "course": slug,
                "assignment": assignment_slug,
                "learners": len(latest),
                "max_score": max_score,
                "mean_score": sum(scores) / len(scores) if scores else None,
                "histogram": {"edges": edges, "counts": counts},
                "cells": sorted(cells.values(), key=lambda c: (c["notebook"], c["cell_id"])),
            }

    def waiting_reasons(self) -> list[str]:
        """Why queued jobs were handed back (e.g. no sandbox), newest first."""
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(GradingJob.error)
                    .where(GradingJob.state == "queued", GradingJob.error != "")
                    .order_by(GradingJob.id.desc())
                )
            )

    def queue_status(self, person: Person = OPERATOR) -> dict:
        """Queue counts; failures of the courses person teaches (all for admins)."""
        with self.sessions() as s:
            counts = self.queue.counts(s)
            q = (
                select(GradingJob.id, GradingJob.submission_id, GradingJob.error,
                       Course.slug, Assignment.slug, Submission.username)
                .join(Submission, GradingJob.submission_id == Submission.id)
                .join(Assignment, Submission.assignment_id == Assignment.id)
                .join(Course, Assignment.course_id == Course.id)
                .where(GradingJob.state == "failed")
                .order_by(GradingJob.id.desc())
                .limit(20)
            )
            if not person.admin:
                taught = [
                    c.slug for c in s.scalars(select(Course))
                    if "instructor" in self.permissions.roles(s, person, c)
                ]
                q = q.where(Course.slug.in_(taught))
            return {
                "counts": counts,
                "recent_failures": [
                    {"job": j, "submission": sub, "error": err, "course": c, "assignment": a,
                     "username": u}
                    for j, sub, err, c, a, u in s.execute(q)
                ],
            }
