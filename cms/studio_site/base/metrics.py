"""Prometheus metrics of the site: requests by view and status class, and their latency.

``RequestMetricsMiddleware`` counts every request; ``metrics_view`` (GET /metrics) serves
them to a caller with ``Authorization: Bearer <LS_METRICS_TOKEN>`` (the stack gives its
Prometheus the token in data/studio.env). Without a token set, /metrics answers 404: the
site's numbers are not public.

Gunicorn runs several worker processes; with PROMETHEUS_MULTIPROC_DIR set (the image's
entrypoint does) every worker writes its samples there and a scrape adds them up, so the
numbers do not depend on which worker answers.
"""

from __future__ import annotations

import hmac
import os
import re
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

_REQUESTS = Counter("site_requests", "Requests served by the site, by view (the URL "
                    "pattern's name) and status class (2xx, 3xx, 4xx, 5xx).",
                    ["view", "method", "status"])
_LATENCY = Histogram("site_request_seconds", "Seconds the site took to answer, by view.",
                     ["view"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        # a bounded set of labels: the view's name, never the path a visitor made up
        view = _view_name(request)
        if view == "metrics":
            return response
        method = request.method if request.method in _METHODS else "other"
        _REQUESTS.labels(view, method, f"{response.status_code // 100}xx").inc()
        _LATENCY.labels(view).observe(time.perf_counter() - start)
        return response


def _view_name(request: HttpRequest) -> str:
    """The URL pattern's name; a page served from the cache (before routing) is resolved
    here. "other": no view answers the path (a static file, or nothing)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "other"
    return match.view_name or "other"


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    want = getattr(settings, "METRICS_TOKEN", "")
    if not want:
        raise Http404("metrics are off: set LS_METRICS_TOKEN")
    m = _BEARER.match(request.headers.get("Authorization", ""))
    if not (m and hmac.compare_digest(m.group(1).encode(), want.encode())):
        response = HttpResponse("the site's metrics need 'Authorization: Bearer <token>' "
                                "with LS_METRICS_TOKEN\n", status=403,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = "Bearer"
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY
        body = generate_latest(REGISTRY)
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
