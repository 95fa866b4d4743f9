"""Grade-event endpoint (from the grader), learner dashboard and instructor course view."""

from __future__ import annotations

import json
import logging
from datetime import UTC

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio_site.accounts.roles import is_instructor_of
from studio_site.catalogue.models import CoursePage, Enrolment
from studio_site.home.page_cache import purge_page_cache

from .achievements import award_for
from .chart import scores_chart
from .models import GradeEvent
from .records import course_progress
from .signing import SignatureError, verify_signed_body

log = logging.getLogger(__name__)
REQUIRED = ("event", "user", "course", "assignment", "submission_id", "score", "max_score",
            "timestamp")


class GradeEventError(ValueError):
    """The grade event body is not the documented payload."""


def parse_grade_event(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GradeEventError(f"body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise GradeEventError("body must be a JSON object")
    missing = [name for name in REQUIRED if name not in data]
    if missing:
        raise GradeEventError(f"missing fields: {', '.join(missing)}")
    if data["event"] != "grade":
        raise GradeEventError(f"unknown event {data['event']!r}; only 'grade' is accepted")
    for name in ("score", "max_score"):
        if not isinstance(data[name], int | float) or isinstance(data[name], bool):
            raise GradeEventError(f"'{name}' must be a number")
    if data["max_score"] < 0 or data["score"] < 0 or data["score"] > data["max_score"]:
        raise GradeEventError("need 0 <= score <= max_score")
    when = parse_datetime(str(data["timestamp"]))
    if when is None:
        raise GradeEventError("'timestamp' must be ISO 8601, e.g. 2026-11-25T14:00:00Z")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    data["timestamp"] = when
    for name in ("user", "course", "assignment", "submission_id"):
        if not isinstance(data[name], str) or not data[name] or len(data[name]) > 128:
            raise GradeEventError(f"'{name}' must be a non-empty string")
    return data


@csrf_exempt  # server-to-server; the HMAC signature authenticates it
@require_POST
def grade_event(request: HttpRequest) -> JsonResponse:
    try:
        verify_signed_body(request)
    except SignatureError as error:
        log.warning("grade event rejected: %s", error)
        return JsonResponse({"error": str(error)}, status=error.status)
    try:
        data = parse_grade_event(request.body)
    except GradeEventError as error:
        return JsonResponse({"error": str(error)}, status=400)
    context = f"user={data['user']} course={data['course']} assignment={data['assignment']}"
    user = get_user_model().objects.filter(username=data["user"]).first()
    if user is None:
        log.error("grade event for unknown user: %s submission=%s", context, data["submission_id"])
        return JsonResponse({"error": f"no user named {data['user']!r} on the site"}, status=404)
    existing = GradeEvent.objects.filter(submission_id=data["submission_id"]).first()
    if existing is not None:
        return JsonResponse({"status": "duplicate", "id": existing.pk})
    try:
        with transaction.atomic():
            event = GradeEvent.objects.create(
                submission_id=data["submission_id"], user=user, course_id=data["course"],
                assignment_id=data["assignment"], score=float(data["score"]),
                max_score=float(data["max_score"]), graded_at=data["timestamp"],
            )
    except IntegrityError:  # the same submission arrived twice at once
        return JsonResponse({"status": "duplicate"})
    earned = award_for(event)
    purge_page_cache()  # leaderboards show grades
    log.info("grade event %s score=%s/%s", context, event.score, event.max_score)
    return JsonResponse(
        {"status": "recorded", "id": event.pk, "achievements": [a.kind for a in earned]},
        status=201,
    )


@never_cache
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    enrolments = (
        Enrolment.objects.filter(user=user, active=True).select_related("course")
        .order_by("course__title")
    )
    learning = [course_progress(user, e.course) for e in enrolments if e.role == Enrolment.LEARNER]
    teaching = [e.course for e in enrolments if e.role == Enrolment.INSTRUCTOR]
    events = list(GradeEvent.objects.filter(user=user).order_by("graded_at", "pk"))
    return render(request, "progress/dashboard.html", {
        "courses": learning, "teaching": teaching, "chart": scores_chart(events),
        "achievements": user.achievements.all(), "recent": events[-10:][::-1],
    })


@never_cache
@login_required
def instructor_course(request: HttpRequest, course_id: str) -> HttpResponse:
    course = get_object_or_404(CoursePage, course_id=course_id)
    if not is_instructor_of(request.user, course_id):
        raise PermissionDenied("Only this course's instructors can see its learners.")
    learners = (
        Enrolment.objects.filter(course=course, role=Enrolment.LEARNER, active=True)
        .select_related("user").order_by("user__username")
    )
    rows = []
    for enrolment in learners:
        events = list(
            GradeEvent.objects.filter(user=enrolment.user, course_id=course_id).order_by("graded_at")
        )
        rows.append({"user": enrolment.user, "progress": course_progress(enrolment.user, course),
                     "chart": scores_chart(events)})
    return render(request, "progress/instructor_course.html", {"course": course, "rows": rows})
