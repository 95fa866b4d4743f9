"""A signed-in session's own page cache: its pages come back to it fast, never to anyone
else, and what the person (or anyone) changes shows at once."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from studio_site.blog.models import BlogPage
from studio_site.catalogue.models import CoursePage, Enrolment

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
COURSE_URL = "/courses/intro-python/"
pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    """A browser that checks CSRF as a real one is checked, signed in, with its CSRF
    cookie (the first page with a form sets it, as in a browser)."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=username, password=DEMO_PASSWORD)
    first = client.get(COURSE_URL)
    assert first.cookies, "the first page with a form sets the CSRF cookie"
    assert "X-Studio-Cache" not in first  # it set a cookie: not stored
    return client


def csrf_token(response) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content).group(
        1).decode()


def test_a_session_gets_its_own_page_back() -> None:
    alan = signed_in("alan")
    stored = alan.get(COURSE_URL)
    again = alan.get(COURSE_URL)
    assert stored["X-Studio-Cache"] == "miss-session"
    assert again["X-Studio-Cache"] == "hit-session"
    assert again.content == stored.content
    assert b">alan<" in again.content and b"Log out" in again.content
    assert again["Content-Type"] == "text/html; charset=utf-8"


def test_never_served_to_another_person_or_session_or_anonymous() -> None:
    alan = signed_in("alan")
    alan.get(COURSE_URL)
    assert alan.get(COURSE_URL)["X-Studio-Cache"] == "hit-session"
    grace = signed_in("grace")
    page = grace.get(COURSE_URL)
    assert page["X-Studio-Cache"] == "miss-session"
    assert b">grace<" in page.content and b">alan<" not in page.content
    # alan in a second browser: another session, another CSRF cookie, never his first one's
    other_browser = signed_in("alan")
    assert other_browser.get(COURSE_URL)["X-Studio-Cache"] == "miss-session"
    anonymous = Client().get(COURSE_URL)
    assert b"Log out" not in anonymous.content and b">alan<" not in anonymous.content


def test_a_cached_page_form_still_posts_and_what_was_done_shows_at_once(users) -> None:
    edith = signed_in("edith")  # not enrolled in the demo course
    edith.get(COURSE_URL)
    cached = edith.get(COURSE_URL)
    assert cached["X-Studio-Cache"] == "hit-session"
    assert b">Enrol</button>" in cached.content
    # the CSRF token inside the stored page is valid for this session
    r = edith.post("/courses/intro-python/enrol/", {"csrfmiddlewaretoken": csrf_token(cached)})
    assert r.status_code == 302, r.content[:300]
    with_message = edith.get(COURSE_URL)  # the flash message: a one-off page, not stored
    assert b"You are enrolled" in with_message.content
    assert "hit" not in with_message.get("X-Studio-Cache", "")
    now = edith.get(COURSE_URL)
    assert "hit" not in now.get("X-Studio-Cache", "")
    assert b"Leave course" in now.content and b">Enrol</button>" not in now.content
    edith.get(COURSE_URL)
    # leaving is a queryset update (no model signal): the POST itself drops her pages
    r = edith.post("/courses/intro-python/leave/", {"csrfmiddlewaretoken": csrf_token(now)})
    assert r.status_code == 302
    edith.get(COURSE_URL)  # the message
    after = edith.get(COURSE_URL)
    assert b">Enrol</button>" in after.content and b"Leave course" not in after.content


def test_a_change_made_by_someone_else_shows_at_once(users) -> None:
    edith = signed_in("edith")
    edith.get(COURSE_URL)
    assert b">Enrol</button>" in edith.get(COURSE_URL).content
    # an administrator (or the grader's sync) enrols her: a row naming her is saved
    Enrolment.objects.create(user=users["edith"], course=CoursePage.objects.get(
        course_id="intro-python"), role=Enrolment.LEARNER)
    page = edith.get(COURSE_URL)
    assert page["X-Studio-Cache"] == "miss-session" and b"Leave course" in page.content
    # a change to her groups (many-to-many) as well
    edith.get(COURSE_URL)
    users["edith"].groups.clear()
    assert edith.get(COURSE_URL)["X-Studio-Cache"] == "miss-session"


def test_publishing_drops_signed_in_pages_too() -> None:
    alan = signed_in("alan")
    alan.get("/blog/")
    assert alan.get("/blog/")["X-Studio-Cache"] == "hit-session"
    post = BlogPage.objects.get(slug="post-1")
    post.title = "Signed-in readers see this at once"
    post.save_revision().publish()
    fresh = alan.get("/blog/")
    assert fresh["X-Studio-Cache"] == "miss-session"
    assert b"Signed-in readers see this at once" in fresh.content


def test_signing_out_leaves_nothing_behind() -> None:
    alan = signed_in("alan")
    alan.get(COURSE_URL)
    page = alan.get(COURSE_URL)
    assert page["X-Studio-Cache"] == "hit-session"
    r = alan.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(page)})
    assert r.status_code == 302
    after = alan.get(COURSE_URL)
    assert b"Log out" not in after.content and b">alan<" not in after.content


@override_settings(LS_PAGE_CACHE_SIGNED_IN_SECONDS=0)
def test_off_when_its_lifetime_is_zero() -> None:
    alan = signed_in("alan")
    assert "X-Studio-Cache" not in alan.get(COURSE_URL)
    assert "X-Studio-Cache" not in alan.get(COURSE_URL)


def test_the_progress_dashboard_is_kept_for_its_owner_and_a_new_grade_shows(users) -> None:
    from django.utils import timezone
    from studio_site.progress.models import GradeEvent

    alan = signed_in("alan")
    alan.get("/progress/")
    page = alan.get("/progress/")
    assert page["X-Studio-Cache"] == "hit-session"
    assert "no-store" in page["Cache-Control"]  # browsers and proxies still keep nothing
    # a grade arrives (the grader's webhook records a row naming him)
    GradeEvent.objects.create(submission_id="cache-test-1", user=users["alan"],
                              course_id="intro-python", assignment_id="a1", score=3.0,
                              max_score=10.0, graded_at=timezone.now())
    fresh = alan.get("/progress/")
    assert fresh["X-Studio-Cache"] == "miss-session" and fresh.content != page.content
    # an instructor's course view shows other people's rows: never kept
    ada = signed_in("ada")
    ada.get("/progress/course/intro-python/")
    assert "X-Studio-Cache" not in ada.get("/progress/course/intro-python/")
