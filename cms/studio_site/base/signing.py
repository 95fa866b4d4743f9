"""Requests the grader and the course import send the site, checked with the shared contract.

Both receivers (grade events, catalogue pushes) call :func:`verify_signed_request`; the
wire format is studio_contracts.signing's (X-Studio-Signature over
``<X-Studio-Timestamp>.<body>``, one secret: STUDIO_SIGNING_SECRET).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from studio_contracts.signing import SECRET_ENV, BadSignature, verify

__all__ = ["BadSignature", "verify_signed_request"]


def verify_signed_request(request: HttpRequest) -> None:
    """Raise BadSignature (with the HTTP status to answer) unless the request is signed."""
    secret = settings.GRADE_EVENT_SECRET
    if not secret:
        raise BadSignature(
            f"signed requests are off: set {SECRET_ENV} on the site (the same value as the "
            "grader's)", status=503)
    verify(secret, request.body, request.headers, max_age=settings.GRADE_EVENT_MAX_AGE)
