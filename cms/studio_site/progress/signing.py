"""HMAC-SHA256 signatures on requests the grader sends to the site.

Two kinds, one shared secret (LS_GRADE_EVENT_SECRET on the site, GRADER_WEBHOOK_SECRET on
the grader):

- Grade events (the grader's webhook, grader/webhook.py): ``X-Grader-Signature:
  sha256=<hex>`` over ``<X-Grader-Timestamp>.<body>``. The timestamp must be recent, so a
  captured event cannot be replayed later.
- Catalogue pushes (``course import``): ``X-Studio-Signature: sha256=<hex>`` over the body.
  A replayed push sets the same catalogue again, which is harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.http import HttpRequest

SIGNATURE_HEADER = "X-Studio-Signature"
GRADER_SIGNATURE_HEADER = "X-Grader-Signature"
GRADER_TIMESTAMP_HEADER = "X-Grader-Timestamp"


class SignatureError(Exception):
    """The request is not signed with the shared secret (or the endpoint is off)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(body: bytes, timestamp: str, secret: str) -> str:
    """The grader's webhook signature (grader/webhook.py `sign`)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _secret() -> str:
    secret = settings.GRADE_EVENT_SECRET
    if not secret:
        raise SignatureError(
            "grade events are off: set LS_GRADE_EVENT_SECRET on the site and the grader",
            status=503,
        )
    return secret


def verify_grader_event(request: HttpRequest, now: float | None = None) -> None:
    """Accept only a grade event signed by the grader within GRADE_EVENT_MAX_AGE seconds."""
    secret = _secret()
    given = request.headers.get(GRADER_SIGNATURE_HEADER, "")
    stamp = request.headers.get(GRADER_TIMESTAMP_HEADER, "")
    if not given.startswith("sha256=") or not stamp:
        raise SignatureError(
            f"missing {GRADER_SIGNATURE_HEADER}: sha256=<hex> and {GRADER_TIMESTAMP_HEADER} "
            "headers", status=401)
    try:
        age = abs((time.time() if now is None else now) - int(stamp))
    except ValueError:
        raise SignatureError(f"{GRADER_TIMESTAMP_HEADER} must be Unix seconds") from None
    if age > settings.GRADE_EVENT_MAX_AGE:
        raise SignatureError(
            f"stale event ({int(age)} s old; more than {settings.GRADE_EVENT_MAX_AGE} s): "
            "check both clocks, or the event was replayed")
    if not hmac.compare_digest(given, sign_timestamped(request.body, stamp, secret)):
        raise SignatureError("bad signature: the site and the grader need the same secret")


def verify_signed_body(request: HttpRequest) -> None:
    secret = _secret()
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given.startswith("sha256="):
        raise SignatureError(f"missing {SIGNATURE_HEADER}: sha256=<hex> header", status=401)
    if not hmac.compare_digest(given, sign(request.body, secret)):
        raise SignatureError("bad signature: sign the exact body with the shared secret")
