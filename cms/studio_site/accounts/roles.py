"""Roles as the hub sees them: the `groups` claim of the OIDC id_token and userinfo.

- ``admins``: superusers of the site.
- ``editors``: members of Wagtail's Editors or Moderators groups.
- ``instructors``: an instructor of at least one course; the grader lets this group
  create courses (GraderSettings.course_creator_group).
- ``instructors:<course>``: an instructor of that course (catalogue enrolment role).
- ``learners:<course>``: enrolled in that course as a learner.
"""

from __future__ import annotations

from .models import EDITORS_GROUP, MODERATORS_GROUP, User


def claim_groups(user: User) -> list[str]:
    from studio_site.catalogue.models import Enrolment

    groups: list[str] = []
    if user.is_superuser:
        groups.append("admins")
    if user.is_superuser or user.groups.filter(
        name__in=[EDITORS_GROUP, MODERATORS_GROUP]
    ).exists():
        groups.append("editors")
    enrolments = list(Enrolment.objects.filter(user=user, active=True)
                      .select_related("course").order_by("course__course_id", "role"))
    if any(e.role == Enrolment.INSTRUCTOR for e in enrolments):
        groups.append("instructors")
    for enrolment in enrolments:
        prefix = "instructors" if enrolment.role == Enrolment.INSTRUCTOR else "learners"
        groups.append(f"{prefix}:{enrolment.course.course_id}")
    return groups


def is_instructor_of(user: User, course_id: str) -> bool:
    from studio_site.catalogue.models import Enrolment

    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Enrolment.objects.filter(
        user=user, course__course_id=course_id, role=Enrolment.INSTRUCTOR, active=True
    ).exists()
