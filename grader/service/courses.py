"""Courses and who is enrolled in them."""

from __future__ import annotations

import logging

from sqlalchemy import select

from grader.service.errors import Conflict, InvalidRequest
from grader.service.orm import Course, Enrollment
from grader.service.parts import GradebookPart
from grader.service.permissions import OPERATOR, Person
from grader.service.uploads import check_slug

log = logging.getLogger("grader")



class Courses(GradebookPart):
    """Create courses, enrol people, list a person's courses."""

    def create(self, person: Person, slug: str, title: str = "") -> dict:
        check_slug(slug, "course")
        self.permissions.require_course_creator(person)
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

    def ensure(self, slug: str, title: str = "") -> None:
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
            course = self.permissions.require(s, person, slug, "instructor")
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

    def for_person(self, person: Person) -> list[dict]:
        with self.sessions() as s:
            out = []
            for course in s.scalars(select(Course).order_by(Course.slug)):
                roles = self.permissions.roles(s, person, course)
                if roles:
                    out.append(
                        {"slug": course.slug, "title": course.title, "roles": sorted(roles)}
                    )
            return out
