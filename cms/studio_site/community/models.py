"""Community: study groups, events with registration, coding challenges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from studio_site.base.validators import validate_course_slug


class StudyGroup(models.Model):
    """People learning together; anyone signed in can create or join one."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(max_length=4000, blank=True)
    course = models.ForeignKey("catalogue.CoursePage", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="study_groups")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="created_groups")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership",
                                     related_name="study_groups")
    max_members = models.PositiveIntegerField(default=30)
    hidden = models.BooleanField(default=False, help_text="Editors hide a group that breaks the rules.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("community:group", args=[self.slug])


class Membership(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class Event(models.Model):
    """A community event (online session, meetup) with limited places."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(max_length=8000, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True, help_text="A room or 'online'.")
    capacity = models.PositiveIntegerField(default=20)
    published = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:event", args=[self.slug])

    @property
    def is_past(self) -> bool:
        return self.starts_at < timezone.now()


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="event_registrations")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_registration")]

    def __str__(self) -> str:
        return f"{self.user} at {self.event}"


class Challenge(models.Model):
    """A coding challenge: a graded assignment on the grader, ranked by its grade events."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(max_length=8000, blank=True)
    course = models.ForeignKey("catalogue.CoursePage", on_delete=models.CASCADE,
                               related_name="challenges")
    assignment_id = models.SlugField(max_length=100, validators=[validate_course_slug],
                                     help_text="The grader's assignment id.")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    live = models.BooleanField(default=True)

    class Meta:
        ordering = ["-opens_at", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:challenge", args=[self.slug])

    def leaderboard(self, limit: int = 50) -> list[dict]:
        """Best score per learner; ties go to whoever reached it first."""
        from studio_site.progress.models import GradeEvent

        events = GradeEvent.objects.filter(
            course_id=self.course.course_id, assignment_id=self.assignment_id
        ).select_related("user", "user__profile")
        if self.opens_at:
            events = events.filter(graded_at__gte=self.opens_at)
        if self.closes_at:
            events = events.filter(graded_at__lte=self.closes_at)
        best: dict[int, object] = {}
        for event in events.order_by("graded_at", "pk"):
            current = best.get(event.user_id)
            if current is None or event.percent > current.percent:
                best[event.user_id] = event
        ranked = sorted(best.values(), key=lambda e: (-e.percent, e.graded_at))[:limit]
        rows = []
        for rank, event in enumerate(ranked, start=1):
            public = getattr(getattr(event.user, "profile", None), "public", True)
            rows.append({
                "rank": rank,
                "name": event.user.display_name() if public else "A learner",
                "score": event.score, "max_score": event.max_score,
                "percent": round(event.percent, 1), "graded_at": event.graded_at,
            })
        return rows
