"""Submissions: a learner hands in, sees their own; instructors see and regrade all."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grader.service.errors import (
    Conflict,
    InvalidUpload,
    NotFound,
    SubmissionLimitReached,
    TooManyRequests,
)
from grader.service.orm import Submission, utcnow
from grader.service.parts import GradebookPart
from grader.service.permissions import Person
from grader.service.records import (
    assignment_of,
    current_release,
    latest_job,
    preload_jobs,
    submission_json,
)
from grader.service.uploads import validate_upload

log = logging.getLogger("grader")



class Submissions(GradebookPart):
    """Hand in, read back and regrade submissions."""

    def submit(self, person: Person, slug: str, assignment_slug: str, files: dict[str, bytes]):
        files = validate_upload(files, self.settings)
        with self.sessions() as s:
            # who may submit, and how often, is decided before anything is stored
            self.permissions.require(s, person, slug, "member")
            self._check_rate(s, person)
        tree = self.blobs.put_tree(files)
        for _ in range(20):
            try:
                return self._submit(person, slug, assignment_slug, files, tree)
            except IntegrityError:
                # two submissions of one learner at the same moment took the same attempt
                # number; the loser tries again with the next one
                continue
        raise Conflict("too many simultaneous submissions: wait a moment and submit again")

    def _check_rate(self, s, person: Person) -> None:
        limit = self.settings.submission_rate
        if not limit:
            return
        since = utcnow() - dt.timedelta(seconds=60)
        recent = s.scalars(
            select(Submission.submitted_at)
            .where(Submission.username == person.name, Submission.submitted_at > since)
            .order_by(Submission.submitted_at)
        ).all()
        if len(recent) >= limit:
            wait = max(1, int((recent[0] - since).total_seconds()) + 1)
            raise TooManyRequests(
                f"{person.name} has submitted {len(recent)} times in the last minute, the "
                f"most the grader takes: submit again in {wait} s",
                retry_after=wait,
            )

    def _submit(self, person, slug, assignment_slug, files, tree) -> dict:
        with self.sessions.begin() as s:
            course = self.permissions.require(s, person, slug, "member")
            assignment = assignment_of(s, course, assignment_slug)
            release = current_release(assignment)
            expected = [f"{name}.ipynb" for name in release.notebooks]
            if expected and not any(name in files for name in expected):
                raise InvalidUpload(
                    f"the upload has none of the assignment's notebooks ({', '.join(expected)}): "
                    "submit the notebooks you fetched, under their original names"
                )
            used = s.scalar(
                select(func.count()).where(
                    Submission.assignment_id == assignment.id, Submission.username == person.name
                )
            )
            if release.max_submissions is not None and used >= release.max_submissions:
                raise SubmissionLimitReached(
                    f"{person.name} has used all {release.max_submissions} submissions of "
                    f"{slug}/{assignment_slug}: ask an instructor to regrade or raise the limit"
                )
            submission = Submission(
                assignment_id=assignment.id,
                release_id=release.id,
                username=person.name,
                attempt=used + 1,
                tree=tree,
                size_bytes=sum(len(b) for b in files.values()),
                submitted_at=utcnow(),
            )
            s.add(submission)
            s.flush()
            self.queue.enqueue(s, submission.id, "submit")
            log.info(
                "submission %d queued",
                submission.id,
                extra={"user": person.name, "course": slug, "assignment": assignment_slug},
            )
            return submission_json(s, submission, instructor=False)

    def get(self, person: Person, submission_id: int) -> dict:
        with self.sessions() as s:
            sub, instructor = self.permissions.visible_submission(s, person, submission_id)
            return submission_json(s, sub, instructor, cells=True)

    def files(self, person: Person, submission_id: int) -> dict[str, bytes]:
        with self.sessions() as s:
            sub, _ = self.permissions.visible_submission(s, person, submission_id)
            return self.blobs.get_tree(sub.tree)

    def feedback(self, person: Person, submission_id: int, notebook: str) -> str:
        with self.sessions() as s:
            sub, _ = self.permissions.visible_submission(s, person, submission_id)
            if sub.result is None or notebook not in sub.result.feedback:
                raise NotFound(
                    f"no feedback for notebook {notebook!r} of submission {submission_id} "
                    "(yet): it appears once the submission is graded"
                )
            return self.blobs.get(sub.result.feedback[notebook]).decode()

    def listing(
        self, person: Person, slug: str, assignment_slug: str, username: str | None = None
    ) -> list[dict]:
        """A learner's own submissions; for an instructor everyone's (or one learner's)."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            assignment = assignment_of(s, course, assignment_slug)
            instructor = "instructor" in self.permissions.roles(s, person, course)
            q = select(Submission).where(Submission.assignment_id == assignment.id)
            if not instructor:
                q = q.where(Submission.username == person.name)
            elif username:
                q = q.where(Submission.username == username)
            subs = s.scalars(q.order_by(Submission.username, Submission.attempt)).all()
            jobs = preload_jobs(s, subs)
            return [
                submission_json(s, sub, instructor, cells=instructor, jobs=jobs)
                for sub in subs
            ]

    def regrade(
        self,
        person: Person,
        slug: str,
        assignment_slug: str | None = None,
        submission_ids: list[int] | None = None,
    ) -> list[int]:
        """Queue new grading jobs: given submissions, or every learner's latest one."""
        with self.sessions.begin() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            if submission_ids:
                subs = [s.get(Submission, i) for i in submission_ids]
                if any(sub is None or sub.assignment.course_id != course.id for sub in subs):
                    raise NotFound(f"some of submissions {submission_ids} are not in {slug}")
            else:
                assignment = assignment_of(s, course, assignment_slug or "")
                latest = (
                    select(Submission.username, func.max(Submission.attempt).label("attempt"))
                    .where(Submission.assignment_id == assignment.id)
                    .group_by(Submission.username)
                    .subquery()
                )
                subs = s.scalars(
                    select(Submission).join(
                        latest,
                        (Submission.username == latest.c.username)
                        & (Submission.attempt == latest.c.attempt)
                        & (Submission.assignment_id == assignment.id),
                    )
                ).all()
            ids = []
            for sub in subs:
                job = latest_job(s, sub)
                if job is not None and job.state in ("queued", "running"):
                    continue  # already on its way: queuing twice would grade twice
                self.queue.enqueue(s, sub.id, "regrade")
                ids.append(sub.id)
            log.info("regrade of %d submissions", len(ids), extra={"user": person.name, "course": slug})
            return ids
