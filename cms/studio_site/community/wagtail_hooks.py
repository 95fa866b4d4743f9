"""Editors moderate community content here (hide groups, edit events and challenges)."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Challenge, Event, Registration, StudyGroup


class StudyGroupViewSet(SnippetViewSet):
    model = StudyGroup
    list_display = ["name", "created_by", "hidden", "created"]
    list_filter = ["hidden"]


class EventViewSet(SnippetViewSet):
    model = Event
    list_display = ["title", "starts_at", "capacity", "published"]


class RegistrationViewSet(SnippetViewSet):
    model = Registration
    list_display = ["event", "user", "created"]


class ChallengeViewSet(SnippetViewSet):
    model = Challenge
    list_display = ["title", "course", "assignment_id", "live"]


class CommunityGroup(SnippetViewSetGroup):
    menu_label = "Community"
    menu_icon = "group"
    items = (StudyGroupViewSet, EventViewSet, RegistrationViewSet, ChallengeViewSet)


register_snippet(CommunityGroup)
