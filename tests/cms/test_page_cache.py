"""The anonymous page cache never shows one person's page to another, and purges on publish."""

from __future__ import annotations

import pytest
from django.test import Client
from studio_site.blog.models import BlogPage
from studio_site.catalogue.models import CoursePage

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db


def test_anonymous_pages_are_cached() -> None:
    first = Client().get("/courses/intro-python/")
    second = Client().get("/courses/intro-python/")
    assert first["X-Studio-Cache"] == "miss" and second["X-Studio-Cache"] == "hit"
    assert first.content == second.content
    assert second["Content-Type"] == "text/html; charset=utf-8"


def test_signed_in_pages_are_never_stored_in_or_served_from_the_shared_cache() -> None:
    ada = Client()
    ada.login(username="ada", password=DEMO_PASSWORD)
    personal = ada.get("/courses/intro-python/")
    assert "X-Studio-Cache" not in personal
    assert b"ada" in personal.content and b"Log out" in personal.content
    # An anonymous visitor gets the anonymous page, not Ada's.
    anonymous = Client().get("/courses/intro-python/")
    assert anonymous["X-Studio-Cache"] == "miss"
    assert b"Log out" not in anonymous.content and b">ada<" not in anonymous.content
    # And once the anonymous page is stored, Ada still never receives it.
    Client().get("/courses/intro-python/")
    again = ada.get("/courses/intro-python/")
    # (her session's own cache may answer: test_signed_in_page_cache.py; never the shared one)
    assert again.get("X-Studio-Cache", "").endswith("-session") or "X-Studio-Cache" not in again
    assert b"Log out" in again.content


def test_pages_that_set_cookies_are_not_stored() -> None:
    # The login page carries a CSRF token (Set-Cookie): it must never be shared.
    first = Client().get("/accounts/login/")
    assert first.cookies and "X-Studio-Cache" not in first
    # A public page that renders a form with a token for this visitor is not stored either.
    alan = Client()
    alan.login(username="alan", password=DEMO_PASSWORD)
    alan.get("/blog/post-1/")
    anonymous = Client().get("/blog/post-1/")
    assert b"csrfmiddlewaretoken" not in anonymous.content


def test_publish_purges() -> None:
    Client().get("/blog/")
    assert Client().get("/blog/")["X-Studio-Cache"] == "hit"
    post = BlogPage.objects.get(slug="post-1")
    post.title = "A brand new title"
    post.save_revision().publish()
    fresh = Client().get("/blog/")
    assert fresh["X-Studio-Cache"] == "miss"
    assert b"A brand new title" in fresh.content


def test_unpublish_purges() -> None:
    assert Client().get("/courses/intro-python/").status_code == 200
    CoursePage.objects.get(course_id="intro-python").unpublish()
    assert Client().get("/courses/intro-python/").status_code == 404


def test_registration_refreshes_public_event_page() -> None:
    """Data shown to everyone (event places) refreshes when it changes."""
    before = Client().get("/community/events/office-hours/")
    assert b"<strong>10</strong> of 10 places left" in before.content
    alan = Client()
    alan.login(username="alan", password=DEMO_PASSWORD)
    alan.post("/community/events/office-hours/register/")
    after = Client().get("/community/events/office-hours/")
    assert b"<strong>9</strong> of 10 places left" in after.content


def test_post_and_authorization_header_bypass_cache() -> None:
    Client().get("/blog/")
    with_auth = Client().get("/blog/", HTTP_AUTHORIZATION="Bearer x")
    assert "X-Studio-Cache" not in with_auth
