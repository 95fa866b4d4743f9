"""Per-course progress of a learner: what the dashboard, instructor view and API show."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import GradeEvent


@dataclass
class AssignmentStatus:
    assignment_id: str
    title: str
    max_score: float
    score: float | None = None
    submissions: int = 0

    @property
    def status(self) -> str:
        return "graded" if self.score is not None else "not submitted"


@dataclass
class CourseProgress:
    course_id: str
    title: str
    url: str
    assignments: list[AssignmentStatus] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for a in self.assignments if a.score is not None)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.assignments)) if self.assignments else 0

    @property
    def points(self) -> float:
        return sum(a.score or 0 for a in self.assignments)

    @property
    def max_points(self) -> float:
        return sum(a.max_score for a in self.assignments)


def course_progress(user, course) -> CourseProgress:
    """Latest graded score per assignment (the grader's newest submission counts)."""
    events = GradeEvent.objects.filter(user=user, course_id=course.course_id)
    latest: dict[str, GradeEvent] = {}
    counts: dict[str, int] = {}
    for event in events.order_by("graded_at", "pk"):
        latest[event.assignment_id] = event
        counts[event.assignment_id] = counts.get(event.assignment_id, 0) + 1
    progress = CourseProgress(course.course_id, course.title, course.url)
    for assignment in course.assignments.all():
        event = latest.get(assignment.assignment_id)
        progress.assignments.append(
            AssignmentStatus(
                assignment.assignment_id, assignment.title,
                event.max_score if event else assignment.max_score,
                event.score if event else None,
                counts.get(assignment.assignment_id, 0),
            )
        )
    return progress
