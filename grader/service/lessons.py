"""The lessons of a course: readable notebooks (course.yml's ``lessons``) with their files.

An instructor (through the API) or a course import (grader.courses) stores each lesson
here; a learner's JupyterLab server lists them and fetches one into
``~/courses/<course>/lessons/`` when the learner opens it. Lessons are not graded, so
every member of the course may read every lesson; only instructors change them.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from grader.service.errors import InvalidUpload, NotFound
from grader.service.orm import Lesson, utcnow
from grader.service.parts import GradebookPart
from grader.service.permissions import Person
from grader.service.records import iso
from grader.service.uploads import check_slug, validate_upload

log = logging.getLogger("grader")


class Lessons(GradebookPart):
    """Stores and serves lessons, with the gradebook's rules of who may do what."""

    def _json(self, lesson: Lesson) -> dict:
        return {
            "slug": lesson.slug,
            "title": lesson.title,
            "position": lesson.position,
            "path": lesson.path,
            "files": list(lesson.files),
            "updated_at": iso(lesson.updated_at),
        }

    def listing(self, person: Person, slug: str) -> list[dict]:
        """The course's lessons in reading order (any member of the course)."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            rows = s.scalars(
                select(Lesson).where(Lesson.course_id == course.id)
                .order_by(Lesson.position, Lesson.slug)
            )
            return [self._json(lesson) for lesson in rows]

    def lesson(self, person: Person, slug: str, lesson_slug: str) -> dict:
        """One lesson with its files (bytes), for a learner's server to write out."""
        with self.sessions() as s:
            course = self.permissions.require(s, person, slug, "member")
            lesson = s.scalar(
                select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
            )
            if lesson is None:
                raise NotFound(f"course {slug} has no lesson {lesson_slug!r}")
            out = self._json(lesson)
            out["files"] = self.blobs.get_tree(lesson.files_tree)
            return out

    def store(
        self,
        person: Person,
        slug: str,
        lesson_slug: str,
        files: dict[str, bytes],
        *,
        path: str,
        title: str = "",
        position: int | None = None,
    ) -> dict:
        """Create or replace a lesson (instructors); ``path`` names its notebook in files."""
        check_slug(lesson_slug, "lesson")
        with self.sessions() as s:
            # who may store lessons is decided before anything is written to the blob store
            self.permissions.require(s, person, slug, "instructor")
        files = validate_upload(files, self.settings)
        if not path or not path.endswith(".ipynb") or path not in files:
            raise InvalidUpload(
                f"the lesson's notebook {path!r} is not among the uploaded files "
                f"({', '.join(sorted(files))}): give path=<the notebook's path>, like "
                "lessons/01-intro.ipynb, and upload it"
            )
        tree = self.blobs.put_tree(files)
        with self.sessions.begin() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            lesson = s.scalar(
                select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
            )
            if lesson is None:
                if position is None:  # a new lesson comes last
                    position = len(s.scalars(
                        select(Lesson.id).where(Lesson.course_id == course.id)).all())
                lesson = Lesson(course_id=course.id, slug=lesson_slug)
                s.add(lesson)
            lesson.title = title or lesson.title or lesson_slug
            if position is not None:
                lesson.position = position
            lesson.path = path
            lesson.files = sorted(files)
            lesson.files_tree = tree
            lesson.updated_by = person.name
            lesson.updated_at = utcnow()
            s.flush()
            log.info("lesson %s stored", lesson_slug, extra={"user": person.name, "course": slug})
            return self._json(lesson)

    def delete(self, person: Person, slug: str, lesson_slug: str) -> None:
        with self.sessions.begin() as s:
            course = self.permissions.require(s, person, slug, "instructor")
            lesson = s.scalar(
                select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
            )
            if lesson is None:
                raise NotFound(f"course {slug} has no lesson {lesson_slug!r}")
            s.delete(lesson)
