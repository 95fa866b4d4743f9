"""Award achievements from the grade events a learner has."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction

from .models import Achievement, GradeEvent

STREAK_DAYS = 3


def _award(event: GradeEvent, kind: str, course_id: str = "") -> Achievement | None:
    if Achievement.objects.filter(user=event.user, kind=kind, course_id=course_id).exists():
        return None
    try:
        with transaction.atomic():
            return Achievement.objects.create(
                user=event.user, kind=kind, course_id=course_id, awarded_at=event.graded_at
            )
    except IntegrityError:  # another worker awarded it at the same moment
        return None


def has_streak(days: set, length: int = STREAK_DAYS) -> bool:
    """True when `days` (dates) holds `length` consecutive days."""
    return any(all(day + timedelta(days=n) in days for n in range(length)) for day in days)


def award_for(event: GradeEvent) -> list[Achievement]:
    from studio_site.catalogue.models import CoursePage

    earned: list[Achievement | None] = [_award(event, Achievement.FIRST_SUBMISSION)]
    if event.is_perfect:
        earned.append(_award(event, Achievement.FIRST_PERFECT))
    events = GradeEvent.objects.filter(user=event.user)
    days = {e.graded_at.date() for e in events.only("graded_at")}
    if has_streak(days):
        earned.append(_award(event, Achievement.STREAK))
    course = CoursePage.objects.filter(course_id=event.course_id).first()
    if course is not None:
        required = set(course.assignments.values_list("assignment_id", flat=True))
        done = set(
            events.filter(course_id=event.course_id).values_list("assignment_id", flat=True)
        )
        if required and required <= done:
            earned.append(_award(event, Achievement.COURSE_FINISHED, event.course_id))
    return [a for a in earned if a is not None]
