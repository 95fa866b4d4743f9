from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Comment


class CommentViewSet(SnippetViewSet):
    """Editors moderate comments: untick "approved" to hide one, or delete it."""

    model = Comment
    icon = "comment"
    menu_label = "Comments"
    list_display = ["body", "author", "page", "created", "approved"]
    list_filter = ["approved"]
    add_to_admin_menu = True


register_snippet(CommentViewSet)
