"""Who may do what through the API."""

from __future__ import annotations

from oauth2_provider.models import AbstractAccessToken
from rest_framework.permissions import SAFE_METHODS, BasePermission

from studio_site.accounts.models import PersonalApiToken
from studio_site.catalogue.roles import is_instructor_of


class OAuthScopeIfToken(BasePermission):
    """Tokens need `read` for reads and `write` for changes: OAuth2 access tokens and
    personal API tokens alike.

    Session requests act with the user's full rights (the user logged in themself).
    """

    message = "This token lacks the scope for this request ('read' or 'write')."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        needed = "read" if request.method in SAFE_METHODS else "write"
        if isinstance(token, AbstractAccessToken):
            return token.allow_scopes([needed])
        if isinstance(token, PersonalApiToken):
            return token.allows(needed)
        return True


class IsEditorOrReadOnly(BasePermission):
    message = "Only editors can change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_editor)


class IsOwnerOrEditor(BasePermission):
    """Changing a study group: its creator, or an editor (moderation)."""

    message = "Only the group's creator or an editor can change it."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return user.is_authenticated and (obj.created_by_id == user.pk or user.is_editor)


def can_see_course_progress(user, course_id: str) -> bool:
    """Instructors of the course and admins; editors are not teachers."""
    return is_instructor_of(user, course_id)
