from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Enrolment


class EnrolmentViewSet(SnippetViewSet):
    """Staff make someone an instructor of a course here (role "Instructor")."""

    model = Enrolment
    icon = "group"
    menu_label = "Enrolments"
    list_display = ["user", "course", "role", "active", "created"]
    list_filter = ["role", "active"]
    add_to_admin_menu = True


register_snippet(EnrolmentViewSet)
