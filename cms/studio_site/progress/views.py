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

from studio_contracts.events import InvalidGradeEvent, validate_grade_event
from studio_site.base.page_cache import purge_page_cache, session_cacheable
from studio_site.base.signing import BadSignature, verify_signed_request
from studio_site.catalogue.models import CoursePage, Enrolment
from studio_site.catalogue.roles import is_instructor_of

from .achievements import award_for
from .chart import scores_chart
from .models import GradeEvent
from .records import course_progress

log = logging.getLogger(__name__)


class GradeEventError(ValueError):
    """The grade event body is not the grader's documented payload."""


def parse_grade_event(body: bytes) -> dict:
    """The grade event in body, checked against studio_contracts' grade_event.schema.json,
    with `graded_at` as an aware datetime and `submission_id` as the stored text key."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GradeEventError(f"body is not JSON: {error}") from error
    try:
        validate_grade_event(data)
    except InvalidGradeEvent as error:
        raise GradeEventError(str(error)) from None
    data["submission_id"] = str(data["submission_id"])
    if data["status"] != "graded":
        return data  # queued, grading or failed: nothing to record yet
    # What the schema cannot say: the score's range, and a date-time we can store.
    if data["score"] > data["max_score"]:
        raise GradeEventError("grade event score: need 0 <= score <= max_score")
    when = parse_datetime(data["graded_at"])
    if when is None:
        raise GradeEventError(
            "grade event graded_at: must be ISO 8601, e.g. 2026-11-25T14:00:00Z")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    data["graded_at"] = when
    return data


@csrf_exempt  # server-to-server; the HMAC signature authenticates it
@require_POST
def grade_event(request: HttpRequest) -> JsonResponse:
    """A graded submission (or a changed grade) from the grader; idempotent per submission."""
    try:
        verify_signed_request(request)
    except BadSignature as error:
        log.warning("grade event rejected: %s", error)
        return JsonResponse({"error": str(error)}, status=error.status)
    try:
        data = parse_grade_event(request.body)
    except GradeEventError as error:
        return JsonResponse({"error": str(error)}, status=400)
    context = (f"user={data['username']} course={data['course']} "
               f"assignment={data['assignment']} delivery={data['delivery_id']}")
    if data["status"] != "graded":
        return JsonResponse({"status": "ignored", "reason": f"status {data['status']}"})
    user = get_user_model().objects.filter(username=data["username"]).first()
    if user is None:
        # A hub user with no site account (the hub's own demo login): say so, do not retry.
        log.error("grade event for unknown user: %s submission=%s", context,
                  data["submission_id"])
        return JsonResponse({"status": "ignored",
                             "reason": f"no user named {data['username']!r} on the site"})
    fields = {"user": user, "course_id": data["course"], "assignment_id": data["assignment"],
              "score": float(data["score"]), "max_score": float(data["max_score"]),
              "graded_at": data["graded_at"]}
    try:
        with transaction.atomic():
            event, created = GradeEvent.objects.select_for_update().get_or_create(
                submission_id=data["submission_id"], defaults=fields)
            changed = not created and (event.score, event.max_score) != (
                fields["score"], fields["max_score"])
            if changed:  # a regrade or a manual grade
                for name, value in fields.items():
                    setattr(event, name, value)
                event.save()
    except IntegrityError:  # the same submission arrived twice at once
        return JsonResponse({"status": "duplicate"})
    if not created and not changed:
        return JsonResponse({"status": "duplicate", "id": event.pk})
    earned = award_for(event)
    purge_page_cache()  # leaderboards show grades
    log.info("grade event %s score=%s/%s (%s)", context, event.score, event.max_score,
             "new" if created else "updated")
    return JsonResponse(
        {"status": "recorded" if created else "updated", "id": event.pk,
         "achievements": [a.kind for a in earned]},
        status=201 if created else 200,
    )


@session_cacheable  # only her own rows: kept for her session, dropped when they change
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
