"""What the AI drafted that waits for a person: exercises for an instructor, alt text for
an editor."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from wagtail.images import get_image_model_string


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


class AltTextSuggestion(models.Model):
    """Alt text a vision model proposed for one image, for an editor to review. Never the
    image's alt text by itself: an editor puts it into the image's description field (and
    saves), edits it, or dismisses it. A failed attempt at upload is kept with its reason,
    so the image's edit view can say why there is no suggestion."""

    PENDING, USED, DISMISSED, REPLACED, FAILED = (
        "pending", "used", "dismissed", "replaced", "failed")
    STATUSES = [(PENDING, "waiting for review"), (USED, "used by an editor"),
                (DISMISSED, "dismissed"), (REPLACED, "replaced by a newer suggestion"),
                (FAILED, "failed")]

    image = models.ForeignKey(get_image_model_string(), on_delete=models.CASCADE,
                              related_name="alt_text_suggestions")
    text = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=500, blank=True,
                             help_text="Why no suggestion was made (status failed).")
    status = models.CharField(max_length=20, choices=STATUSES, default=PENDING)
    model_name = models.CharField("AI model", max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"alt text for image {self.image_id} ({self.status})"
