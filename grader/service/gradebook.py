"""What learners and instructors can do, with who-may-see-what enforced in one place.

The REST handlers (grader/apihandlers) and the CLI (grader/cli.py) both call this module,
so the rules cannot differ between them. Every read a learner makes is filtered to that
learner's own submissions; source notebooks, the ReleaseBuild (which holds hidden tests)
and the executed graded notebooks are never returned to a learner.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from grader.engine.late import LATE_POLICIES, notebook_penalty, seconds_late
from grader.service.blobstore import BlobStore
from grader.service.config import GraderSettings
from grader.service.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    InvalidUpload,
    NotFound,
    SubmissionLimitReached,
    TooManyFiles,
    UploadTooLarge,
)
from grader.service.orm import (
    Assignment,
    Course,
    Enrollment,
    Grade,
    GradingJob,
    Release,
    Submission,
    SubmissionResult,
    WebhookDelivery,
    utcnow,
)
from grader.service.queue import GradingQueue

log = logging.getLogger("grader")

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Person:
    """Who is asking, as the hub knows them."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    kind: str = "user"


OPERATOR = Person(name="operator (CLI)", admin=True)

# set_manual_score: leave the score as it is (only the comment changes)
UNCHANGED = object()


def check_slug(value: str, what: str) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise InvalidRequest(
            f"{what} {value!r} is not valid: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def parse_due(value: str | None) -> dt.datetime | None:
    """ISO 8601 due date; a time zone is converted to UTC, none means UTC."""
    if value in (None, ""):
        return None
    try:
        due = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"due date {value!r} is not ISO 8601: write it like 2030-01-31T23:59:00Z"
        ) from None
    if due.tzinfo is not None:
        due = due.astimezone(dt.UTC).replace(tzinfo=None)
    return due


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()


def validate_upload(files: dict[str, bytes], settings: GraderSettings) -> dict[str, bytes]:
    """Check names, count and size of uploaded files; returns them with normalised names.

    Refuses (with what to do) absolute paths, '..', backslashes, hidden and odd names,
    duplicates, too many files and too many bytes: the files end up in a sandbox and in
    the instructor's export, and a name must mean the same thing everywhere.
    """
    if not files:
        raise InvalidUpload("no files were uploaded: attach at least one notebook (.ipynb)")
    if len(files) > settings.max_upload_files:
        raise TooManyFiles(
            f"{len(files)} files uploaded, at most {settings.max_upload_files} are accepted: "
            "submit only the assignment's notebooks and the files they need"
        )
    total = sum(len(b) for b in files.values())
    if total > settings.max_upload_bytes:
        raise UploadTooLarge(
            f"upload is {total} bytes, at most {settings.max_upload_bytes} are accepted: "
            "clear large outputs (Edit > Clear All Outputs) and leave out data files"
        )
    segment = re.compile(settings.file_name_pattern)
    clean: dict[str, bytes] = {}
    for raw, data in files.items():
        name = raw
        if "\x00" in name or "\\" in name:
            raise InvalidUpload(
                f"file name {raw!r} contains a backslash or NUL: use '/' between folders"
            )
        if name.startswith("/"):
            raise InvalidUpload(f"file name {raw!r} is absolute: give a path inside the assignment")
        if len(name) > settings.max_path_length:
            raise InvalidUpload(
                f"file name {raw[:40]!r}... is longer than {settings.max_path_length} characters"
            )
        parts = name.split("/")
        for part in parts:
            if part in ("", ".", ".."):
                raise InvalidUpload(
                    f"file name {raw!r} leaves the assignment folder or has an empty part: "
                    "submit files by their path inside the assignment, like data/input.csv"
                )
            if not segment.match(part):
                raise InvalidUpload(
                    f"file name {raw!r} has a part {part!r} the grader does not accept: use "
                    "letters, digits, spaces and _ . - ( ) +, not starting with '.' or '-'"
                )
        key = "/".join(parts)
        if key.lower() in {k.lower() for k in clean}:
            raise InvalidUpload(
                f"file {raw!r} is uploaded twice (names differing only in case count as the "
                "same): rename one of them"
            )
        clean[key] = data
    return clean


class Gradebook:
    def __init__(
        self,
        settings: GraderSettings,
        sessions: sessionmaker,
        blobs: BlobStore,
        queue: GradingQueue | None = None,
    ):
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.queue = queue or GradingQueue(
            sessions, settings.lease_seconds, settings.max_attempts
        )

    # ---- who may do what -------------------------------------------------------------

    def _course(self, s: Session, slug: str) -> Course:
        course = s.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            raise NotFound(f"course {slug!r} does not exist")
        return course

    def is_operator(self, person: Person) -> bool:
        """Hub admins, the command line, and the services named in operator_services."""
        return person.admin or (
            person.kind == "service" and person.name in self.settings.operator_services
        )

    def _roles(self, s: Session, person: Person, course: Course) -> set[str]:
        roles = set()
        if self.is_operator(person):
            roles.add("instructor")
        if self.settings.instructor_group_template.format(course=course.slug) in person.groups:
            roles.add("instructor")
        if self.settings.learner_group_template.format(course=course.slug) in person.groups:
            roles.add("learner")
        roles.update(
            s.scalars(
                select(Enrollment.role).where(
                    Enrollment.course_id == course.id, Enrollment.username == person.name
                )
            )
        )
        return roles

    def _require(self, s: Session, person: Person, slug: str, role: str) -> Course:
        course = self._course(s, slug)
        roles = self._roles(s, person, course)
        if role == "instructor" and "instructor" not in roles:
            raise Forbidden(
                f"{person.name} is not an instructor of {slug}: ask an admin to add you to "
                f"the hub group {self.settings.instructor_group_template.format(course=slug)}"
            )
        if role == "member" and not roles:
            # a non-member gets the same answer as for a missing course: no enumeration
            raise NotFound(f"course {slug!r} does not exist or you are not enrolled in it")
        return course

    def is_instructor(self, person: Person, slug: str) -> bool:
        with self.sessions() as s:
            return "instructor" in self._roles(s, person, self._course(s, slug))

    # ---- courses ---------------------------------------------------------------------

    def create_course(self, person: Person, slug: str, title: str = "") -> dict:
        check_slug(slug, "course")
        if not (self.is_operator(person) or self.settings.course_creator_group in person.groups):
            raise Forbidden(
                f"{person.name} may not create courses: ask an admin to add you to the hub "
                f"group {self.settings.course_creator_group}"
            )
        with self.sessions.begin() as s:
            if s.scalar(select(Course).where(Course.slug == slug)) is not None:
                raise Conflict(f"course {slug!r} already exists")
            course = Course(slug=slug, title=title or slug)
            s.add(course)
            s.flush()
            if person is not OPERATOR and person.kind == "user":
                s.add(Enrollment(course_id=course.id, username=person.name, role="instructor"))
            log.info("course created", extra={"user": person.name, "course": slug})
            return {"slug": slug, "title": course.title}

    def ensure_course(self, slug: str, title: str = "") -> None:
        """Operator import: create the course if missing."""
        with self.sessions.begin() as s:
            if s.scalar(select(Course).where(Course.slug == slug)) is None:
                s.add(Course(slug=check_slug(slug, "course"), title=title or slug))

    def enroll(self, person: Person, slug: str, username: str, role: str = "learner") -> dict:
        if role not in ("learner", "instructor"):
            raise InvalidRequest("role must be 'learner' or 'instructor'")
        if not username or not isinstance(username, str):
            raise InvalidRequest("username is required")
        with self.sessions.begin() as s:
            course = self._require(s, person, slug, "instructor")
            exists = s.scalar(
                select(Enrollment).where(
                    Enrollment.course_id == course.id,
                    Enrollment.username == username,
                    Enrollment.role == role,
                )
            )
            if exists is None:
                s.add(Enrollment(course_id=course.id, username=username, role=role))
        return {"course": slug, "username": username, "role": role}

    def courses_for(self, person: Person) -> list[dict]:
        with self.sessions() as s:
            out = []
            for course in s.scalars(select(Course).order_by(Course.slug)):
                roles = self._roles(s, person, course)
                if roles:
                    out.append(
                        {"slug": course.slug, "title": course.title, "roles": sorted(roles)}
                    )
            return out

    # ---- releases --------------------------------------------------------------------

    def store_release(
        self,
        person_name: str,
        slug: str,
        assignment_slug: str,
        source_files: dict[str, bytes],
        build,
        *,
        title: str = "",
        due_at: dt.datetime | None = None,
        late_policy: str = "none",
        late_penalty_per_hour: float = 0.0,
        max_submissions: int | None = None,
        check_report: dict | None = None,
    ) -> dict:
        """Publish a built (and checked) release as the assignment's newest version."""
        check_slug(assignment_slug, "assignment")
        if late_policy not in LATE_POLICIES:
            raise InvalidRequest(
                f"late policy {late_policy!r} is unknown: use one of {', '.join(LATE_POLICIES)}"
            )
        if max_submissions is not None and max_submissions < 1:
            raise InvalidRequest("max_submissions must be at least 1 (or empty for no limit)")
        points = {
            name: {gid: cell.points for gid, cell in nb.cells.items() if cell.grade}
            for name, nb in build.notebooks.items()
        }
        source_tree = self.blobs.put_tree(source_files)
        student_tree = self.blobs.put_tree(build.student_files())
        build_blob = self.blobs.put(json.dumps(build.to_json(), sort_keys=True).encode())
        with self.sessions.begin() as s:
            course = self._course(s, slug)
            assignment = s.scalar(
                select(Assignment).where(
                    Assignment.course_id == course.id, Assignment.slug == assignment_slug
                )
            )
            if assignment is None:
                assignment = Assignment(
                    course_id=course.id, slug=assignment_slug, title=title or assignment_slug
                )
                s.add(assignment)
                s.flush()
            elif title:
                assignment.title = title
            version = (
                s.scalar(
                    select(func.max(Release.version)).where(
                        Release.assignment_id == assignment.id
                    )
                )
                or 0
            ) + 1
            release = Release(
                assignment_id=assignment.id,
                version=version,
                source_tree=source_tree,
                student_tree=student_tree,
                build_blob=build_blob,
                notebooks=sorted(build.notebooks),
                max_score=float(build.max_score),
                points=points,
                check_report=check_report or {},
                due_at=due_at,
                late_policy=late_policy,
                late_penalty_per_hour=late_penalty_per_hour,
                max_submissions=max_submissions,
                created_by=person_name,
            )
            s.add(release)
            s.flush()
            log.info(
                "released version %d",
                version,
                extra={"user": person_name, "course": slug, "assignment": assignment_slug},
            )
            return self._release_json(release, assignment, instructor=True)

    def _release_json(self, release: Release, assignment: Assignment, instructor: bool) -> dict:
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

    def _assignment(self, s: Session, course: Course, slug: str) -> Assignment:
        assignment = s.scalar(
            select(Assignment).where(Assignment.course_id == course.id, Assignment.slug == slug)
        )
        if assignment is None or not assignment.releases:
            raise NotFound(f"assignment {slug!r} of {course.slug} has not been released")
        return assignment

    def current_release(self, s: Session, assignment: Assignment) -> Release:
        return assignment.releases[-1]

    def load_build(self, release: Release):
        from grader.engine.release import ReleaseBuild

        return ReleaseBuild.from_json(json.loads(self.blobs.get(release.build_blob)))

    def assignments_for(self, person: Person, slug: str) -> list[dict]:
        with self.sessions() as s:
            course = self._require(s, person, slug, "member")
            instructor = "instructor" in self._roles(s, person, course)
            out = []
            for assignment in sorted(course.assignments, key=lambda a: a.slug):
                if not assignment.releases:
                    continue
                release = assignment.releases[-1]
                item = self._release_json(release, assignment, instructor)
                mine = s.scalars(
                    select(Submission)
                    .where(
                        Submission.assignment_id == assignment.id,
                        Submission.username == person.name,
                    )
                    .order_by(Submission.attempt)
                ).all()
                item["submissions_used"] = len(mine)
                item["past_due"] = release.due_at is not None and utcnow() > release.due_at
                if mine:
                    latest = self._submission_json(s, mine[-1], instructor=False)
                    item["status"] = latest["status"]
                    item["latest_submission"] = latest
                else:
                    item["status"] = "not submitted"
                out.append(item)
            return out

    def student_release(self, person: Person, slug: str, assignment_slug: str) -> dict:
        """What a learner fetches: the student version only, never source or tests."""
        with self.sessions() as s:
            course = self._require(s, person, slug, "member")
            assignment = self._assignment(s, course, assignment_slug)
            release = self.current_release(s, assignment)
            out = self._release_json(release, assignment, instructor=False)
            out["files"] = self.blobs.get_tree(release.student_tree)
            return out

    def hints(
        self, person: Person, slug: str, assignment_slug: str, notebook: str, cell_id: str
    ) -> dict:
        """The hints of one cell of the student version (``learning_studio.hints`` in its
        metadata), so a learner's Hint button needs one cell, not the whole release."""
        import nbformat

        with self.sessions() as s:
            course = self._require(s, person, slug, "member")
            assignment = self._assignment(s, course, assignment_slug)
            release = self.current_release(s, assignment)
            manifest = self.blobs.tree_manifest(release.student_tree)
            if notebook not in manifest or not notebook.endswith(".ipynb"):
                raise NotFound(f"{notebook!r} is not a notebook of {slug}/{assignment_slug}")
            data = self.blobs.get(manifest[notebook])
            version = release.version
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        for cell in nb.cells:
            if cell_id in (cell.metadata.get("nbgrader", {}).get("grade_id"), cell.get("id")):
                hints = cell.metadata.get("learning_studio", {}).get("hints", [])
                return {"notebook": notebook, "cell": cell_id, "version": version,
                        "hints": [h for h in hints if isinstance(h, str)]}
        raise NotFound(f"{notebook} of {slug}/{assignment_slug} has no cell {cell_id!r}")

    def source_release(self, person: Person, slug: str, assignment_slug: str) -> dict:
        """The instructor's own source files of the newest release."""
        with self.sessions() as s:
            course = self._require(s, person, slug, "instructor")
            assignment = self._assignment(s, course, assignment_slug)
            release = self.current_release(s, assignment)
            out = self._release_json(release, assignment, instructor=True)
            out["files"] = self.blobs.get_tree(release.source_tree)
            return out

    # ---- submissions -----------------------------------------------------------------

    def submit(self, person: Person, slug: str, assignment_slug: str, files: dict[str, bytes]):
        files = validate_upload(files, self.settings)
        tree = self.blobs.put_tree(files)
        for _ in range(20):
            try:
                return self._submit(person, slug, assignment_slug, files, tree)
            except IntegrityError:
                # two submissions of one learner at the same moment took the same attempt
                # number; the loser tries again with the next one
                continue
        raise Conflict("too many simultaneous submissions: wait a moment and submit again")

    def _submit(self, person, slug, assignment_slug, files, tree) -> dict:
        with self.sessions.begin() as s:
            course = self._require(s, person, slug, "member")
            assignment = self._assignment(s, course, assignment_slug)
            release = self.current_release(s, assignment)
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
            return self._submission_json(s, submission, instructor=False)

    def _preload(self, s: Session, subs: list[Submission]) -> dict[int, GradingJob]:
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

    def _job(self, s: Session, submission: Submission) -> GradingJob | None:
        return s.scalar(
            select(GradingJob)
            .where(GradingJob.submission_id == submission.id)
            .order_by(GradingJob.id.desc())
            .limit(1)
        )

    def _submission_json(
        self, s: Session, sub: Submission, instructor: bool, cells=False, jobs=None
    ) -> dict:
        job = jobs.get(sub.id) if jobs is not None else self._job(s, sub)
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
            else {"state": job.state, "attempts": job.attempts, "error": job.error},
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
            totals = self._totals(sub, result)
            out.update(totals)
            out["message"] = result.message
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

    def _totals(self, sub: Submission, result: SubmissionResult) -> dict:
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

    def _visible_submission(self, s: Session, person: Person, submission_id: int):
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"submission {submission_id} does not exist")
        instructor = "instructor" in self._roles(s, person, sub.assignment.course)
        if not instructor and sub.username != person.name:
            # same answer as for a missing one: a learner cannot probe others' ids
            raise NotFound(f"submission {submission_id} does not exist")
        return sub, instructor

    def submission(self, person: Person, submission_id: int) -> dict:
        with self.sessions() as s:
            sub, instructor = self._visible_submission(s, person, submission_id)
            return self._submission_json(s, sub, instructor, cells=True)

    def submission_files(self, person: Person, submission_id: int) -> dict[str, bytes]:
        with self.sessions() as s:
            sub, _ = self._visible_submission(s, person, submission_id)
            return self.blobs.get_tree(sub.tree)

    def feedback(self, person: Person, submission_id: int, notebook: str) -> str:
        with self.sessions() as s:
            sub, _ = self._visible_submission(s, person, submission_id)
            if sub.result is None or notebook not in sub.result.feedback:
                raise NotFound(
                    f"no feedback for notebook {notebook!r} of submission {submission_id} "
                    "(yet): it appears once the submission is graded"
                )
            return self.blobs.get(sub.result.feedback[notebook]).decode()

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
            self._require(s, person, sub.assignment.course.slug, "instructor")
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
            # a new dict: the JSON column notices assignment, not in-place changes
            sub.result.feedback = {**sub.result.feedback,
                                   notebook: self.blobs.put(html.encode())}
            log.info("feedback for submission %d released (%s)", submission_id, notebook,
                     extra={"user": person.name, "course": sub.assignment.course.slug,
                            "assignment": sub.assignment.slug})
            return {"submission": submission_id, "notebook": notebook, "released": True}

    def submissions(
        self, person: Person, slug: str, assignment_slug: str, username: str | None = None
    ) -> list[dict]:
        """A learner's own submissions; for an instructor everyone's (or one learner's)."""
        with self.sessions() as s:
            course = self._require(s, person, slug, "member")
            assignment = self._assignment(s, course, assignment_slug)
            instructor = "instructor" in self._roles(s, person, course)
            q = select(Submission).where(Submission.assignment_id == assignment.id)
            if not instructor:
                q = q.where(Submission.username == person.name)
            elif username:
                q = q.where(Submission.username == username)
            subs = s.scalars(q.order_by(Submission.username, Submission.attempt)).all()
            jobs = self._preload(s, subs)
            return [
                self._submission_json(s, sub, instructor, cells=instructor, jobs=jobs)
                for sub in subs
            ]

    # ---- instructor actions ----------------------------------------------------------

    def regrade(
        self,
        person: Person,
        slug: str,
        assignment_slug: str | None = None,
        submission_ids: list[int] | None = None,
    ) -> list[int]:
        """Queue new grading jobs: given submissions, or every learner's latest one."""
        with self.sessions.begin() as s:
            course = self._require(s, person, slug, "instructor")
            if submission_ids:
                subs = [s.get(Submission, i) for i in submission_ids]
                if any(sub is None or sub.assignment.course_id != course.id for sub in subs):
                    raise NotFound(f"some of submissions {submission_ids} are not in {slug}")
            else:
                assignment = self._assignment(s, course, assignment_slug or "")
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
                job = self._job(s, sub)
                if job is not None and job.state in ("queued", "running"):
                    continue  # already on its way: queuing twice would grade twice
                self.queue.enqueue(s, sub.id, "regrade")
                ids.append(sub.id)
            log.info("regrade of %d submissions", len(ids), extra={"user": person.name, "course": slug})
            return ids

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
            self._require(s, person, sub.assignment.course.slug, "instructor")
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
            out = self._submission_json(s, sub, instructor=True, cells=True)
            self.emit(s, "grade.updated", out)
            return out

    # ---- results (written by the grading worker) ----------------------------------------

    def graded_notebook(self, person: Person, submission_id: int, notebook: str) -> bytes:
        """The executed notebook with the release's tests, hidden ones included: instructors only."""
        with self.sessions() as s:
            sub, instructor = self._visible_submission(s, person, submission_id)
            if not instructor:
                raise Forbidden(
                    "the graded notebook holds the hidden tests: only instructors see it; "
                    "your feedback is at .../feedback/<notebook>"
                )
            if sub.result is None or notebook not in (sub.result.graded_notebooks or {}):
                raise NotFound(f"no graded notebook {notebook!r} for submission {submission_id}")
            return self.blobs.get(sub.result.graded_notebooks[notebook])

    def store_result(self, s: Session, submission: Submission, result, feedback: dict[str, str]):
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
        res.auto_score = float(data["score"])
        res.max_score = float(data["max_score"])
        res.needs_manual_grade = bool(data["needs_manual_grade"])
        res.seconds_late = late
        res.message = "\n".join(messages)
        res.feedback = feedback_blobs
        res.graded_notebooks = graded_blobs
        res.graded_at = utcnow()
        s.flush()
        s.expire(submission, ["grades"])
        totals = self._totals(submission, res)
        res.late_penalty = totals["late_penalty"]
        self.emit(s, "submission.graded", self._submission_json(s, submission, instructor=True))

    def emit(self, s: Session, event: str, submission_json: dict) -> None:
        """Queue a grade event for the CMS in the same transaction (nothing if no webhook)."""
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
        s.add(WebhookDelivery(event=event, payload=payload))

    # ---- gradebook views ---------------------------------------------------------------

    def _latest_graded(self, s: Session, course: Course, assignment: Assignment | None):
        q = select(Submission).join(Assignment).where(Assignment.course_id == course.id)
        if assignment is not None:
            q = q.where(Submission.assignment_id == assignment.id)
        latest: dict[tuple[str, str], Submission] = {}
        for sub in s.scalars(q.order_by(Submission.attempt)):
            latest[(sub.assignment.slug, sub.username)] = sub
        return latest

    def export_csv(self, person: Person, slug: str, assignment_slug: str | None = None) -> str:
        """One row per learner and assignment (latest submission), like nbgrader export."""
        with self.sessions() as s:
            course = self._require(s, person, slug, "instructor")
            assignment = self._assignment(s, course, assignment_slug) if assignment_slug else None
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(
                [
                    "course", "assignment", "username", "attempt", "submitted_at", "status",
                    "raw_score", "late_penalty", "score", "max_score", "needs_manual_grade",
                ]
            )
            latest = self._latest_graded(s, course, assignment)
            jobs = self._preload(s, list(latest.values()))
            for (a_slug, username), sub in sorted(latest.items()):
                j = self._submission_json(s, sub, instructor=True, jobs=jobs)
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
            course = self._require(s, person, slug, "instructor")
            assignment = self._assignment(s, course, assignment_slug)
            release = self.current_release(s, assignment)
            latest = list(self._latest_graded(s, course, assignment).values())
            self._preload(s, latest)
            latest = [sub for sub in latest if sub.result]
            scores = [self._totals(sub, sub.result)["score"] for sub in latest]
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
                    if "instructor" in self._roles(s, person, c)
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


def open_gradebook(settings: GraderSettings, upgrade: bool = False) -> Gradebook:
    """The gradebook on the configured database and blob store (schema upgraded if asked)."""
    from grader.service.blobstore import DirectoryBlobStore
    from grader.service.orm import (
        database_revision,
        make_engine,
        make_sessionmaker,
        upgrade_database,
    )

    if upgrade:
        upgrade_database(settings.database_url)
    elif database_revision(settings.database_url) is None:
        raise DatabaseNotReady(
            f"the grader database at {settings.database_url} has no schema: run "
            "`python -m grader db upgrade` first"
        )
    engine = make_engine(settings.database_url)
    return Gradebook(settings, make_sessionmaker(engine), DirectoryBlobStore(settings.blob_dir))


class DatabaseNotReady(Exception):
    """The database is empty or behind the code's schema."""
