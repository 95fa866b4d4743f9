"""Full-page cache for anonymous visitors, purged whenever published content changes.

Safety rules (tested in tests/cms/test_page_cache.py):
- Only GET/HEAD requests carrying no session or messages cookie and no Authorization
  header are looked up or stored, so a page built for a signed-in user is never stored
  and a stored page is never served to a request that could belong to a signed-in user.
- Only 200 responses that set no cookie are stored: a page that used a CSRF token (any
  form) or touched a session sets a cookie and is therefore never shared.
- Responses marked `Cache-Control: private` or `no-store` are never stored.
- Publishing, unpublishing, moving or deleting a page, and changes to catalogue,
  community and leaderboard data, bump a generation number that is part of every key,
  which drops every stored page at once in every worker (the cache is shared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

GENERATION_KEY = "studio:pagecache:generation"
SKIP_PREFIXES = ("/admin/", "/django-admin/", "/accounts/", "/o/", "/api/", "/progress/",
                 "/ai/", "/documents/", "/static/", "/media/")
_STORED_HEADERS = ("Content-Type", "Content-Language", "Link")


def purge_page_cache(**_kwargs) -> None:
    """Forget every stored anonymous page (called on publish and data changes)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def _request_is_shareable(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    return not request.path.startswith(SKIP_PREFIXES)


def _response_is_shareable(response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    return "private" not in cache_control and "no-store" not in cache_control


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.LS_PAGE_CACHE_ENABLED or not _request_is_shareable(request):
            return self.get_response(request)
        try:
            host = request.get_host()
        except DisallowedHost:
            return self.get_response(request)
        generation = cache.get(GENERATION_KEY, 0)
        digest = hashlib.sha256(
            f"{request.scheme}://{host}{request.get_full_path()}".encode()
        ).hexdigest()
        key = f"studio:page:{generation}:{digest}"
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Studio-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if request.method == "GET" and _response_is_shareable(response):
            headers = [(h, response[h]) for h in _STORED_HEADERS if response.has_header(h)]
            cache.set(key, (response.content, headers), settings.LS_PAGE_CACHE_SECONDS)
            response["X-Studio-Cache"] = "miss"
        return response


def connect_purge_signals() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import page_published, page_slug_changed, page_unpublished

    page_published.connect(purge_page_cache, dispatch_uid="studio-purge-published")
    page_unpublished.connect(purge_page_cache, dispatch_uid="studio-purge-unpublished")
    page_slug_changed.connect(purge_page_cache, dispatch_uid="studio-purge-slug")
    from wagtail.models import Page

    def purge_on_page_change(sender, instance, **kwargs) -> None:
        # Saving or deleting a live page (moves, edits by code) changes menus and URLs.
        # Signals fire with the concrete page class as sender, hence no sender filter.
        if isinstance(instance, Page) and instance.live:
            purge_page_cache()

    post_save.connect(purge_on_page_change, dispatch_uid="studio-purge-page-save", weak=False)
    post_delete.connect(purge_on_page_change, dispatch_uid="studio-purge-page-del", weak=False)
