"""Progress: grade events from the grader and the achievements they earn."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class GradeEvent(models.Model):
    """One graded submission, as reported by the grader (idempotent by submission_id)."""

    submission_id = models.CharField(max_length=128, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="grade_events")
    course_id = models.CharField(max_length=64, db_index=True)
    assignment_id = models.CharField(max_length=100)
    score = models.FloatField()
    max_score = models.FloatField()
    graded_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["graded_at", "pk"]
        indexes = [models.Index(fields=["user", "course_id", "assignment_id"])]

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def is_perfect(self) -> bool:
        return self.max_score > 0 and self.score >= self.max_score

    def __str__(self) -> str:
        return f"{self.user} {self.course_id}/{self.assignment_id}: {self.score}/{self.max_score}"


class Achievement(models.Model):
    """A badge a learner earned; `course_id` is empty for site-wide ones."""

    FIRST_SUBMISSION = "first_submission"
    FIRST_PERFECT = "first_perfect"
    STREAK = "streak_3_days"
    COURSE_FINISHED = "course_finished"
    KINDS = [
        (FIRST_SUBMISSION, "First submission"),
        (FIRST_PERFECT, "First perfect score"),
        (STREAK, "Three-day streak"),
        (COURSE_FINISHED, "Finished a course"),
    ]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="achievements")
    kind = models.CharField(max_length=32, choices=KINDS)
    course_id = models.CharField(max_length=64, blank=True, default="")
    awarded_at = models.DateTimeField()

    class Meta:
        ordering = ["awarded_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "course_id"], name="one_award_each")
        ]

    def __str__(self) -> str:
        suffix = f" ({self.course_id})" if self.course_id else ""
        return f"{self.get_kind_display()}{suffix}"
