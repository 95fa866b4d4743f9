"""Releases: what instructors publish and what learners fetch of it.

A learner gets the student version only; the source files and the build (which holds the
hidden tests) go to instructors and to the grading worker, never to a learner."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import tempfile
from pathlib import Path

import nbformat
from sqlalchemy import func, select

from grader.engine.check import check_release_async
from grader.engine.late import LATE_POLICIES
from grader.engine.release import ReleaseBuild, ReleaseError, build_release
from grader.engine.sandbox import SandboxError, SandboxUnavailable
from grader.service.errors import Forbidden, InvalidRequest, NotFound, ReleaseRejected
from grader.service.orm import Assignment, Release, Submission, utcnow
from grader.service.parts import GradebookPart
from grader.service.permissions import Person
from grader.service.records import (
    assignment_of,
    current_release,
    release_json,
    submission_json,
)
from grader.service.uploads import check_slug, parse_due, validate_upload

log = logging.getLogger("grader")



def _int_or_none(value, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{what} must be a whole number, not {value!r}") from None


def _float(value, what: str) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{what} must be a number, not {value!r}") from None


class Releases(GradebookPart):
    """Store releases; list and hand out what each person may have of them."""

    def store(
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
            course = self.permissions.course(s, slug)
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
            return release_json(release, assignment, instructor=True)

    def load_build(self, release: Release):
        return ReleaseBuild.from_json(json.loads(self.blobs.get(release.build_blob)))

    def for_person(self, person: Person, slug: str) -> list[dict]:
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            instructor = "instructor" in self.permissions.roles(s, person, course)
            out = []
            for assignment in sorted(course.assignments, key=lambda a: a.slug):
                if not assignment.releases:
                    continue
                release = assignment.releases[-1]
                item = release_json(release, assignment, instructor)
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
                    latest = submission_json(s, mine[-1], instructor=False)
                    item["status"] = latest["status"]
                    item["latest_submission"] = latest
                else:
                    item["status"] = "not submitted"
                out.append(item)
            return out

    def student_release(self, person: Person, slug: str, assignment_slug: str) -> dict:
        """What a learner fetches: the student version only, never source or tests."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            assignment = assignment_of(s, course, assignment_slug)
            release = current_release(assignment)
            out = release_json(release, assignment, instructor=False)
            out["files"] = self.blobs.get_tree(release.student_tree)
            return out

    def hints(
        self, person: Person, slug: str, assignment_slug: str, notebook: str, cell_id: str
    ) -> dict:
        """The hints of one cell of the student version (``learning_studio.hints`` in its
        metadata), so a learner's Hint button needs one cell, not the whole release."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            assignment = assignment_of(s, course, assignment_slug)
            release = current_release(assignment)
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
            course = self.permissions.require(s, person, slug, "instructor")
            assignment = assignment_of(s, course, assignment_slug)
            release = current_release(assignment)
            out = release_json(release, assignment, instructor=True)
            out["files"] = self.blobs.get_tree(release.source_tree)
            return out

    async def publish(
        self,
        pool,
        person: Person,
        course: str,
        assignment: str,
        files: dict[str, bytes],
        options: dict,
        check: bool | None = None,
    ) -> dict:
        """Build, check and store a new release version; raises ReleaseRejected on a bad one.

        The instructor API (POST .../release) and the command line both publish this way:
        nbgrader's own preprocessors build the student version (grader.engine.release), the
        release check (grader.engine.check) grades both versions in a sandbox, and a release
        whose check fails is refused with its report; nothing is stored then."""
        check_slug(assignment, "assignment")
        # who may release is decided before any work is done
        if not await asyncio.to_thread(self.permissions.is_instructor, person, course):
            raise Forbidden(f"{person.name} is not an instructor of {course}")
        files = validate_upload(files, self.settings)
        if not any(name.endswith(".ipynb") and "/" not in name for name in files):
            raise ReleaseRejected(
                "no notebook at the top of the upload: a release needs the assignment's source "
                "notebooks (NAME.ipynb) in nbgrader's format"
            )
        due_at = parse_due(options.get("due_at"))
        max_submissions = _int_or_none(options.get("max_submissions"), "max_submissions")
        per_hour = _float(options.get("late_penalty_per_hour"), "late_penalty_per_hour")
        with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
            source = Path(tmp) / assignment
            for name, data in files.items():
                target = source / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            try:
                build = await asyncio.to_thread(build_release, source, assignment)
            except ReleaseError as e:
                raise ReleaseRejected(f"the source notebooks are not valid nbgrader notebooks: {e}") from e
        report: dict = {"checked": False}
        if self.settings.check_releases if check is None else check:
            try:
                result = await check_release_async(build, pool)
            except SandboxError as e:
                raise SandboxUnavailable(
                    f"the release could not be checked because the sandbox is unavailable ({e}): "
                    "ask the operator to check Docker and the learner image; nothing was published"
                ) from e
            report = {
                "checked": True,
                "ok": bool(result.ok),
                "non_discriminating": list(result.non_discriminating),
                "failing_in_source": list(result.failing_in_source),
                "messages": list(result.messages),
            }
            if not result.ok:
                problems = []
                if result.failing_in_source:
                    problems.append(
                        "tests that fail on the instructor's own solution: "
                        + ", ".join(result.failing_in_source)
                    )
                if result.non_discriminating:
                    problems.append(
                        "tests the unchanged student version already passes (they do not tell a "
                        "solution from no solution): " + ", ".join(result.non_discriminating)
                    )
                raise ReleaseRejected(
                    "release refused: " + "; ".join(problems or result.messages or ["check failed"]),
                    report,
                )
        return await asyncio.to_thread(
            self.store,
            person.name,
            course,
            assignment,
            files,
            build,
            title=str(options.get("title") or ""),
            due_at=due_at,
            late_policy=str(options.get("late_policy") or "none"),
            late_penalty_per_hour=per_hour,
            max_submissions=max_submissions,
            check_report=report,
        )
