"""GET /metrics of the site: Prometheus text for the metrics token only, requests counted
by view and status class. (The stack's Prometheus scrapes it through gunicorn's workers in
tests/hub/test_compose_stack.py.)"""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db
TOKEN = "site-metrics-" + "9f" * 12


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client: Client) -> dict:
    r = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(r.content.decode())


def test_metrics_need_the_token(client: Client, settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    r = client.get("/metrics")
    assert r.status_code == 403 and b"LS_METRICS_TOKEN" in r.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403


def test_metrics_are_off_without_a_token(client: Client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_requests_are_counted_by_view_and_status(client: Client, settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    key = ("site_requests_total", (("method", "GET"), ("status", "2xx"), ("view", "healthz")))
    miss = ("site_requests_total",
            (("method", "GET"), ("status", "4xx"), ("view", "wagtail_serve")))
    before = scrape(client)
    for _ in range(3):  # the second and third from the page cache: still the same view
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/here/").status_code == 404
    after = scrape(client)
    assert after[key] - before.get(key, 0) == 3
    assert after[miss] - before.get(miss, 0) >= 1
    lat = ("site_request_seconds_count", (("view", "healthz"),))
    assert after[lat] - before.get(lat, 0) == 3
    # scraping is not counted as traffic
    assert not any(labels and dict(labels).get("view") == "metrics" for _, labels in after)
