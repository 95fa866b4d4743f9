"""Full-page caches: one shared by anonymous visitors, one per signed-in session; both are
purged whenever published content changes.

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

Signed-in visitors (tested in tests/cms/test_signed_in_page_cache.py) get their own pages
from a second cache, `SignedInPageCacheMiddleware`, which runs after authentication:
- the key holds the session key and the CSRF cookie of the request as well as the URL, so
  a stored page (with its CSRF token and the person's name in it) only ever goes back to
  the browser session it was made for; signing in or out changes the session key;
- every row that names a person (an enrolment, a group membership, a registration, a
  comment, the account itself) bumps that person's own generation when it is saved or
  deleted, and so does every POST (or other unsafe method) a person makes, which covers
  queryset updates that send no signal; content changes bump the shared generation;
- a page that shows a flash message, sets a cookie or says no-store (unless its view is
  marked `session_cacheable`: only the person's own rows on it) is not stored; stored
  pages live LS_PAGE_CACHE_SIGNED_IN_SECONDS at most (60 s: times and counts on a page).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

GENERATION_KEY = "studio:pagecache:generation"
USER_GENERATION_KEY = "studio:pagecache:user:{}"
SKIP_PREFIXES = ("/admin/", "/django-admin/", "/accounts/", "/o/", "/api/", "/progress/",
                 "/ai/", "/documents/", "/static/", "/media/")
_STORED_HEADERS = ("Content-Type", "Content-Language", "Link")
# A signed-in session's own pages: the learner's progress dashboard is theirs (its rows name
# them), but an instructor's course view shows other people's rows: never stored.
SIGNED_IN_SKIP_PREFIXES = tuple(p for p in SKIP_PREFIXES if p != "/progress/") + (
    "/progress/course/", "/progress/events/")


def purge_page_cache(**_kwargs) -> None:
    """Forget every stored anonymous page (called on publish and data changes)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def purge_user_pages(user_id) -> None:
    """Forget the pages stored for one person's sessions (their data changed)."""
    if user_id is None:
        return
    key = USER_GENERATION_KEY.format(user_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


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


def session_cacheable(view):
    """Mark a view whose response says no-store (for browsers and proxies) as one this
    server may still keep for the same session: everything it shows is the person's own
    rows, whose changes drop their pages (the progress dashboard)."""
    from functools import wraps

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.session_cacheable = True
        return response

    return wrapped


class SignedInPageCacheMiddleware:
    """Each signed-in session's own pages, stored for a short while (rules at the top)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def _key(request: HttpRequest) -> str | None:
        if (not settings.LS_PAGE_CACHE_ENABLED or not settings.LS_PAGE_CACHE_SIGNED_IN_SECONDS
                or request.method not in ("GET", "HEAD")
                or "HTTP_AUTHORIZATION" in request.META
                or request.path.startswith(SIGNED_IN_SKIP_PREFIXES)):
            return None
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None:
            return None
        csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
        if not session.session_key or not csrf:
            return None
        # a flash message waiting to be shown (cookie or session storage) makes a one-off page
        if "messages" in request.COOKIES or "_messages" in session:
            return None
        try:
            host = request.get_host()
        except DisallowedHost:
            return None
        user_key = USER_GENERATION_KEY.format(user.pk)
        generations = cache.get_many([GENERATION_KEY, user_key])
        digest = hashlib.sha256("\0".join([
            session.session_key, csrf, f"{request.scheme}://{host}{request.get_full_path()}",
            getattr(request, "LANGUAGE_CODE", ""),
        ]).encode()).hexdigest()
        return (f"studio:userpage:{generations.get(GENERATION_KEY, 0)}:{user.pk}:"
                f"{generations.get(user_key, 0)}:{digest}")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is None:
            response = self.get_response(request)
            if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                # Whatever a person posts may change what their pages show, including through
                # queryset updates that send no signal: their stored pages go.
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    purge_user_pages(user.pk)
            return response
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Studio-Cache"] = "hit-session"
            return response
        response = self.get_response(request)
        if (request.method == "GET" and response.status_code == 200 and not response.streaming
                and not response.cookies
                and ("no-store" not in response.get("Cache-Control", "").lower()
                     or getattr(response, "session_cacheable", False))
                and "_messages" not in request.session):
            headers = [(h, response[h]) for h in _STORED_HEADERS + ("Cache-Control",)
                       if response.has_header(h)]
            cache.set(key, (response.content, headers), settings.LS_PAGE_CACHE_SIGNED_IN_SECONDS)
            response["X-Studio-Cache"] = "miss-session"
        return response


def _user_fields(model) -> list[str]:
    """The attnames of a model's foreign keys and one-to-one fields to the user model."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return [f.attname for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is user_model]


def connect_user_purge_signals() -> None:
    """Any saved or deleted row that names a person, in the site's own apps and in
    Django's and Wagtail's, drops that person's stored pages; so do their own account's
    changes, their sign-in and sign-out, and changes to their groups."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out
    from django.db.models.signals import m2m_changed, post_delete, post_save

    user_model = get_user_model()
    watched = {model: fields for model in apps.get_models()
               if (fields := _user_fields(model))}

    def on_row(sender, instance, **kwargs) -> None:
        if sender is user_model or isinstance(instance, user_model):
            purge_user_pages(instance.pk)
            return
        for field in watched.get(sender, ()):
            purge_user_pages(getattr(instance, field, None))

    post_save.connect(on_row, dispatch_uid="studio-user-pages-save", weak=False)
    post_delete.connect(on_row, dispatch_uid="studio-user-pages-delete", weak=False)

    def on_m2m(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
        if not action.startswith("post_"):
            return
        if isinstance(instance, user_model):
            purge_user_pages(instance.pk)
        if model is user_model:
            for pk in pk_set or ():
                purge_user_pages(pk)
            if action == "post_clear":  # pk_set is None: whoever was in it
                purge_page_cache()

    m2m_changed.connect(on_m2m, dispatch_uid="studio-user-pages-m2m", weak=False)

    def on_sign(sender, request, user, **kwargs) -> None:
        if user is not None:
            purge_user_pages(user.pk)

    user_logged_in.connect(on_sign, dispatch_uid="studio-user-pages-login", weak=False)
    user_logged_out.connect(on_sign, dispatch_uid="studio-user-pages-logout", weak=False)


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
