"""Personal API tokens: made and revoked by their owner on /accounts/tokens/, used by
scripts as ``Authorization: Bearer lst_<secret>``.

The secret is shown once, when the token is made; the site keeps only its SHA-256, so a
leaked database does not leak working tokens. Apps that act for other people use the
OAuth2 authorization-code flow with PKCE instead (oauth2_provider, /o/).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from .models import PersonalApiToken, User

TOKEN_PREFIX = "lst_"
# last_used is written at most this often per token: a busy script does not write per call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class TokenNameTaken(ValueError):
    """The person already has a token with this name."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, days: int, scope: str = PersonalApiToken.READ
                 ) -> tuple[PersonalApiToken, str]:
    """Make a token; returns it and its secret (the only time the secret is known)."""
    name = name.strip()
    if PersonalApiToken.objects.filter(user=user, name=name).exists():
        raise TokenNameTaken(f"You already have a token named {name!r}: pick another name, "
                             "or revoke that one first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalApiToken.objects.create(
        user=user, name=name, digest=digest(secret), prefix=secret[:10], scope=scope,
        expires=timezone.now() + dt.timedelta(days=days),
    )
    return token, secret


def find_token(secret: str) -> PersonalApiToken:
    """The live token for secret, or AuthenticationFailed saying why not."""
    token = PersonalApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
    if token is None:
        raise AuthenticationFailed("Unknown or revoked API token: make a new one on "
                                   "/accounts/tokens/.")
    now = timezone.now()
    if token.expires <= now:
        raise AuthenticationFailed(f"This API token expired on {token.expires:%Y-%m-%d}: "
                                   "make a new one on /accounts/tokens/.")
    if not token.user.is_active:
        raise AuthenticationFailed("The account of this API token is disabled.")
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        PersonalApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token


class PersonalTokenAuthentication(BaseAuthentication):
    """DRF authentication for ``Authorization: Bearer lst_...``; other bearer tokens are
    left to the OAuth2 authentication that follows it."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            return None
        if not secret.startswith(TOKEN_PREFIX):
            return None
        token = find_token(secret)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
