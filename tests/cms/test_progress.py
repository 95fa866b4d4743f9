"""Grade events from the grader, achievements, dashboard, instructor view."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from studio_site.progress.models import Achievement, GradeEvent

from studio_contracts.signing import signed_headers  # what the grader signs with

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db
SECRET = "test-grade-secret"


def event(submission: int, user: str = "alan", assignment: str = "ps1", score: float = 7,
          max_score: float = 10, when: str = "2026-11-20T10:00:00Z",
          kind: str = "submission.graded", status: str = "graded") -> dict:
    """A grade event as studio_contracts/grade_event.schema.json declares it."""
    return {"event": kind, "delivery_id": 1, "username": user, "course": "intro-python",
            "assignment": assignment, "submission_id": submission, "attempt": 1,
            "status": status, "score": score, "max_score": max_score, "late_penalty": 0.0,
            "needs_manual_grade": False, "submitted_at": when, "graded_at": when}


def post_event(client: Client, payload, secret: str = SECRET, raw: bytes | None = None,
               stamp: float | None = None):
    body = raw if raw is not None else json.dumps(payload, sort_keys=True).encode()
    return client.post("/progress/events/", body, content_type="application/json",
                       headers=signed_headers(secret, body, now=stamp))


def test_bad_or_missing_signature_rejected(client: Client) -> None:
    body = json.dumps(event(1)).encode()
    missing = client.post("/progress/events/", body, content_type="application/json")
    assert missing.status_code == 401 and "X-Studio-Signature" in missing.json()["error"]
    wrong = post_event(client, event(1), secret="not-the-secret")
    assert wrong.status_code == 403 and "bad signature" in wrong.json()["error"]
    # A valid signature over a different body does not carry over.
    tampered = client.post("/progress/events/", json.dumps(event(1, score=10)).encode(),
                           content_type="application/json", headers=signed_headers(SECRET, body))
    assert tampered.status_code == 403
    assert not GradeEvent.objects.exists()


def test_replayed_event_refused(client: Client) -> None:
    old = post_event(client, event(1), stamp=time.time() - 3600)
    assert old.status_code == 403 and "stale request" in old.json()["error"]
    assert not GradeEvent.objects.exists()


def test_endpoint_off_without_secret(client: Client, settings) -> None:
    settings.GRADE_EVENT_SECRET = ""
    body = json.dumps(event(1)).encode()
    response = client.post("/progress/events/", body, content_type="application/json",
                           headers=signed_headers("some-secret", body))
    assert response.status_code == 503 and "STUDIO_SIGNING_SECRET" in response.json()["error"]


def test_grade_event_recorded_once_and_updated_by_a_regrade(client: Client) -> None:
    first = post_event(client, event(11))  # the grader's ids are integers
    assert first.status_code == 201
    assert first.json()["achievements"] == ["first_submission"]
    again = post_event(client, event(11))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert GradeEvent.objects.get().score == 7
    manual = post_event(client, event(11, score=10, kind="grade.updated"))
    assert manual.status_code == 200 and manual.json()["status"] == "updated"
    assert "first_perfect" in manual.json()["achievements"]
    stored = GradeEvent.objects.get()
    assert stored.score == 10 and stored.user.username == "alan"


def test_events_before_a_grade_are_acknowledged_not_recorded(client: Client) -> None:
    response = post_event(client, event(12, status="failed", score=None))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert not GradeEvent.objects.exists()


@pytest.mark.parametrize("payload, message", [
    ({"event": "submission.graded"}, "'delivery_id' is a required property"),
    ({**event(1), "event": "other"}, "grade event event: 'other' is not one of"),
    ({**event(1), "score": "7"}, "grade event score: '7' is not of type"),
    ({**event(1), "score": 11}, "0 <= score <= max_score"),
    ({**event(1), "graded_at": "yesterday"}, "graded_at: 'yesterday' is not a 'date-time'"),
    ({**event(1), "username": ""}, "grade event username: '' should be non-empty"),
    ({**event(1), "submission_id": "s1"}, "submission_id: 's1' is not of type 'integer'"),
    ({**event(1), "course": "intro python"}, "grade event course:"),
    ({**event(1), "grader_secret": "x"}, "Additional properties are not allowed"),
    ({**event(1), "score": None}, "grade event score: None is not of type 'number'"),
])
def test_bad_payload_rejected(client: Client, payload, message) -> None:
    response = post_event(client, payload)
    assert response.status_code == 400 and message in response.json()["error"]


def test_non_json_body_rejected(client: Client) -> None:
    response = post_event(client, None, raw=b"score=10")
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


def test_unknown_user(client: Client, caplog) -> None:
    # Acknowledged (the grader must not retry it for ever) and logged with its context.
    response = post_event(client, event(100, user="nobody"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert "user=nobody course=intro-python assignment=ps1" in caplog.text
    assert not GradeEvent.objects.exists()


def test_achievements(client: Client, users) -> None:
    post_event(client, event(101, score=5, when="2026-11-01T09:00:00Z"))
    post_event(client, event(102, score=10, when="2026-11-02T09:00:00Z"))
    kinds = set(Achievement.objects.filter(user=users["alan"]).values_list("kind", flat=True))
    assert kinds == {"first_submission", "first_perfect"}
    third = post_event(client, event(103, assignment="ps2", score=3,
                                     when="2026-11-03T09:00:00Z"))
    # Third consecutive day, and now both assignments of the course have a grade.
    assert set(third.json()["achievements"]) == {"streak_3_days", "course_finished"}
    finished = Achievement.objects.get(user=users["alan"], kind="course_finished")
    assert finished.course_id == "intro-python"


def test_no_streak_with_a_gap(client: Client, users) -> None:
    for n, day in enumerate(["01", "02", "04"]):
        post_event(client, event(200 + n, when=f"2026-11-{day}T09:00:00Z"))
    assert not Achievement.objects.filter(user=users["alan"], kind="streak_3_days").exists()


def test_dashboard_shows_scores_bars_badges_and_chart(client: Client) -> None:
    post_event(client, event(104, score=4, when="2026-11-01T09:00:00Z"))
    post_event(client, event(105, score=8, when="2026-11-05T09:00:00Z"))
    client.login(username="alan", password=DEMO_PASSWORD)
    html = client.get("/progress/").content.decode()
    assert "Introduction to Python" in html
    assert "8 / 10" in html  # the newest submission counts
    assert "not submitted" in html  # ps2
    assert 'aria-valuenow="50"' in html  # 1 of 2 assignments graded
    assert "First submission" in html
    assert "<svg" in html and html.count("<circle") == 2
    assert "intro-python/ps1: 4/10 on 2026-11-01" in html


def test_dashboard_is_private(client: Client) -> None:
    post_event(client, event(106, user="alan", score=9))
    client.login(username="grace", password=DEMO_PASSWORD)
    html = client.get("/progress/").content.decode()
    assert "9 / 10" not in html


@pytest.mark.parametrize("username, status", [("ada", 200), ("admin", 200), ("alan", 403),
                                              ("edith", 403)])
def test_instructor_view_permissions(client: Client, username: str, status: int) -> None:
    post_event(client, event(107, user="grace", score=6))
    client.login(username=username, password=DEMO_PASSWORD)
    response = client.get("/progress/course/intro-python/")
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "grace" in html and "6 / 10" in html and "alan" in html
