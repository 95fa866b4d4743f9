"""The course catalogue: a page per grader course, its lessons and assignments, enrolments."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.search import index

from studio_site.base.validators import validate_course_slug


def lab_url(course_id: str, path: str = "") -> str:
    """Link that opens JupyterLab on the hub at courses/<course>/<path>."""
    tail = f"courses/{course_id}/{path}".rstrip("/")
    return f"{settings.HUB_URL}/hub/user-redirect/lab/tree/{quote(tail)}"


class CatalogueIndexPage(Page):
    """/courses/: every published course."""

    intro = models.TextField(blank=True)
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["catalogue.CoursePage"]
    parent_page_types = ["home.HomePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["courses"] = (
            CoursePage.objects.child_of(self).live().public().order_by("title")
            .prefetch_related("lessons", "assignments")
        )
        return context


class CoursePage(Page):
    """A course as the grader knows it (`course_id`), kept in step by `sync_catalogue`."""

    course_id = models.SlugField(
        max_length=64, unique=True, validators=[validate_course_slug],
        help_text="The grader's course id (folder name)."
    )
    summary = models.CharField(max_length=300, blank=True)
    description = RichTextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    content_panels = [
        *Page.content_panels,
        FieldPanel("course_id"),
        FieldPanel("summary"),
        FieldPanel("description"),
        InlinePanel("lessons", label="Lessons"),
        InlinePanel("assignments", label="Assignments"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("description"),
        index.FilterField("course_id"),
    ]
    parent_page_types = ["catalogue.CatalogueIndexPage"]
    subpage_types: list[str] = []

    def lab_url(self) -> str:
        return lab_url(self.course_id)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        enrolment = None
        if request.user.is_authenticated:
            enrolment = Enrolment.objects.filter(user=request.user, course=self, active=True).first()
        context["enrolment"] = enrolment
        context["challenges"] = self.challenges.filter(live=True)
        return context


class Lesson(Orderable):
    """A lesson notebook of a course, opened in JupyterLab."""

    course = ParentalKey(CoursePage, on_delete=models.CASCADE, related_name="lessons")
    lesson_id = models.SlugField(max_length=100, validators=[validate_course_slug])
    title = models.CharField(max_length=200)
    path = models.CharField(
        max_length=300, blank=True, help_text="Notebook path inside the course folder."
    )

    panels = [FieldPanel("lesson_id"), FieldPanel("title"), FieldPanel("path")]

    def lab_url(self) -> str:
        """Opens the lesson in the learner's JupyterLab, fetching it there first (the
        JupyterLab extension's open page, through the hub's user-redirect)."""
        return (f"{settings.HUB_URL}/hub/user-redirect/learning-studio/open/"
                f"{quote(self.course.course_id)}/{quote(self.lesson_id)}")

    def __str__(self) -> str:
        return self.title


class Assignment(Orderable):
    """A graded assignment of a course (released and graded by the grader)."""

    course = ParentalKey(CoursePage, on_delete=models.CASCADE, related_name="assignments")
    assignment_id = models.SlugField(max_length=100, validators=[validate_course_slug])
    title = models.CharField(max_length=200)
    max_score = models.FloatField(default=0)
    due = models.DateTimeField(null=True, blank=True)

    panels = [FieldPanel("assignment_id"), FieldPanel("title"), FieldPanel("max_score"),
              FieldPanel("due")]

    def lab_url(self) -> str:
        return lab_url(self.course.course_id, self.assignment_id)

    def __str__(self) -> str:
        return f"{self.course.course_id}/{self.assignment_id}"


class Enrolment(models.Model):
    """A person's place in a course: learner (Enrol button) or instructor (set by staff).

    Active enrolments are issued to the hub as `learners:<course>` / `instructors:<course>`
    in the OIDC `groups` claim.
    """

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ROLES = [(LEARNER, "Learner"), (INSTRUCTOR, "Instructor")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="enrolments")
    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="enrolments")
    role = models.CharField(max_length=20, choices=ROLES, default=LEARNER)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course", "role"], name="one_role_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} in {self.course.course_id}"
