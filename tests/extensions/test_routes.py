"""The server extension's routes (pytest-jupyter's jp_fetch) against a real hub + grader.

No grading workers here; grading, scores and feedback are in test_grading_routes.py.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from extension_support import (
    COURSE,
    HINTS,
    IMAGE_COURSE,
    SLUG_CASES,
    WELCOME_MARKER,
    answer,
    error,
    server_config,
)
from tornado.httpclient import HTTPClientError

pytestmark = pytest.mark.timeout(180)


def call(studio, *path, method="GET", body=None, **params):
    kw = {"method": method, "params": params}
    if body is not None or method == "POST":
        kw["body"] = json.dumps(body or {})
    resp = studio("learning-studio", *path, **kw)
    return json.loads(resp.body)


def fails(studio, *path, method="GET", body=None, **params) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        call(studio, *path, method=method, body=body, **params)
    return info.value.code, error(info.value)


def by_slug(items, slug):
    return next(x for x in items if x["slug"] == slug)


def test_courses_lists_assignments_due_dates_and_lessons(studio):
    courses = (call(studio, "courses"))["courses"]
    course = by_slug(courses, COURSE)
    assert course["roles"] == ["learner"]
    ps1 = by_slug(course["assignments"], "ps1")
    assert ps1["status"] == "new" and ps1["late"] is False
    assert ps1["due_at"].startswith("2030-01-01")
    assert ps1["notebooks"] == ["ps1"] and ps1["max_score"] == 3
    old = by_slug(course["assignments"], "old1")
    assert old["status"] == "new" and old["late"] is True  # past due, nothing submitted
    # the grader's lessons of the course, not the manifest baked into the image
    assert course["lessons"] == [{"slug": "00-welcome", "title": "Welcome (from the grader)",
                                  "path": "lessons/00-welcome.ipynb", "source": "grader"}]


def test_fetch_writes_student_version_and_status_becomes_fetched(studio, jp_root_dir):
    out = call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST",
                     body={})
    assert sorted(out["written"]) == ["data/input.csv", "ps1.ipynb"]
    folder = jp_root_dir / "courses" / COURSE / "ps1"
    text = (folder / "ps1.ipynb").read_text()
    assert "HIDDEN-MARKER" not in text and "BEGIN SOLUTION" not in text
    assert "YOUR CODE HERE" in text or "NotImplementedError" in text
    assert (folder / "data" / "input.csv").read_text() == "n\n3\n"
    courses = (call(studio, "courses"))["courses"]
    assert by_slug(by_slug(courses, COURSE)["assignments"], "ps1")["status"] == "fetched"


def test_fetch_again_never_overwrites_work_without_the_flag(studio, jp_root_dir, caplog):
    call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST")
    nb_path = jp_root_dir / "courses" / COURSE / "ps1" / "ps1.ipynb"
    answer(nb_path, correct=True)
    mine = nb_path.read_bytes()
    code, err = fails(studio, "courses", COURSE, "assignments", "ps1", "fetch",
                            method="POST", body={})
    assert code == 409 and err["code"] == "WorkWouldBeOverwritten"
    assert err["conflicts"] == ["ps1.ipynb"] and "Restore" in err["message"]
    assert nb_path.read_bytes() == mine  # nothing lost
    # the log line names what it concerns
    assert any("WorkWouldBeOverwritten" in r.getMessage()
               and f"course={COURSE} assignment=ps1" in r.getMessage() for r in caplog.records)
    # with the flag: replaced, and the learner's version is kept as a backup
    out = call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST",
                     body={"overwrite": True})
    assert out["backed_up"] == ["ps1.ipynb"]
    assert nb_path.read_bytes() != mine
    backups = list((jp_root_dir / "courses" / COURSE / ".backups" / "ps1").rglob("ps1.ipynb"))
    assert [b.read_bytes() for b in backups] == [mine]


def test_restore_one_pristine_notebook_keeps_a_backup(studio, jp_root_dir):
    call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST")
    folder = jp_root_dir / "courses" / COURSE / "ps1"
    pristine = (folder / "ps1.ipynb").read_bytes()
    answer(folder / "ps1.ipynb", correct=False)
    (folder / "data" / "input.csv").write_text("mine")
    out = call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST",
                     body={"restore": "ps1.ipynb"})
    assert (folder / "ps1.ipynb").read_bytes() == pristine
    assert (folder / "data" / "input.csv").read_text() == "mine"  # only the one notebook
    assert out["backup"].startswith(f"courses/{COURSE}/.backups/ps1/")
    code, err = fails(studio, "courses", COURSE, "assignments", "ps1", "fetch",
                            method="POST", body={"restore": "nope.ipynb"})
    assert code == 404 and err["code"] == "NotAnAssignmentNotebook"
    assert "ps1.ipynb" in err["message"]


def test_submit_uploads_the_folders_notebooks(studio, jp_root_dir, hub):
    call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST")
    answer(jp_root_dir / "courses" / COURSE / "ps1" / "ps1.ipynb", correct=True)
    # JupyterLab's checkpoints are not part of the work
    ckpt = jp_root_dir / "courses" / COURSE / "ps1" / ".ipynb_checkpoints"
    ckpt.mkdir()
    (ckpt / "ps1-checkpoint.ipynb").write_text("{}")
    sub = call(studio, "courses", COURSE, "assignments", "ps1", "submissions",
                     method="POST", body={})
    assert sub["files"] == ["ps1.ipynb"] and sub["status"] == "grading"
    # the grader really has it, under the learner's name
    stored = hub.client(hub.token("prof")).get(f"{hub.grader}/submissions/{sub['id']}").json()
    assert stored["username"] == "ann" and stored["content_hash"] == sub["content_hash"]
    listed = (call(studio, "courses", COURSE, "assignments", "ps1",
                         "submissions"))["submissions"]
    assert sub["id"] in [s["id"] for s in listed]
    one = call(studio, "submissions", str(sub["id"]))
    assert one["status"] == "grading"
    courses = (call(studio, "courses"))["courses"]
    assert by_slug(by_slug(courses, COURSE)["assignments"], "ps1")["status"] == "submitted"


def test_submit_refuses_odd_names_oversize_broken_and_unfetched(
    studio, jp_root_dir, jp_serverapp
):
    code, err = fails(studio, "courses", COURSE, "assignments", "old1", "submissions",
                            method="POST")
    assert code == 404 and err["code"] == "NotFetched" and "fetch it first" in err["message"]
    call(studio, "courses", COURSE, "assignments", "old1", "fetch", method="POST")
    folder = jp_root_dir / "courses" / COURSE / "old1"
    odd = folder / "copy;rm -rf.ipynb"
    odd.write_bytes((folder / "ps1.ipynb").read_bytes())
    code, err = fails(studio, "courses", COURSE, "assignments", "old1", "submissions",
                            method="POST")
    assert code == 422 and err["code"] == "SubmissionRefused" and "rename" in err["message"]
    odd.unlink()
    (folder / "broken.ipynb").write_text("not json")
    code, err = fails(studio, "courses", COURSE, "assignments", "old1", "submissions",
                            method="POST")
    assert err["code"] == "SubmissionRefused" and "broken.ipynb" in err["message"]
    (folder / "broken.ipynb").unlink()
    nb = nbformat.read(folder / "ps1.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * 30_000))
    nbformat.write(nb, folder / "ps1.ipynb")
    jp_serverapp.web_app.settings["learning_studio"]["rules"].max_submission_bytes = 20_000
    code, err = fails(studio, "courses", COURSE, "assignments", "old1", "submissions",
                            method="POST")
    assert err["code"] == "SubmissionRefused" and "Clear All Outputs" in err["message"]


def test_hints_of_a_cell_come_from_the_grader_without_the_release(
    studio, jp_serverapp, monkeypatch
):
    grader = jp_serverapp.web_app.settings["learning_studio"]["grader"]

    async def no_release(*args, **kwargs):
        raise AssertionError("the Hint button must not download the whole release")

    monkeypatch.setattr(grader, "release", no_release)
    out = call(studio, "courses", COURSE, "assignments", "ps1", "hints",
               notebook="ps1.ipynb", cell="squares")
    assert out["hints"] == HINTS
    out = call(studio, "courses", COURSE, "assignments", "ps1", "hints",
               notebook="ps1.ipynb", cell="test_squares")
    assert out["hints"] == []
    code, err = fails(studio, "courses", COURSE, "assignments", "ps1", "hints",
                      notebook="ps1.ipynb", cell="no-such-cell")
    assert code == 404 and "no-such-cell" in err["message"]
    code, err = fails(studio, "courses", COURSE, "assignments", "ps1", "hints",
                      notebook="other.ipynb", cell="squares")
    assert code == 404 and "other.ipynb" in err["message"]


def test_hints_endpoint_of_the_grader_serves_one_cell(hub):
    """The grader answers with one cell's hints; a non-member learns nothing."""
    url = f"{hub.grader}/courses/{COURSE}/assignments/ps1/hints"
    r = hub.client(hub.token("ann")).get(url, params={"notebook": "ps1.ipynb", "cell": "squares"})
    assert r.status_code == 200 and r.json()["hints"] == HINTS and r.json()["version"] == 1
    hub.user("eve")
    r = hub.client(hub.token("eve")).get(url, params={"notebook": "ps1.ipynb", "cell": "squares"})
    assert r.status_code == 404


def test_open_lesson_fetches_it_from_the_grader_once(studio, jp_root_dir):
    out = call(studio, "courses", COURSE, "lessons", "00-welcome", method="POST")
    assert out["source"] == "grader"
    assert out["path"] == f"courses/{COURSE}/lessons/00-welcome.ipynb"
    dest = jp_root_dir / out["path"]
    assert WELCOME_MARKER in dest.read_text()  # only the grader has this lesson
    data = jp_root_dir / "courses" / COURSE / "lessons" / "data" / "welcome.csv"
    assert data.read_text() == "greeting\nhello\n"
    assert sorted(out["copied"]) == ["lessons/00-welcome.ipynb", "lessons/data/welcome.csv"]
    dest.write_text("my notes")
    out = call(studio, "courses", COURSE, "lessons", "00-welcome", method="POST")
    assert out["copied"] == [] and dest.read_text() == "my notes"
    code, err = fails(studio, "courses", COURSE, "lessons", "no-such-lesson", method="POST")
    assert code == 404 and err["code"] == "LessonNotFound"


def test_lessons_fall_back_to_the_image_when_the_grader_has_none(studio, jp_root_dir):
    courses = call(studio, "courses")["courses"]
    lessons = by_slug(courses, IMAGE_COURSE)["lessons"]
    assert len(lessons) >= 5 and {x["source"] for x in lessons} == {"image"}
    lesson = by_slug(lessons, "02-dataframes")  # it reads lessons/data/weather.csv
    out = call(studio, "courses", IMAGE_COURSE, "lessons", lesson["slug"], method="POST")
    assert out["source"] == "image" and (jp_root_dir / out["path"]).is_file()
    assert (jp_root_dir / "courses" / IMAGE_COURSE / "lessons" / "data" / "weather.csv").is_file()


def test_only_instructors_store_lessons_and_bad_uploads_are_named(hub):
    url = f"{hub.grader}/courses/{COURSE}/lessons/sneaky"
    body = {"path": "lessons/x.ipynb", "files": {"lessons/x.ipynb": "e30="}}
    r = hub.client(hub.token("ann")).put(url, json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"
    prof = hub.client(hub.token("prof"))
    r = prof.put(url, json={**body, "path": "lessons/other.ipynb"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidUpload"
    assert "lessons/other.ipynb" in r.json()["error"]["message"]
    r = prof.put(url, json={**body, "files": {"../x.ipynb": "e30="}, "path": "../x.ipynb"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidUpload"
    slugs = [x["slug"] for x in prof.get(f"{hub.grader}/courses/{COURSE}/lessons").json()]
    assert slugs == ["00-welcome"]  # nothing was stored
    # someone outside the course reads no lesson of it
    hub.user("mallory")
    mallory = hub.client(hub.token("mallory"))
    assert mallory.get(f"{hub.grader}/courses/{COURSE}/lessons").status_code == 404
    assert mallory.get(f"{hub.grader}/courses/{COURSE}/lessons/00-welcome").status_code == 404


def test_statistics_and_csv_export_are_for_instructors(studio):
    for route in ("statistics", "grades.csv"):
        code, err = fails(studio, "courses", COURSE, "assignments", "ps1", route)
        assert code == 403 and err["code"] == "Forbidden", route


def test_names_that_leave_the_folder_are_refused(studio):
    code, err = fails(studio, "courses", "..", "assignments", "ps1", "fetch",
                            method="POST")
    assert code in (400, 404)
    code, err = fails(studio, "courses", COURSE, "assignments", ".hidden", "fetch",
                            method="POST")
    assert code == 400 and err["code"] == "InvalidRequest"


def test_the_slug_tables_names_through_a_route(studio):
    """The shared table (slug_cases.json) as path segments of the fetch route: bad names are
    refused here with the rule, good ones go on to the grader (which released no such assignment)."""
    for name in SLUG_CASES["bad"]:
        if name in ("", ".", "..") or "/" in name:
            continue  # not one path segment: no route matches it at all
        code, err = fails(studio, "courses", COURSE, "assignments", name, "fetch",
                          method="POST")
        assert code == 400 and err["code"] == "InvalidRequest", name
        assert f"assignment {name!r} is not a valid name" in err["message"], err
    for name in SLUG_CASES["good"]:
        code, err = fails(studio, "courses", name, "assignments", "not-released", "fetch",
                          method="POST")
        assert code in (403, 404) and err["code"] != "InvalidRequest", (name, err)


def test_another_learners_submission_is_not_found(studio, jp_root_dir, hub):
    bob = hub.client(hub.token("bob"))
    r = bob.get(f"{hub.grader}/courses/{COURSE}/assignments/ps1/submissions")
    assert r.status_code == 200
    # ann submits; bob's server asks for it by id
    call(studio, "courses", COURSE, "assignments", "ps1", "fetch", method="POST")
    sub = call(studio, "courses", COURSE, "assignments", "ps1", "submissions",
                     method="POST")
    assert bob.get(f"{hub.grader}/submissions/{sub['id']}").status_code == 404


def test_grader_refusal_is_passed_on_with_its_code(studio):
    code, err = fails(studio, "courses", "no-such-course", "assignments", "x", "fetch",
                            method="POST")
    assert code in (403, 404) and err["code"] and "no-such-course" in err["message"]


@pytest.fixture
def down_config(hub, learner_token):
    return server_config(hub, learner_token)


class TestGraderDown:
    @pytest.fixture
    def jp_server_config(self, hub, learner_token):
        config = server_config(hub, learner_token)
        from service_support import free_port

        # a port nobody listens on: the grader is down
        config["GraderClient"]["grader_url"] = f"http://127.0.0.1:{free_port()}/services/grader/"
        return config

    def test_grader_down_is_a_named_error_and_work_is_kept(self, studio):
        code, err = fails(studio, "courses")
        assert code == 503 and err["code"] == "GraderUnavailable"
        assert "try again" in err["message"]


class TestNoGraderConfigured:
    @pytest.fixture
    def jp_server_config(self, hub, learner_token, monkeypatch):
        for var in ("STUDIO_GRADER_URL", "JUPYTERHUB_API_URL"):
            monkeypatch.delenv(var, raising=False)
        config = server_config(hub, learner_token)
        del config["GraderClient"]["grader_url"]
        return config

    def test_missing_grader_url_says_what_to_set(self, studio):
        code, err = fails(studio, "courses")
        assert code == 503 and err["code"] == "GraderNotConfigured"
        assert "STUDIO_GRADER_URL" in err["message"]


def test_feedback_release_needs_a_graded_submission_and_an_instructor(hub):
    """PUT .../feedback/<notebook> (nbgrader release_feedback): named refusals; no grading
    workers here, so the submission stays ungraded."""
    import base64

    from service_support import answered

    ann = hub.client(hub.token("ann"))
    release = ann.get(f"{hub.grader}/courses/{COURSE}/assignments/ps1/release").json()
    mine = answered(base64.b64decode(release["files"]["ps1.ipynb"]), correct=True)
    sub = ann.post(f"{hub.grader}/courses/{COURSE}/assignments/ps1/submissions",
                   json={"files": {"ps1.ipynb": base64.b64encode(mine).decode()}}).json()
    url = f"{hub.grader}/submissions/{sub['id']}/feedback"
    r = ann.put(f"{url}/ps1", json={"html": "<p>I graded myself</p>"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"
    prof = hub.client(hub.token("prof"))
    r = prof.put(f"{url}/ps1", json={"html": "<p>good</p>"})
    assert r.status_code == 409 and "not graded yet" in r.json()["error"]["message"]
    r = prof.put(f"{url}/nope", json={"html": "<p>good</p>"})
    assert r.status_code == 404 and "ps1" in r.json()["error"]["message"]
    r = prof.put(f"{url}/ps1", json={})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"


class TestSubmittingTooOften:
    """The grader's 429 (GraderSettings.submission_rate, 6 a minute here) reaches the browser
    with its code, its message and Retry-After; the learner's folder is left as it was."""

    @pytest.fixture
    def jp_server_config(self, hub):
        import base64

        from extension_support import hinted_source

        hub.user("rita", groups=(f"learners:{COURSE}",))
        prof = hub.client(hub.token("prof"))
        # no submission limit on this assignment: only the rate stops rita
        r = prof.post(f"{hub.grader}/courses/{COURSE}/assignments/rapid/release",
                      json={"files": {"ps1.ipynb": base64.b64encode(hinted_source()).decode()}})
        assert r.status_code == 201, r.text
        return server_config(hub, hub.token("rita"))

    def test_the_wait_is_passed_on_and_the_work_is_kept(self, studio, jp_root_dir):
        call(studio, "courses", COURSE, "assignments", "rapid", "fetch", method="POST")
        notebook = jp_root_dir / "courses" / COURSE / "rapid" / "ps1.ipynb"
        answer(notebook, correct=True)
        for _ in range(6):
            call(studio, "courses", COURSE, "assignments", "rapid", "submissions", method="POST")
        work = notebook.read_bytes()
        with pytest.raises(HTTPClientError) as info:
            call(studio, "courses", COURSE, "assignments", "rapid", "submissions", method="POST")
        assert info.value.code == 429
        err = error(info.value)
        assert err["code"] == "TooManyRequests"
        wait = int(info.value.response.headers["Retry-After"])
        assert 1 <= wait <= 61 and err["retry_after"] == wait
        assert f"submit again in {wait} s" in err["message"]
        assert notebook.read_bytes() == work
        listed = call(studio, "courses", COURSE, "assignments", "rapid", "submissions")
        assert len(listed["submissions"]) == 6


class TestInstructorStorage:
    @pytest.fixture
    def jp_server_config(self, hub):
        return server_config(hub, hub.token("prof"))

    def test_the_courses_storage_comes_from_the_grader(self, studio, hub):
        got = call(studio, "courses", COURSE, "storage")
        direct = hub.client(hub.token("prof")).get(f"{hub.grader}/courses/{COURSE}/storage")
        assert direct.status_code == 200 and got == direct.json()
        assert {a["assignment"] for a in got["assignments"]} >= {"ps1", "old1"}
        assert got["kinds"]["lessons"]["count"] == 1 and got["total_bytes"] > 0


def test_storage_is_for_instructors(studio):
    code, err = fails(studio, "courses", COURSE, "storage")
    assert code == 403 and err["code"] == "Forbidden"
    code, err = fails(studio, "courses", ".hidden", "storage")
    assert code == 400 and err["code"] == "InvalidRequest"


def test_without_an_ai_endpoint_the_tutor_says_it_is_off_and_why(studio):
    """This hub has no OPENAI_* settings: the tutor's buttons learn that it is off, and
    why, and a question is refused with the same sentence (nothing else changes)."""
    status = call(studio, "courses", COURSE, "assignments", "ps1", "tutor")
    assert status["enabled"] is False
    assert "no AI endpoint is configured" in status["reason"]
    code, err = fails(studio, "courses", COURSE, "assignments", "ps1", "tutor", method="POST",
                      body={"notebook": "ps1.ipynb", "cell": "squares", "question": "help?"})
    assert code == 503 and "no AI endpoint is configured" in err["message"]
