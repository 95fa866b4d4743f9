"""What the grader's blob store holds, for whom, and removing what nothing refers to.

Every blob the database refers to belongs to a course: its releases (source files, the
student version, the build with the hidden tests), its submissions and their feedback and
graded notebooks, its lessons. A blob nothing refers to is left over from a request that
was refused or failed after its files were stored, or from rows that were deleted; it is
removed once it is older than GraderSettings.blob_retention_seconds, so a file written by
a request still in flight (stored, not yet committed) is never taken.

Operators see every course's bytes (``usage``, `grader blobs usage`); a course's
instructors see their own course by kind and by assignment (``course_usage``,
GET /api/courses/<course>/storage), with what is kept for how long.
"""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import select

from grader.service.blobstore import BlobNotFound
from grader.service.orm import Assignment, Course, Lesson, Release, Submission, SubmissionResult
from grader.service.parts import GradebookPart
from grader.service.permissions import Person

KINDS = ("releases", "submissions", "feedback", "lessons")

# what the grader keeps of each kind, and for how long (nothing of it expires on its own)
KEPT = {
    "releases": "every version, for as long as the course exists: each submission is "
                "graded against the version it was made for",
    "submissions": "every attempt of every learner, unchanged, for as long as the course "
                   "exists",
    "feedback": "the newest grading of each submission; a regrade or feedback you release "
                "replaces it, and the old files are removed as unreferenced",
    "lessons": "the current files of each lesson; replaced or deleted lesson files are "
               "removed as unreferenced",
}


class Storage(GradebookPart):
    """Blob usage per course, and garbage collection (operators)."""

    def references(self) -> dict[str, set[str]]:
        """Every referenced blob (trees and their files) -> the courses referring to it."""
        owners: dict[str, set[str]] = defaultdict(set)
        trees: list[tuple[str, str]] = []
        with self.sessions() as s:
            releases = s.execute(
                select(Course.slug, Release.source_tree, Release.student_tree, Release.build_blob)
                .join(Assignment, Release.assignment_id == Assignment.id)
                .join(Course, Assignment.course_id == Course.id))
            for course, source, student, build in releases:
                trees += [(course, source), (course, student)]
                owners[build].add(course)
            submissions = s.execute(
                select(Course.slug, Submission.tree)
                .join(Assignment, Submission.assignment_id == Assignment.id)
                .join(Course, Assignment.course_id == Course.id))
            trees += [(course, tree) for course, tree in submissions]
            results = s.execute(
                select(Course.slug, SubmissionResult.feedback, SubmissionResult.graded_notebooks)
                .join(Submission, SubmissionResult.submission_id == Submission.id)
                .join(Assignment, Submission.assignment_id == Assignment.id)
                .join(Course, Assignment.course_id == Course.id))
            for course, feedback, graded in results:
                for sha in [*(feedback or {}).values(), *(graded or {}).values()]:
                    owners[sha].add(course)
            lessons = s.execute(
                select(Course.slug, Lesson.files_tree).join(Course, Lesson.course_id == Course.id))
            trees += [(course, tree) for course, tree in lessons]
        for course, tree in trees:
            owners[tree].add(course)
            if self.blobs.exists(tree):
                for sha in self.blobs.tree_manifest(tree).values():
                    owners[sha].add(course)
        return owners

    def usage(self) -> dict:
        """Bytes stored per course (a blob two courses share counts for each), and in all."""
        owners = self.references()
        per_course: dict[str, int] = defaultdict(int)
        total = unreferenced = 0
        for sha, size, _ in self.blobs.stored():
            total += size
            if sha not in owners:
                unreferenced += size
            for course in owners.get(sha, ()):
                per_course[course] += size
        return {"courses": dict(sorted(per_course.items())), "total_bytes": total,
                "unreferenced_bytes": unreferenced}

    def collect_garbage(self, older_than: float | None = None, dry_run: bool = False) -> dict:
        """Remove blobs nothing refers to that are older than the retention."""
        retention = self.settings.blob_retention_seconds if older_than is None else older_than
        cutoff = time.time() - retention
        # read the references after listing: a blob stored and committed in between is
        # then either referenced or too new to take
        candidates = [(sha, size) for sha, size, mtime in self.blobs.stored() if mtime < cutoff]
        owners = self.references()
        removed = [(sha, size) for sha, size in candidates if sha not in owners]
        if not dry_run:
            for sha, _ in removed:
                self.blobs.delete(sha)
        return {"removed": len(removed), "removed_bytes": sum(size for _, size in removed),
                "dry_run": dry_run, "retention_seconds": retention}

    def course_usage(self, person: Person, slug: str) -> dict:
        """One course's stored bytes and files by kind and by assignment (its instructors).

        A file is stored once however often it is uploaded, so each kind counts its distinct
        files, and total_bytes counts each file of the course once: a data file both
        released and submitted is in both kinds but once in the total. Bytes include the
        small manifests that name the files of each release, submission and lesson; files
        does not count them. The course's total is what `grader blobs usage` shows for it.
        """
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            assignments = list(s.scalars(
                select(Assignment).where(Assignment.course_id == course.id)
                .order_by(Assignment.slug)))
            in_course = Assignment.course_id == course.id
            releases = s.execute(
                select(Release.assignment_id, Release.source_tree, Release.student_tree,
                       Release.build_blob)
                .join(Assignment, Release.assignment_id == Assignment.id).where(in_course)).all()
            submissions = s.execute(
                select(Submission.assignment_id, Submission.username, Submission.tree)
                .join(Assignment, Submission.assignment_id == Assignment.id)
                .where(in_course)).all()
            results = s.execute(
                select(Submission.assignment_id, SubmissionResult.feedback,
                       SubmissionResult.graded_notebooks)
                .join(Submission, SubmissionResult.submission_id == Submission.id)
                .join(Assignment, Submission.assignment_id == Assignment.id)
                .where(in_course)).all()
            lessons = list(s.scalars(
                select(Lesson.files_tree).where(Lesson.course_id == course.id)))

        usage = _Usage(self.blobs)
        for assignment_id, source, student, build in releases:
            usage.add(assignment_id, "releases", trees=(source, student), files=(build,))
        for assignment_id, _, tree in submissions:
            usage.add(assignment_id, "submissions", trees=(tree,))
        for assignment_id, feedback, graded in results:
            usage.add(assignment_id, "feedback",
                      files=[*(feedback or {}).values(), *(graded or {}).values()])
        for tree in lessons:
            usage.add(None, "lessons", trees=(tree,))

        counts = {
            "releases": _count_by(releases), "submissions": _count_by(submissions),
            "feedback": _count_by(results), "lessons": {None: len(lessons)},
        }
        learners: dict[int, set[str]] = defaultdict(set)
        for assignment_id, username, _ in submissions:
            learners[assignment_id].add(username)

        def kind(key, name: str) -> dict:
            out = {"count": sum(counts[name].values()) if key is _ALL
                   else counts[name].get(key, 0), **usage.measure(key, name)}
            if name == "submissions":
                out["learners"] = len(set().union(*learners.values()) if key is _ALL
                                      else learners.get(key, set()))
            return out

        per_assignment = [
            {"assignment": a.slug, "title": a.title or a.slug,
             "total_bytes": usage.total(a.id),
             **{name: kind(a.id, name) for name in KINDS if name != "lessons"}}
            for a in assignments
        ]
        return {
            "course": slug,
            "total_bytes": usage.total(_ALL),
            "files": usage.files(_ALL),
            "kinds": {name: kind(_ALL, name) for name in KINDS},
            "assignments": per_assignment,
            "missing_files": len(usage.missing),
            "kept": dict(KEPT),
            "unreferenced_removed_after_seconds": self.settings.blob_retention_seconds,
            "collection_interval_seconds": self.settings.blob_gc_interval,
        }


_ALL = object()  # course_usage: every assignment (and the lessons) together


def _count_by(rows) -> dict:
    out: dict = defaultdict(int)
    for row in rows:
        out[row[0]] += 1
    return out


class _Usage:
    """The blobs of one course, by (assignment, kind): manifests and the files they name."""

    def __init__(self, blobs) -> None:
        self.blobs = blobs
        self.sets: dict[tuple, set[str]] = defaultdict(set)
        self.manifests: set[str] = set()
        self.sizes: dict[str, int] = {}
        self.missing: set[str] = set()
        self._trees: dict[str, list[str]] = {}

    def _tree_files(self, tree: str) -> list[str]:
        if tree not in self._trees:
            try:
                self._trees[tree] = list(self.blobs.tree_manifest(tree).values())
            except BlobNotFound:
                self.missing.add(tree)
                self._trees[tree] = []
        return self._trees[tree]

    def add(self, assignment_id, kind: str, trees=(), files=()) -> None:
        blobs = self.sets[(assignment_id, kind)]
        for tree in trees:
            self.manifests.add(tree)
            blobs.add(tree)
            blobs.update(self._tree_files(tree))
        blobs.update(f for f in files if f)

    def _blobs(self, key, kind: str | None = None) -> set[str]:
        return set().union(*(
            shas for (assignment_id, k), shas in self.sets.items()
            if (key is _ALL or assignment_id == key) and (kind is None or k == kind)))

    def _size(self, sha: str) -> int:
        if sha not in self.sizes:
            try:
                self.sizes[sha] = self.blobs.size(sha)
            except BlobNotFound:
                self.missing.add(sha)
                self.sizes[sha] = 0
        return self.sizes[sha]

    def measure(self, key, kind: str) -> dict:
        shas = self._blobs(key, kind)
        return {"files": len(shas - self.manifests),
                "bytes": sum(self._size(sha) for sha in shas)}

    def total(self, key) -> int:
        return sum(self._size(sha) for sha in self._blobs(key))

    def files(self, key) -> int:
        return len(self._blobs(key) - self.manifests)
