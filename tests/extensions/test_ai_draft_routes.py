"""The server extension's AI draft routes (learning-studio/courses/<c>/drafts) against a
real hub + grader whose AI endpoint is the local OpenAI-compatible test server: an
instructor's draft lands in the course's source folder (exercise) or lessons folder
(lesson), never over an existing file; learners get the grader's 404."""

from __future__ import annotations

import json

import nbformat
import pytest
from extension_support import COURSE, ai_hub, error, server_config
from tornado.httpclient import HTTPClientError

pytestmark = pytest.mark.timeout(180)


def call(studio, *path, method="GET", body=None):
    kw = {"method": method}
    if body is not None or method == "POST":
        kw["body"] = json.dumps(body or {})
    return json.loads(studio("learning-studio", *path, **kw).body)


def fails(studio, *path, method="GET", body=None) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        call(studio, *path, method=method, body=body)
    return info.value.code, error(info.value)

EXERCISE = {
    "title": "Cubes",
    "introduction": "Powers of numbers.",
    "parts": [{
        "name": "cubes", "instructions": "Write `cubes(n)`: the cubes of 1..n.",
        "solution": "def cubes(n):\n    return [i ** 3 for i in range(1, n + 1)]",
        "tests": "assert cubes(2) == [1, 8]",
        "hidden_tests": "assert cubes(0) == []",
        "points": 2, "hints": ["i ** 3 is i cubed."],
    }],
}
LESSON = {"title": "Powers", "introduction": "", "summary": "",
          "sections": [{"heading": "The ** operator", "text": "`2 ** 3` is 8.",
                        "code": "print(2 ** 3)"}]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, ai):
    with ai_hub(tmp_path_factory.mktemp("ai-hub"), ai) as hub:
        yield hub


@pytest.fixture
def jp_server_config(hub):
    return server_config(hub, hub.token("prof"))


def test_an_exercise_draft_lands_in_the_source_folder(studio, jp_root_dir, ai, hub):
    ai.reply = EXERCISE
    out = call(studio, "courses", COURSE, "drafts", method="POST", body={
        "kind": "exercise", "topic": "cubes", "assignment": "ps-cubes", "name": "cubes"})
    assert out["path"] == f"courses/{COURSE}/source/ps-cubes/cubes.ipynb"
    assert out["written"] is True and "notebook" not in out
    nb = nbformat.read(jp_root_dir / out["path"], as_version=4)
    sources = [c.source for c in nb.cells]
    assert any("### BEGIN SOLUTION" in s for s in sources)
    assert any("### BEGIN HIDDEN TESTS" in s for s in sources)
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    assert solution.metadata.learning_studio["hints"] == ["i ** 3 is i cubed."]
    # the grader stored it for the course: the list says where it is in this server
    listed = call(studio, "courses", COURSE, "drafts")
    assert listed[0]["id"] == out["id"] and listed[0]["path"] == out["path"]
    assert listed[0]["written"] is True

    # a second draft to the same place is refused before the AI is asked
    asked = len(ai.requests)
    code, err = fails(studio, "courses", COURSE, "drafts", method="POST", body={
        "kind": "exercise", "topic": "cubes again", "assignment": "ps-cubes",
        "name": "cubes"})
    assert code == 409 and err["code"] == "DraftExists"
    assert "already exists" in err["message"] and len(ai.requests) == asked


def test_open_writes_a_stored_draft_once_and_never_over_edits(studio, jp_root_dir, ai, hub):
    ai.reply = EXERCISE
    # a draft made elsewhere (the site sends drafts to the grader the same way)
    r = hub.client(hub.token("prof")).post(
        f"{hub.grader}/courses/{COURSE}/drafts",
        json={"kind": "exercise", "topic": "cubes", "assignment": "ps-site"})
    assert r.status_code == 201, r.text
    draft_id = r.json()["id"]
    assert [d for d in call(studio, "courses", COURSE, "drafts")
            if d["id"] == draft_id][0]["written"] is False
    out = call(studio, "courses", COURSE, "drafts", str(draft_id), "open", method="POST")
    path = jp_root_dir / out["path"]
    assert out == {"path": f"courses/{COURSE}/source/ps-site/ps-site.ipynb", "written": True}
    path.write_text(path.read_text().replace("Powers of numbers", "EDITED"))
    again = call(studio, "courses", COURSE, "drafts", str(draft_id), "open", method="POST")
    assert again["written"] is False and "EDITED" in path.read_text()


def test_a_lesson_draft_lands_in_the_lessons_folder(studio, jp_root_dir, ai):
    ai.reply = LESSON
    out = call(studio, "courses", COURSE, "drafts", method="POST", body={
        "kind": "lesson", "outline": "the ** operator", "assignment": "07-powers"})
    assert out["path"] == f"courses/{COURSE}/lessons/07-powers.ipynb"
    nb = nbformat.read(jp_root_dir / out["path"], as_version=4)
    assert [c.source for c in nb.cells] == ["# Powers", "## The ** operator\n\n`2 ** 3` is 8.",
                                            "print(2 ** 3)"]


def test_refusals_of_the_grader_are_passed_on(studio, jp_root_dir, ai):
    ai.reply = {"title": "no parts"}
    code, err = fails(studio, "courses", COURSE, "drafts", method="POST", body={
        "topic": "cubes", "assignment": "ps-broken"})
    assert code == 422 and err["code"] == "DraftRefused" and 'no "parts"' in err["message"]
    assert not (jp_root_dir / "courses" / COURSE / "source" / "ps-broken").exists()
    code, err = fails(studio, "courses", COURSE, "drafts", method="POST", body={
        "topic": "cubes", "assignment": "../up"})
    assert code == 400 and err["code"] == "InvalidRequest"


class TestLearner:
    @pytest.fixture
    def jp_server_config(self, hub):
        return server_config(hub, hub.token("ann"))

    def test_a_learner_gets_no_draft(self, studio, jp_root_dir, ai):
        ai.reply = EXERCISE
        asked = len(ai.requests)
        code, err = fails(studio, "courses", COURSE, "drafts", method="POST", body={
            "topic": "cubes", "assignment": "ps-ann"})
        assert code == 404 and err["code"] == "NotFound"
        assert len(ai.requests) == asked
        assert not (jp_root_dir / "courses" / COURSE / "source").exists()
        code, _ = fails(studio, "courses", COURSE, "drafts")
        assert code == 404
        code, _ = fails(studio, "courses", COURSE, "drafts", "1", "open", method="POST")
        assert code == 404
        assert json.dumps(err).find("BEGIN SOLUTION") == -1


class TestSlowAI:
    @pytest.fixture
    def jp_server_config(self, hub):
        config = server_config(hub, hub.token("prof"))
        config["GraderClient"]["draft_timeout"] = 1.0
        return config

    def test_a_slow_ai_ends_in_a_clear_message_and_no_file(self, studio, jp_root_dir, ai):
        ai.mode, ai.delay = "slow", 3.0
        try:
            code, err = fails(studio, "courses", COURSE, "drafts", method="POST", body={
                "topic": "cubes", "assignment": "ps-slow"})
        finally:
            ai.mode = "ok"
        assert code == 503 and err["code"] == "GraderUnavailable"
        assert "did not answer" in err["message"]
        assert not (jp_root_dir / "courses" / COURSE / "source" / "ps-slow").exists()
