"""Catalogue sync from the grader's JSON, enrolment, Open in JupyterLab."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from studio_site.accounts.models import User
from studio_site.catalogue.models import CoursePage, Enrolment
from studio_site.catalogue.roles import claim_groups

from studio_contracts.signing import signed_headers

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

CATALOGUE = {"courses": [
    {"id": "data-101", "title": "Data with pandas", "summary": "Tables in Python.",
     "description": "Load, clean and plot.\n\nWith real data.",
     "lessons": [{"id": "l1", "title": "DataFrames", "path": "lessons/frames.ipynb"}],
     "assignments": [{"id": "hw1", "title": "Homework 1", "max_score": 5,
                      "due": "2026-12-24T12:00:00Z"}],
     "instructors": ["ada", "nobody-here"]},
    {"id": "intro-python", "title": "Introduction to Python (2nd edition)",
     "lessons": [], "assignments": [{"id": "ps1", "title": "PS1", "max_score": 12}]},
]}


def test_sync_command_from_file_creates_and_updates(tmp_path, client: Client) -> None:
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(CATALOGUE))
    call_command("sync_catalogue", str(source), verbosity=0)
    data = CoursePage.objects.get(course_id="data-101")
    assert data.live and data.url == "/courses/data-101/"
    assert [lesson.title for lesson in data.lessons.all()] == ["DataFrames"]
    assert data.assignments.get().due.isoformat() == "2026-12-24T12:00:00+00:00"
    intro = CoursePage.objects.get(course_id="intro-python")
    assert intro.title == "Introduction to Python (2nd edition)"
    assert [(a.assignment_id, a.max_score) for a in intro.assignments.all()] == [("ps1", 12.0)]
    page = client.get("/courses/data-101/")
    assert b"Data with pandas" in page.content and b"<p>With real data.</p>" in page.content
    # Instructors named by the grader become instructors here (and in the hub's groups).
    ada = User.objects.get(username="ada")
    assert "instructors:data-101" in claim_groups(ada)
    # A second run changes nothing but also creates nothing.
    call_command("sync_catalogue", str(source), verbosity=0)
    assert CoursePage.objects.filter(course_id="data-101").count() == 1


@pytest.mark.parametrize("bad, message", [
    ({"course": []}, "'courses' list"),
    ({"courses": [{"id": "x y", "title": "T"}]}, "courses[0]: 'id'"),
    ({"courses": [{"id": "ok", "title": ""}]}, "'title' is required"),
    ({"courses": [{"id": "ok", "title": "T", "assignments": [{"id": "a", "max_score": -1}]}]},
     "'max_score' must be a number >= 0"),
    ({"courses": [{"id": "ok", "title": "T", "assignments": [{"id": "a", "due": "soon"}]}]},
     "ISO 8601"),
])
def test_sync_rejects_bad_input_with_a_clear_message(tmp_path, bad, message) -> None:
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(bad))
    with pytest.raises(CommandError) as error:
        call_command("sync_catalogue", str(source))
    assert message in str(error.value)
    assert not CoursePage.objects.filter(course_id="ok").exists()


def test_sync_reports_unknown_instructors(tmp_path) -> None:
    from studio_site.catalogue.sync import sync_catalogue

    report = sync_catalogue(CATALOGUE)
    assert report.unknown_instructors == ["nobody-here (data-101)"]
    assert "no account for instructors: nobody-here (data-101)" in str(report)


def test_sync_command_names_missing_file() -> None:
    with pytest.raises(CommandError, match="cannot read the catalogue from /nope.json"):
        call_command("sync_catalogue", "/nope.json")


def test_signed_sync_endpoint(client: Client, settings) -> None:
    body = json.dumps(CATALOGUE).encode()
    unsigned = client.post("/courses/sync/", body, content_type="application/json")
    assert unsigned.status_code == 401 and "X-Studio-Timestamp" in unsigned.json()["error"]
    wrong = client.post("/courses/sync/", body, content_type="application/json",
                        headers=signed_headers("not-the-secret", body))
    assert wrong.status_code == 403
    stale = client.post("/courses/sync/", body, content_type="application/json",
                        headers=signed_headers(settings.GRADE_EVENT_SECRET, body,
                                               now=time.time() - 3600))
    assert stale.status_code == 403 and "stale" in stale.json()["error"]
    assert not CoursePage.objects.filter(course_id="data-101").exists()
    signed = client.post("/courses/sync/", body, content_type="application/json",
                         headers=signed_headers(settings.GRADE_EVENT_SECRET, body))
    assert signed.status_code == 200
    assert signed.json() == {"created": ["data-101"], "updated": ["intro-python"],
                             "unknown_instructors": ["nobody-here (data-101)"]}


def test_enrol_records_enrolment_and_groups_claim(client: Client, users, tmp_path) -> None:
    source = tmp_path / "c.json"
    source.write_text(json.dumps(CATALOGUE))
    call_command("sync_catalogue", str(source), verbosity=0)
    anonymous = client.get("/courses/data-101/")
    assert b"Log in to enrol" in anonymous.content
    assert b"/hub/user-redirect/" not in anonymous.content

    client.login(username="grace", password=DEMO_PASSWORD)
    assert client.post("/courses/data-101/enrol/").status_code == 302
    assert Enrolment.objects.filter(user=users["grace"], course__course_id="data-101",
                                    role="learner", active=True).exists()
    assert "learners:data-101" in claim_groups(users["grace"])
    page = client.get("/courses/data-101/").content.decode()
    # a lesson opens through the JupyterLab extension, which fetches it first
    assert 'href="http://hub.test/hub/user-redirect/learning-studio/open/data-101/l1"' in page
    assert 'href="http://hub.test/hub/user-redirect/lab/tree/courses/data-101"' in page

    client.post("/courses/data-101/leave/")
    assert "learners:data-101" not in claim_groups(users["grace"])


def test_enrol_requires_login(client: Client) -> None:
    response = client.post("/courses/intro-python/enrol/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unpublished_course_cannot_be_enrolled(client: Client) -> None:
    CoursePage.objects.get(course_id="intro-python").unpublish()
    client.login(username="grace", password=DEMO_PASSWORD)
    assert client.post("/courses/intro-python/enrol/").status_code == 404


def test_sync_command_from_url(tmp_path) -> None:
    """The grader may serve its catalogue over HTTP; the command fetches it."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "catalogue.json").write_text(json.dumps(CATALOGUE))

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=tmp_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        call_command("sync_catalogue", f"{url}/catalogue.json", verbosity=0)
        assert CoursePage.objects.filter(course_id="data-101", live=True).exists()
        with pytest.raises(CommandError, match="cannot read the catalogue from"):
            call_command("sync_catalogue", f"{url}/missing.json")
    finally:
        server.shutdown()
        server.server_close()
