"""AI-drafted exercises waiting for an instructor's review."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExerciseDraft(models.Model):
    """An nbgrader source notebook the site's old exercise generator drafted. Retired: no
    longer written, and no page shows or offers it, because its solutions were open to
    every editor. Graded exercises are drafted in JupyterLab by the course's instructors
    and kept by the grader (grader/service/drafts.py)."""

    title = models.CharField(max_length=200)
    topic = models.TextField(max_length=2000)
    course = models.ForeignKey("catalogue.CoursePage", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="exercise_drafts")
    assignment_id = models.SlugField(max_length=100)
    notebook = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    reviewed = models.BooleanField(default=False, help_text="Ticked by the instructor after review.")

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.title} (draft)"
