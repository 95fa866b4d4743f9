"""HMAC-SHA256 signatures on requests the grader sends to the site.

The grader signs the raw request body with the shared secret LS_GRADE_EVENT_SECRET and
sends ``X-Studio-Signature: sha256=<hex digest>``.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest

SIGNATURE_HEADER = "X-Studio-Signature"


class SignatureError(Exception):
    """The request is not signed with the shared secret (or the endpoint is off)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signed_body(request: HttpRequest) -> None:
    secret = settings.GRADE_EVENT_SECRET
    if not secret:
        raise SignatureError(
            "grade events are off: set LS_GRADE_EVENT_SECRET on the site and the grader",
            status=503,
        )
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given.startswith("sha256="):
        raise SignatureError(f"missing {SIGNATURE_HEADER}: sha256=<hex> header", status=401)
    if not hmac.compare_digest(given, sign(request.body, secret)):
        raise SignatureError("bad signature: sign the exact body with the shared secret")
