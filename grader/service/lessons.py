"""The lessons of a course: readable notebooks (course.yml's ``lessons``) with their files.

An instructor (through the API), a course import (``push_lessons``) or
``python -m grader import`` stores each lesson here; a learner's JupyterLab server lists them and fetches one into
``~/courses/<course>/lessons/`` when the learner opens it. Lessons are not graded, so
every member of the course may read every lesson; only instructors change them.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from sqlalchemy import select

from grader.service.errors import InvalidUpload, NotFound
from grader.service.gradebook import Gradebook, Person, check_slug, iso, validate_upload
from grader.service.orm import Lesson, utcnow

log = logging.getLogger("grader")


class CourseLessons:
    """Stores and serves lessons, with the gradebook's rules of who may do what."""

    def __init__(self, gradebook: Gradebook):
        self.gradebook = gradebook

    def _json(self, lesson: Lesson) -> dict:
        return {
            "slug": lesson.slug,
            "title": lesson.title,
            "position": lesson.position,
            "path": lesson.path,
            "files": list(lesson.files),
            "updated_at": iso(lesson.updated_at),
        }

    def lessons(self, person: Person, slug: str) -> list[dict]:
        """The course's lessons in reading order (any member of the course)."""
        gb = self.gradebook
        with gb.sessions() as s:
            course = gb._require(s, person, slug, "member")
            rows = s.scalars(
                select(Lesson).where(Lesson.course_id == course.id)
                .order_by(Lesson.position, Lesson.slug)
            )
            return [self._json(lesson) for lesson in rows]

    def lesson(self, person: Person, slug: str, lesson_slug: str) -> dict:
        """One lesson with its files (bytes), for a learner's server to write out."""
        gb = self.gradebook
        with gb.sessions() as s:
            course = gb._require(s, person, slug, "member")
            lesson = s.scalar(
                select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
            )
            if lesson is None:
                raise NotFound(f"course {slug} has no lesson {lesson_slug!r}")
            out = self._json(lesson)
            out["files"] = gb.blobs.get_tree(lesson.files_tree)
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
        gb = self.gradebook
        check_slug(lesson_slug, "lesson")
        files = validate_upload(files, gb.settings)
        if not path or not path.endswith(".ipynb") or path not in files:
            raise InvalidUpload(
                f"the lesson's notebook {path!r} is not among the uploaded files "
                f"({', '.join(sorted(files))}): give path=<the notebook's path>, like "
                "lessons/01-intro.ipynb, and upload it"
            )
        tree = gb.blobs.put_tree(files)
        with gb.sessions.begin() as s:
            course = gb._require(s, person, slug, "instructor")
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
        gb = self.gradebook
        with gb.sessions.begin() as s:
            course = gb._require(s, person, slug, "instructor")
            lesson = s.scalar(
                select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
            )
            if lesson is None:
                raise NotFound(f"course {slug} has no lesson {lesson_slug!r}")
            s.delete(lesson)


def push_lessons(session, api: str, course_root: Path, course_slug: str, lessons) -> int:
    """Store a course folder's lessons through the grader's API (what a course import does).

    ``session`` is a ``requests.Session`` carrying an instructor's or operator's token,
    ``api`` the grader's API URL (``…/services/grader/api``), ``lessons`` the manifest's
    lessons (``course.yml`` dicts or ``grader.courses.validate.Lesson``). Each is stored again, so a
    changed lesson arrives; returns how many were stored.
    """
    count = 0
    for position, lesson in enumerate(lessons):
        item = lesson if isinstance(lesson, dict) else vars(lesson)
        names = [item["path"], *item.get("files", ())]
        body = {
            "title": item.get("title") or item["slug"],
            "path": item["path"],
            "position": position,
            "files": {n: base64.b64encode((course_root / n).read_bytes()).decode()
                      for n in names},
        }
        r = session.put(f"{api.rstrip('/')}/courses/{course_slug}/lessons/{item['slug']}",
                        json=body, timeout=60)
        if r.status_code != 200:
            raise LessonImportError(
                f"{course_slug}: storing lesson {item['slug']} failed ({r.status_code}): "
                f"{r.text[:300]}"
            )
        count += 1
    return count


class LessonImportError(Exception):
    """A lesson could not be stored in the grader; the message says which and why."""
