"""The AI assistant page in the Wagtail admin: draft a whole post; graded exercises.

A graded exercise holds its solutions and hidden tests, so it is not drafted here, where
every editor would see them: the course's instructors draft it in JupyterLab ("Draft an
exercise with AI"), the grader keeps it for them alone, and it is released through the
release check. This page tells an editor who teaches the course where to go, and an editor
who teaches none that only instructors can. The AI controls inside the page editor are in
editor_api.py. Errors become messages here; nothing breaks."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from studio_site.catalogue.models import CoursePage
from studio_site.catalogue.roles import is_instructor_of

from . import drafting
from .client import HOW_TO_TURN_ON, AIDraftingError, AIOff, ai_enabled
from .forms import DraftPostForm, ExerciseForm

ONLY_INSTRUCTORS = (
    "Only instructors of a course can generate its graded exercises: an exercise holds its "
    "solutions and hidden tests, which only the course's instructors may see. Ask an admin "
    "to make you an instructor of the course (Enrolment, role Instructor)."
)


def taught_courses(user):
    """The courses user may draft graded exercises for (every course for a superuser)."""
    courses = CoursePage.objects.order_by("title")
    if user.is_superuser:
        return courses
    return courses.filter(enrolments__user=user, enrolments__role="instructor",
                          enrolments__active=True).distinct()


def jupyterlab_url() -> str:
    """The instructor's own JupyterLab, through the hub (which starts it if needed)."""
    return f"{settings.HUB_URL}/hub/user-redirect/lab"


def assistant(request: HttpRequest) -> HttpResponse:
    courses = taught_courses(request.user)
    return TemplateResponse(request, "ai/assistant.html", {
        "ai_on": ai_enabled(), "how_to": HOW_TO_TURN_ON,
        "post_form": DraftPostForm(), "exercise_form": ExerciseForm(courses=courses),
        "teaches": courses.exists(), "only_instructors": ONLY_INSTRUCTORS,
        "lab_url": jupyterlab_url(),
    })


def _fail(request: HttpRequest, error: Exception, back: str) -> HttpResponse:
    messages.error(request, str(error))
    return redirect(back)


@require_POST
def draft_post(request: HttpRequest) -> HttpResponse:
    form = DraftPostForm(request.POST)
    if not form.is_valid():
        return _fail(request, Exception("Give a topic (500 characters at most)."), "ai:assistant")
    try:
        page = drafting.draft_blog_post(form.cleaned_data["topic"], request.user)
    except (AIOff, AIDraftingError) as error:
        return _fail(request, error, "ai:assistant")
    messages.success(request, "Draft post created. Review it, then publish it yourself.")
    return redirect("wagtailadmin_pages:edit", page.pk)


@require_POST
def exercise(request: HttpRequest) -> HttpResponse:
    """Graded exercises: the course's instructors draft them in JupyterLab (see above)."""
    courses = taught_courses(request.user)
    if not courses.exists():
        return _fail(request, Exception(ONLY_INSTRUCTORS), "ai:assistant")
    form = ExerciseForm(request.POST, courses=courses)
    if not form.is_valid():
        return _fail(request, Exception("Choose a course you teach."), "ai:assistant")
    course = form.cleaned_data["course"]
    if not is_instructor_of(request.user, course.course_id):  # the form allows only these
        return _fail(request, Exception(ONLY_INSTRUCTORS), "ai:assistant")
    messages.success(request, (
        f"Open it in JupyterLab: {jupyterlab_url()} , then in the Courses panel press "
        f"'Draft an exercise with AI...' under {course.title} ({course.course_id}). "
        "The draft, with its solutions and hidden tests, goes to that course's source folder, "
        "where only its instructors see it; releasing it runs the release check."
    ))
    return redirect("ai:assistant")
