"""What the grader's blob store holds, for whom, and removing what nothing refers to.

Every blob the database refers to belongs to a course: its releases (source files, the
student version, the build with the hidden tests), its submissions and their feedback and
graded notebooks, its lessons. A blob nothing refers to is left over from a request that
was refused or failed after its files were stored, or from rows that were deleted; it is
removed once it is older than GraderSettings.blob_retention_seconds, so a file written by
a request still in flight (stored, not yet committed) is never taken.
"""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import select

from grader.service.orm import Assignment, Course, Lesson, Release, Submission, SubmissionResult
from grader.service.parts import GradebookPart


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
