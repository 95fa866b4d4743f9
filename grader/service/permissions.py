"""Who may do what in the grader: every access decision, in one module.

A person is who the hub says is calling (grader.service.auth). Their roles in a course
come from their hub groups (``instructors:<course>``, ``learners:<course>``, from the site's
claims) and from enrolments stored here; operators (hub admins, the command line, the
services named in GraderSettings.operator_services) are instructors everywhere.

- Members of a course (learners and instructors) see its releases' student versions,
  lessons and hints. Anyone else gets "does not exist": no enumeration of courses.
- Instructors see the source files, everyone's submissions, grades and graded notebooks
  (which hold the hidden tests), and may release, regrade and grade by hand.
- A learner sees their own submissions only (visible_submission): someone else's answers
  "does not exist", exactly like a missing one.
- Creating courses needs GraderSettings.course_creator_group (or an operator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.service.config import GraderSettings
from grader.service.errors import Forbidden, NotFound
from grader.service.orm import Course, Enrollment, Submission


@dataclass(frozen=True)
class Person:
    """Who is asking, as the hub knows them."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    kind: str = "user"


OPERATOR = Person(name="operator (CLI)", admin=True)


class Permissions:
    """The rules above, applied inside the caller's database session."""

    def __init__(self, settings: GraderSettings, sessions: sessionmaker) -> None:
        self.settings = settings
        self.sessions = sessions

    def course(self, s: Session, slug: str) -> Course:
        course = s.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            raise NotFound(f"course {slug!r} does not exist")
        return course

    def is_operator(self, person: Person) -> bool:
        """Hub admins, the command line, and the services named in operator_services."""
        return person.admin or (
            person.kind == "service" and person.name in self.settings.operator_services
        )

    def roles(self, s: Session, person: Person, course: Course) -> set[str]:
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

    def require(self, s: Session, person: Person, slug: str, role: str) -> Course:
        course = self.course(s, slug)
        roles = self.roles(s, person, course)
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
            return "instructor" in self.roles(s, person, self.course(s, slug))

    def require_course_creator(self, person: Person) -> None:
        if not (self.is_operator(person) or self.settings.course_creator_group in person.groups):
            raise Forbidden(
                f"{person.name} may not create courses: ask an admin to add you to the hub "
                f"group {self.settings.course_creator_group}"
            )

    def visible_submission(
        self, s: Session, person: Person, submission_id: int
    ) -> tuple[Submission, bool]:
        """Who may see this submission: its learner, and the course's instructors."""
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"submission {submission_id} does not exist")
        instructor = "instructor" in self.roles(s, person, sub.assignment.course)
        if not instructor and sub.username != person.name:
            # same answer as for a missing one: a learner cannot probe others' ids
            raise NotFound(f"submission {submission_id} does not exist")
        return sub, instructor

    def require_instructor_of(self, s: Session, person: Person, submission_id: int) -> Submission:
        """The submission, if person teaches its course; else NotFound/Forbidden."""
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"submission {submission_id} does not exist")
        self.require(s, person, sub.assignment.course.slug, "instructor")
        return sub

    def taught_by(self, s: Session, person: Person) -> list[str]:
        """Slugs of the courses person teaches (every course for an operator)."""
        return [c.slug for c in s.scalars(select(Course))
                if "instructor" in self.roles(s, person, c)]
