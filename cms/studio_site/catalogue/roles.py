"""Course roles: who teaches and who learns which course, and the `groups` claim of the
OIDC id_token and userinfo that the hub builds its groups from.

- ``admins``: superusers of the site.
- ``editors``: members of Wagtail's Editors or Moderators groups (User.is_editor).
- ``instructors``: an instructor of at least one course; the grader lets this group
  create courses (GraderSettings.course_creator_group).
- ``instructors:<course>``: an instructor of that course (an active Enrolment).
- ``learners:<course>``: enrolled in that course as a learner.
"""

from __future__ import annotations

from .models import Enrolment


def claim_groups(user) -> list[str]:
    groups: list[str] = []
    if user.is_superuser:
        groups.append("admins")
    if user.is_editor:
        groups.append("editors")
    enrolments = list(Enrolment.objects.filter(user=user, active=True)
                      .select_related("course").order_by("course__course_id", "role"))
    if any(e.role == Enrolment.INSTRUCTOR for e in enrolments):
        groups.append("instructors")
    for enrolment in enrolments:
        prefix = "instructors" if enrolment.role == Enrolment.INSTRUCTOR else "learners"
        groups.append(f"{prefix}:{enrolment.course.course_id}")
    return groups


def is_instructor_of(user, course_id: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Enrolment.objects.filter(
        user=user, course__course_id=course_id, role=Enrolment.INSTRUCTOR, active=True
    ).exists()
