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


@pytest.mark.as_user("prof")
def test_instructor_sees_statistics_and_downloads_the_csv(studio, grading_hub):
    """cy's wrong answer is graded 0: it shows in the histogram's first bin, in the
    test cell's success rate, and as a row of the CSV the instructor downloads."""
    import base64

    from service_support import answered

    hub = grading_hub
    hub.user("cy", groups=(f"learners:{COURSE}",))
    cy = hub.client(hub.token("cy"))
    release = cy.get(f"{hub.grader}/courses/{COURSE}/assignments/old1/release").json()
    student_nb = base64.b64decode(release["files"]["ps1.ipynb"])
    r = cy.post(f"{hub.grader}/courses/{COURSE}/assignments/old1/submissions",
                json={"files": {"ps1.ipynb": base64.b64encode(
                    answered(student_nb, correct=False)).decode()}})
    assert r.status_code == 201, r.text
    assert wait_graded(studio, r.json()["id"])["status"] == "graded"

    stats = api(studio, "courses", COURSE, "assignments", "old1", "statistics")
    assert stats["max_score"] == 3 and stats["learners"] >= 1
    counts = stats["histogram"]["counts"]
    assert sum(counts) == stats["learners"] and counts[0] >= 1
    assert len(stats["histogram"]["edges"]) == len(counts) + 1
    test_cell = next(c for c in stats["cells"] if c["cell_id"] == "test_squares")
    assert test_cell["graded"] >= 1 and test_cell["success_rate"] < 1

    resp, body = call(studio, "courses", COURSE, "assignments", "old1", "grades.csv")
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert f'filename="{COURSE}-old1-grades.csv"' in resp.headers["Content-Disposition"]
    rows = body.decode().splitlines()
    assert rows[0].startswith("course,assignment,username,attempt")
    cy_row = next(r for r in rows if ",cy," in r).split(",")
    assert cy_row[1] == "old1" and cy_row[5] == "graded" and float(cy_row[8]) == 0
    assert all(",ps1," not in r for r in rows)  # only this assignment
