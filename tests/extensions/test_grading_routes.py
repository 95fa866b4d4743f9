"""Submit through the server extension, graded in a real Docker sandbox by the real grader;
the panel's status, score, per-cell results and feedback HTML come back through the routes."""

from __future__ import annotations

import json
import time

import pytest
from extension_support import COURSE, answer, server_config
from tornado.httpclient import HTTPClientError

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def jp_server_config(grading_hub, request):
    """ann's server, or the server of the user named by @pytest.mark.as_user."""
    marker = request.node.get_closest_marker("as_user")
    return server_config(grading_hub, grading_hub.token(marker.args[0] if marker else "ann"))


def wait_graded(studio, submission_id: int) -> dict:
    deadline = time.monotonic() + 300
    while True:
        one = api(studio, "submissions", str(submission_id))
        if one["status"] != "grading":
            return one
        assert time.monotonic() < deadline, "not graded in 300 s"
        time.sleep(1)


def call(studio, *path, method="GET", body=None):
    kw = {"method": method}
    if method == "POST":
        kw["body"] = json.dumps(body or {})
    resp = studio("learning-studio", *path, **kw)
    return resp, resp.body


def api(studio, *path, **kw):
    return json.loads(call(studio, *path, **kw)[1])


def test_submit_poll_grade_feedback(studio, jp_root_dir):
    api(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST")
    answer(jp_root_dir / "courses" / COURSE / "ps1" / "ps1.ipynb", correct=True)
    sub = api(studio, "courses", COURSE, "assignments", "ps1", "submissions", method="POST")
    deadline = time.monotonic() + 300
    while True:
        one = api(studio, "submissions", str(sub["id"]))
        if one["status"] in ("graded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert one["status"] == "graded", one
    # the test cell (2 points) passes in the sandbox, visible and hidden asserts alike; the
    # manual answer (1 point) waits for the instructor
    cells = {c["cell_id"]: c for c in one["cells"]}
    assert cells["test_squares"]["score"] == 2 and cells["test_squares"]["max_score"] == 2
    assert one["needs_manual_grade"] is True
    courses = api(studio, "courses")["courses"]
    ps1 = next(a for c in courses for a in c["assignments"] if a["slug"] == "ps1")
    assert ps1["status"] == "graded" and ps1["score"] == 2 and ps1["max_score"] == 3
    assert ps1["late"] is False
    resp, html = call(studio, "submissions", str(sub["id"]), "feedback", "ps1")
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    assert b"squares" in html and b"HIDDEN-MARKER" not in html
    history = api(studio, "courses", COURSE, "assignments", "ps1", "submissions")
    assert [s["id"] for s in history["submissions"]] == [sub["id"]]


def test_wrong_answer_scores_zero_and_late_submission_is_marked(studio, jp_root_dir):
    api(studio, "courses", COURSE, "assignments", "old1", "fetch", method="POST")
    answer(jp_root_dir / "courses" / COURSE / "old1" / "ps1.ipynb", correct=False)
    sub = api(studio, "courses", COURSE, "assignments", "old1", "submissions", method="POST")
    deadline = time.monotonic() + 300
    while api(studio, "submissions", str(sub["id"]))["status"] == "grading":
        assert time.monotonic() < deadline, "not graded in 300 s"
        time.sleep(1)
    courses = api(studio, "courses")["courses"]
    old = next(a for c in courses for a in c["assignments"] if a["slug"] == "old1")
    assert old["status"] == "graded" and old["score"] == 0 and old["late"] is True


def test_learner_cannot_grade_their_own_cell(studio):
    subs = api(studio, "courses", COURSE, "assignments", "ps1", "submissions")["submissions"]
    sub_id = subs[0]["id"]
    with pytest.raises(HTTPClientError) as info:
        studio("learning-studio", "submissions", str(sub_id), "grades", "ps1", "explain",
               method="PUT", body=json.dumps({"score": 1}))
    assert info.value.code in (403, 404)
    assert api(studio, "submissions", str(sub_id))["score"] == 2


@pytest.mark.as_user("prof")
def test_instructor_grades_a_manual_cell_and_regrades(studio, grading_hub):
    ann = grading_hub.client(grading_hub.token("ann"))
    subs = ann.get(f"{grading_hub.grader}/courses/{COURSE}/assignments/ps1/submissions").json()
    sub_id = subs[0]["id"]
    # the instructor's table: everyone's submissions
    table = api(studio, "courses", COURSE, "assignments", "ps1", "submissions")["submissions"]
    assert "ann" in {s["username"] for s in table}
    out = json.loads(studio("learning-studio", "submissions", str(sub_id), "grades", "ps1",
                            "explain", method="PUT",
                            body=json.dumps({"score": 1, "comment": "Well put."})).body)
    assert out
    mine = ann.get(f"{grading_hub.grader}/submissions/{sub_id}").json()
    explain = next(c for c in mine["cells"] if c["cell_id"] == "explain")
    assert explain["score"] == 1 and explain["comment"] == "Well put."
    assert mine["score"] == 3 and mine["needs_manual_grade"] is False
    resp = studio("learning-studio", "submissions", str(sub_id), "regrade", method="POST",
                  body="{}")
    assert resp.code == 202 and sub_id in json.loads(resp.body)["queued"]
    assert wait_graded(studio, sub_id)["status"] == "graded"
