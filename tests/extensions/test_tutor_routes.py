"""The server extension's tutor route (learning-studio/courses/<c>/assignments/<a>/tutor)
against a real hub + grader whose AI endpoint is the local OpenAI-compatible test server:
the grader's Server-Sent Events reach the browser as they are written (not at the end),
a withdrawn answer arrives as `reset`, and the grader's refusals (policy off, a bad
request, AI off) come back as JSON with the grader's own message."""

from __future__ import annotations

import json
import time

import pytest
from extension_support import COURSE, ai_hub, error, server_config
from tornado.httpclient import HTTPClientError

pytestmark = pytest.mark.timeout(180)

# several lines: the grader's leak check lets prose through a line at a time
HARMLESS = ("What does range(n) start with?\n"
            "Compare the first number your list holds with the first number the test "
            "expects.\n"
            "Then think about where the range should begin and end.\n")
# the released solution, as a model that ignores its instructions would write it
LEAK = "Here you go:\n```python\ndef squares(n):\n    return [i * i for i in range(1, n + 1)]\n```\n"
LEARNER_CODE = "def squares(n):\n    return [i * i for i in range(n)]\n"
ASK = {"notebook": "ps1.ipynb", "cell": "squares", "code": LEARNER_CODE, "error": "",
       "test": {"cell": "test_squares",
                "error": "AssertionError: assert squares(3) == [1, 4, 9]"},
       "hints_revealed": 1, "question": "", "conversation": None}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, ai):
    # every test here asks as ann, several within a minute (the limits have their own
    # tests: tests/grader/service/test_tutor_api.py)
    with ai_hub(tmp_path_factory.mktemp("tutor-hub"), ai,
                "c.GraderSettings.tutor_rate_per_minute = 0\n") as hub:
        yield hub


@pytest.fixture
def jp_server_config(hub):
    return server_config(hub, hub.token("ann"))


@pytest.fixture(autouse=True)
def _fresh(ai):
    ai.mode, ai.reply, ai.replies, ai.chunk_delay = "ok", HARMLESS, [], 0.0


def events(body: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def ask(studio, body=None, **kw):
    return studio("learning-studio", "courses", COURSE, "assignments", "ps1", "tutor",
                  method="POST", body=json.dumps(body or ASK), **kw)


def test_status_is_the_graders(studio):
    status = json.loads(studio("learning-studio", "courses", COURSE, "assignments", "ps1",
                               "tutor").body)
    assert status["enabled"] is True and status["policy"] == "hints"
    assert status["reason"] == "" and status["remaining_today"] > 0


def test_the_answer_streams_through_as_it_is_written(studio, ai):
    ai.chunk_delay = 0.05  # ~30 words over three lines: about 1.5 s from first to last
    arrived: list[tuple[float, bytes]] = []
    resp = ask(studio, streaming_callback=lambda chunk: arrived.append((time.monotonic(), chunk)))
    assert resp.code == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    body = b"".join(chunk for _, chunk in arrived)
    got = events(body)
    names = [name for name, _ in got]
    assert names[0] == "start" and names[-1] == "done" and "delta" in names
    assert "".join(d["text"] for n, d in got if n == "delta") == HARMLESS
    assert isinstance(got[0][1]["conversation"], int)
    # pieces reached this client while the model was still writing, not all at the end
    first_delta = next(t for t, chunk in arrived if b"event: delta" in chunk)
    assert arrived[-1][0] - first_delta > 0.5, [round(t - arrived[0][0], 2) for t, _ in arrived]
    # what the model was sent: the learner's code, the failing test and its error, the
    # opened hint; never the hidden test or the solution's own line
    prompt = json.dumps(ai.requests[-1]["body"]["messages"])
    assert "range(n)" in prompt and "assert squares(3) == [1, 4, 9]" in prompt
    assert "AssertionError" in prompt and "Think of range(1, n + 1)." in prompt
    assert "HIDDEN-MARKER" not in prompt and "A list comprehension" not in prompt


def test_a_follow_up_continues_the_conversation(studio, ai):
    first = events(ask(studio).body)
    conversation = first[0][1]["conversation"]
    ai.reply = "Where does your range start, and where should it?\n"
    body = {**ASK, "question": "Is it the range?", "conversation": conversation}
    second = events(ask(studio, body).body)
    assert second[0][1]["conversation"] == conversation
    sent = json.dumps(ai.requests[-1]["body"]["messages"])
    assert "Is it the range?" in sent and "What does range(n) start with?" in sent


def test_an_answer_with_the_solution_is_withdrawn_and_written_again(studio, ai):
    ai.replies = [LEAK, HARMLESS]
    got = events(ask(studio).body)
    names = [name for name, _ in got]
    assert "reset" in names and names[-1] == "done", names
    after = names.index("reset")
    shown = "".join(d["text"] for n, d in got[after:] if n == "delta")
    assert shown == HARMLESS and "range(1, n + 1)" not in shown
    assert "too close to the solution" in got[after][1]["message"]
    # nothing of the leak before the reset either: its code block was held back whole
    before = "".join(d["text"] for n, d in got[:after] if n == "delta")
    assert "i * i for i in range(1, n + 1)" not in before


def test_twice_too_close_is_withheld(studio, ai):
    ai.replies = [LEAK, LEAK]
    got = events(ask(studio).body)
    done = got[-1]
    assert done[0] == "done" and done[1]["withheld"] is True
    assert "withheld" in done[1]["message"]
    assert not any("range(1, n + 1)" in d.get("text", "") for _, d in got)


def test_refusals_come_back_as_json_with_the_graders_message(studio, hub, ai):
    asked = len(ai.requests)
    with pytest.raises(HTTPClientError) as info:
        ask(studio, {**ASK, "cell": ""})
    assert info.value.code == 400 and "grade_id" in error(info.value)["message"]
    with pytest.raises(HTTPClientError) as info:
        ask(studio, {**ASK, "cell": "test_squares"})  # a test, not an exercise
    assert info.value.code == 404
    prof = hub.client(hub.token("prof"))
    policy = f"{hub.grader}/courses/{COURSE}/tutor/policy"
    assert prof.put(policy, json={"policy": "off", "assignment": "ps1"}).ok
    try:
        with pytest.raises(HTTPClientError) as info:
            ask(studio)
        assert info.value.code == 403
        assert "turned the tutor off" in error(info.value)["message"]
        status = json.loads(studio("learning-studio", "courses", COURSE, "assignments", "ps1",
                                   "tutor").body)
        assert status["enabled"] is False and "turned the tutor off" in status["reason"]
    finally:
        assert prof.put(policy, json={"policy": None, "assignment": "ps1"}).ok
    assert len(ai.requests) == asked  # none of these reached the model
    with pytest.raises(HTTPClientError) as info:
        studio("learning-studio", "courses", "../etc", "assignments", "ps1", "tutor")
    assert info.value.code in (400, 404)


def test_the_grader_down_is_a_clear_503(studio, jp_serverapp):
    client = jp_serverapp.web_app.settings["learning_studio"]["grader"]
    real = client.grader_url
    client.grader_url = "http://127.0.0.1:9/services/grader/"  # nothing listens there
    try:
        with pytest.raises(HTTPClientError) as info:
            ask(studio)
        assert info.value.code == 503
        assert "try the tutor again" in error(info.value)["message"]
    finally:
        client.grader_url = real
