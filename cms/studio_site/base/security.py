"""Content-Security-Policy for the public site: nothing loads from another host.

Defence in depth behind the HTML sanitiser: even if markup slipped through, the browser
would not run inline scripts or fetch from elsewhere. The Wagtail admin keeps its own
rules (it needs inline scripts), so it is left out.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

EXEMPT_PREFIXES = ("/admin/", "/django-admin/")


def content_security_policy() -> str:
    own = f"'self' {settings.SITE_URL}"
    return "; ".join([
        f"default-src {own}",
        f"script-src {own}",
        f"style-src {own} 'unsafe-inline'",  # style="width: 40%" on progress bars
        f"img-src {own} data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
    ])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(EXEMPT_PREFIXES) and "text/html" in response.get(
            "Content-Type", ""
        ):
            response.setdefault("Content-Security-Policy", self.policy)
        return response
