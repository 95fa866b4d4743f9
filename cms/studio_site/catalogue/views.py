from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio_site.base.signing import BadSignature, verify_signed_request

from .models import CoursePage, Enrolment
from .sync import CatalogueError, sync_catalogue

log = logging.getLogger(__name__)


@login_required
@require_POST
def enrol(request: HttpRequest, course_id: str) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live().public(), course_id=course_id)
    enrolment, created = Enrolment.objects.get_or_create(
        user=request.user, course=course, role=Enrolment.LEARNER, defaults={"active": True}
    )
    if not enrolment.active:
        enrolment.active = True
        enrolment.save(update_fields=["active"])
    log.info("enrol user=%s course=%s", request.user.username, course_id)
    messages.success(
        request,
        f"You are enrolled in {course.title}. Open JupyterLab to start (if it is already "
        "open, log out of it and in again so it sees your new course).",
    )
    return redirect(course.url)


@login_required
@require_POST
def unenrol(request: HttpRequest, course_id: str) -> HttpResponse:
    course = get_object_or_404(CoursePage, course_id=course_id)
    Enrolment.objects.filter(
        user=request.user, course=course, role=Enrolment.LEARNER
    ).update(active=False)
    log.info("unenrol user=%s course=%s", request.user.username, course_id)
    messages.success(request, f"You left {course.title}. Your grades are kept.")
    return redirect(course.url)


@csrf_exempt  # server-to-server, authenticated by the HMAC signature instead
@require_POST
def sync_endpoint(request: HttpRequest) -> JsonResponse:
    """The course import pushes its catalogue here, signed like grade events."""
    try:
        verify_signed_request(request)
    except BadSignature as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    try:
        report = sync_catalogue(json.loads(request.body))
    except json.JSONDecodeError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    except CatalogueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"created": report.created, "updated": report.updated,
                         "unknown_instructors": report.unknown_instructors})
