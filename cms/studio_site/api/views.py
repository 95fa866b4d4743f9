"""REST API v1: courses, lessons, progress, community, search."""

from __future__ import annotations

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from wagtail.models import Page

from studio_site.catalogue.models import CoursePage, Enrolment, Lesson
from studio_site.catalogue.roles import claim_groups
from studio_site.community.models import Challenge, Event, Membership, StudyGroup
from studio_site.community.views import EventFull, register_for_event
from studio_site.progress.records import course_progress

from .permissions import IsOwnerOrEditor, OAuthScopeIfToken, can_see_course_progress
from .serializers import (
    ChallengeSerializer,
    CourseProgressSerializer,
    CourseSerializer,
    EventSerializer,
    LessonSerializer,
    SearchResultSerializer,
    StudyGroupSerializer,
)

BASE_PERMISSIONS = [OAuthScopeIfToken, IsAuthenticatedOrReadOnly]


class CourseViewSet(viewsets.ReadOnlyModelViewSet):
    """Published courses with their lessons and assignments; POST enrol/ to join one."""

    serializer_class = CourseSerializer
    lookup_field = "course_id"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    permission_classes = BASE_PERMISSIONS

    def get_queryset(self):
        return (CoursePage.objects.live().public().order_by("title")
                .prefetch_related("lessons", "assignments"))

    @extend_schema(request=None, responses={201: None})
    @action(detail=True, methods=["post"], permission_classes=[OAuthScopeIfToken, IsAuthenticated])
    def enrol(self, request, course_id=None):
        course = self.get_object()
        enrolment, created = Enrolment.objects.get_or_create(
            user=request.user, course=course, role=Enrolment.LEARNER
        )
        if not enrolment.active:
            enrolment.active = True
            enrolment.save(update_fields=["active"])
            created = True
        return Response({"course_id": course.course_id, "role": "learner"},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class LessonViewSet(viewsets.ReadOnlyModelViewSet):
    """Lessons of published courses (?course=<course_id> to filter)."""

    serializer_class = LessonSerializer
    permission_classes = BASE_PERMISSIONS

    def get_queryset(self):
        lessons = Lesson.objects.filter(course__live=True).select_related("course")
        course = self.request.query_params.get("course")
        if course:
            lessons = lessons.filter(course__course_id=course)
        return lessons.order_by("course__course_id", "sort_order")


class ProgressViewSet(viewsets.ViewSet):
    """Your progress in your courses; instructors read their learners' by course."""

    permission_classes = [OAuthScopeIfToken, IsAuthenticated]
    lookup_field = "course_id"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    @extend_schema(responses=CourseProgressSerializer(many=True))
    def list(self, request):
        enrolments = Enrolment.objects.filter(
            user=request.user, role=Enrolment.LEARNER, active=True
        ).select_related("course")
        data = [course_progress(request.user, e.course) for e in enrolments]
        return Response(CourseProgressSerializer(data, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("course_id", str, OpenApiParameter.PATH)],
        responses=None,
    )
    def retrieve(self, request, course_id=None):
        course = get_object_or_404(CoursePage, course_id=course_id)
        if not can_see_course_progress(request.user, course_id):
            if Enrolment.objects.filter(user=request.user, course=course, active=True).exists():
                return Response(CourseProgressSerializer(course_progress(request.user, course)).data)
            raise PermissionDenied("Only this course's instructors can read its learners' progress.")
        learners = Enrolment.objects.filter(
            course=course, role=Enrolment.LEARNER, active=True
        ).select_related("user").order_by("user__username")
        return Response({
            "course_id": course.course_id,
            "learners": [
                {"username": e.user.username,
                 "progress": CourseProgressSerializer(course_progress(e.user, course)).data}
                for e in learners
            ],
        })


class StudyGroupViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin,
                        viewsets.ReadOnlyModelViewSet):
    """Study groups; members join with POST join/. Editors may hide any group (moderation)."""

    serializer_class = StudyGroupSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    permission_classes = [*BASE_PERMISSIONS, IsOwnerOrEditor]

    def get_queryset(self):
        groups = StudyGroup.objects.order_by("name")
        user = self.request.user
        if not (user.is_authenticated and user.is_editor):
            groups = groups.filter(hidden=False)
        return groups

    def perform_create(self, serializer):
        base = slugify(serializer.validated_data["name"])[:100] or "group"
        slug, n = base, 1
        while StudyGroup.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        group = serializer.save(created_by=self.request.user, slug=slug)
        Membership.objects.create(group=group, user=self.request.user)

    def perform_update(self, serializer):
        hidden = self.request.data.get("hidden")
        extra = {}
        if hidden is not None:
            if not self.request.user.is_editor:
                raise PermissionDenied("Only editors can hide or show a group.")
            extra["hidden"] = str(hidden).lower() in {"1", "true", "yes"}
        serializer.save(**extra)

    @extend_schema(request=None, responses=None)
    @action(detail=True, methods=["post"])
    def join(self, request, slug=None):
        group = self.get_object()
        if group.membership_set.count() >= group.max_members:
            raise ValidationError("This group is full.")
        Membership.objects.get_or_create(group=group, user=request.user)
        return Response({"joined": group.slug})


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EventSerializer
    lookup_field = "slug"
    permission_classes = BASE_PERMISSIONS

    def get_queryset(self):
        return Event.objects.filter(published=True).order_by("starts_at")

    @extend_schema(request=None, responses=None)
    @action(detail=True, methods=["post"], permission_classes=[OAuthScopeIfToken, IsAuthenticated])
    def register(self, request, slug=None):
        event = self.get_object()
        if event.starts_at < timezone.now():
            raise ValidationError("This event has already started.")
        try:
            register_for_event(event.pk, request.user)
        except EventFull as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        except IntegrityError:
            pass
        return Response({"registered": event.slug}, status=status.HTTP_201_CREATED)


class ChallengeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ChallengeSerializer
    lookup_field = "slug"
    permission_classes = BASE_PERMISSIONS

    def get_queryset(self):
        return Challenge.objects.filter(live=True).select_related("course")

    @extend_schema(responses=None)
    @action(detail=True, methods=["get"])
    def leaderboard(self, request, slug=None):
        return Response(self.get_object().leaderboard())


@extend_schema(
    parameters=[OpenApiParameter("q", str, description="Search words")],
    responses=SearchResultSerializer(many=True),
)
@api_view(["GET"])
@permission_classes([OAuthScopeIfToken])
def search(request):
    """Full-text search over published pages (posts, tutorials, courses)."""
    query = request.query_params.get("q", "").strip()
    if not query:
        raise ValidationError({"q": "Give some words to search for, e.g. ?q=pandas"})
    results = Page.objects.live().public().specific().search(query)[:50]
    data = [{"title": p.title, "url": p.url, "type": p.specific_class.__name__} for p in results]
    return Response({"count": len(data), "results": SearchResultSerializer(data, many=True).data})


@extend_schema(responses=None)
@api_view(["GET"])
@permission_classes([OAuthScopeIfToken, IsAuthenticated])
def me(request):
    """Who you are and your roles (the same `groups` the hub receives)."""
    user = request.user
    return Response({"username": user.username, "email": user.email,
                     "name": user.display_name(), "groups": claim_groups(user)})
