"""One way to sign a request between Learning Studio's parts, and to check it.

The grader's grade events and the course import's catalogue pushes go to the site signed
with the one shared secret named by SECRET_ENV: ``X-Studio-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``<timestamp>.<body>`` where the timestamp (Unix seconds) travels in
``X-Studio-Timestamp``. The receiver refuses a missing, wrong or stale signature, so a
captured request cannot be replayed after MAX_AGE seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_ENV = "STUDIO_SIGNING_SECRET"
SIGNATURE_HEADER = "X-Studio-Signature"
TIMESTAMP_HEADER = "X-Studio-Timestamp"
MAX_AGE = 300


class BadSignature(Exception):
    """A request that is not signed with the shared secret, or is too old.

    `status` is the HTTP status a receiver answers with (401: unsigned, 403: wrong).
    """

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The X-Studio-Signature value for body sent at timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers that sign body now."""
    if not secret:
        raise ValueError(f"no signing secret: set {SECRET_ENV}")
    stamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, body, stamp)}


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
    max_age: int = MAX_AGE,
) -> None:
    """Raise BadSignature unless headers sign body with secret within max_age seconds."""
    given = headers.get(SIGNATURE_HEADER) or ""
    stamp = headers.get(TIMESTAMP_HEADER) or ""
    if not given.startswith("sha256=") or not stamp:
        raise BadSignature(
            f"missing {SIGNATURE_HEADER}: sha256=<hex> and {TIMESTAMP_HEADER} headers",
            status=401,
        )
    try:
        age = abs((time.time() if now is None else now) - int(stamp))
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if age > max_age:
        raise BadSignature(
            f"stale request ({int(age)} s old; more than {max_age} s): check both clocks, "
            "or the request was replayed"
        )
    if not hmac.compare_digest(given, sign(secret, body, stamp)):
        raise BadSignature(f"bad signature: both sides need the same {SECRET_ENV}")

