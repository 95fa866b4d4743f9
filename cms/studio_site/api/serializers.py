from __future__ import annotations

from rest_framework import serializers

from studio_site.catalogue.models import Assignment, CoursePage, Lesson
from studio_site.community.models import Challenge, Event, StudyGroup


class LessonSerializer(serializers.ModelSerializer):
    course_id = serializers.CharField(source="course.course_id", read_only=True)
    lab_url = serializers.CharField(read_only=True)

    class Meta:
        model = Lesson
        fields = ["lesson_id", "title", "path", "course_id", "lab_url"]


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["assignment_id", "title", "max_score", "due"]


class CourseSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)
    lab_url = serializers.CharField(read_only=True)
    lessons = LessonSerializer(many=True, read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)

    class Meta:
        model = CoursePage
        fields = ["course_id", "title", "summary", "url", "lab_url", "lessons", "assignments"]


class AssignmentProgressSerializer(serializers.Serializer):
    assignment_id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField()
    submissions = serializers.IntegerField()


class CourseProgressSerializer(serializers.Serializer):
    course_id = serializers.CharField()
    title = serializers.CharField()
    done = serializers.IntegerField()
    percent = serializers.IntegerField()
    points = serializers.FloatField()
    max_points = serializers.FloatField()
    assignments = AssignmentProgressSerializer(many=True)


class StudyGroupSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(source="membership_set.count", read_only=True)
    course_id = serializers.SlugRelatedField(
        source="course", slug_field="course_id", queryset=CoursePage.objects.all(),
        required=False, allow_null=True,
    )

    class Meta:
        model = StudyGroup
        fields = ["slug", "name", "description", "course_id", "max_members", "member_count",
                  "hidden"]
        read_only_fields = ["slug", "hidden"]


class EventSerializer(serializers.ModelSerializer):
    places_left = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["slug", "title", "description", "starts_at", "ends_at", "location",
                  "capacity", "places_left"]

    def get_places_left(self, event: Event) -> int:
        return max(event.capacity - event.registrations.count(), 0)


class ChallengeSerializer(serializers.ModelSerializer):
    course_id = serializers.CharField(source="course.course_id", read_only=True)

    class Meta:
        model = Challenge
        fields = ["slug", "title", "description", "course_id", "assignment_id", "opens_at",
                  "closes_at"]


class SearchResultSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    type = serializers.CharField()
