"""Helpers of the tutor's tests and benchmark: an assignment with hints, a hub + grader
that talks to the local OpenAI-compatible server, and an SSE reader."""

from __future__ import annotations

import json
import time

import nbformat
from service_support import source_notebook

SOLUTION_LINE = "return [i * i for i in range(1, n + 1)]"
HINTS = ["Which numbers does the test expect squares of?", "Look at where range starts.",
         "THIRD-HINT-NOT-REVEALED"]
EXERCISE_TEXT = "Write `squares(n)`: the squares of 1 to n, in a list."

TUTOR_CONFIG = """
c.GraderSettings.worker_count = 0          # no grading: these tests need no Docker
c.GraderSettings.check_releases = False
c.GraderSettings.user_cache_seconds = 1
c.GraderSettings.tutor_rate_per_minute = 6
c.GraderSettings.tutor_daily_limit = 30
c.GraderSettings.tutor_course_budgets = {
    "tight": {"learner_daily_limit": 2},
    "broke": {"daily_tokens": 1},
    "poor": {"monthly_cost": 0.000001},
}
c.GraderSettings.tutor_price_prompt = 1.0
c.GraderSettings.tutor_price_completion = 2.0
c.GraderSettings.metrics_token = "tutor-test-metrics"
"""


def tutor_notebook() -> nbformat.NotebookNode:
    """service_support's squares assignment, with the exercise's text and three hints."""
    nb = source_notebook()
    nb.cells[0].source = "# Squares\n\n" + EXERCISE_TEXT
    nb.cells[1].metadata["learning_studio"] = {"hints": HINTS}
    return nb


def tutor_files() -> dict[str, bytes]:
    return {"ps1.ipynb": nbformat.writes(tutor_notebook()).encode()}


def release(hub, client, course: str) -> None:
    """Create the course and release the squares assignment in it (as an instructor)."""
    r = client.post(f"{hub.grader}/courses", json={"slug": course, "title": course})
    assert r.status_code == 201, r.text
    r = client.post(f"{hub.grader}/courses/{course}/assignments/ps1/release",
                    files=[("files", (n, d)) for n, d in tutor_files().items()])
    assert r.status_code == 201, r.text


def body(**kw) -> dict:
    out = {"notebook": "ps1.ipynb", "cell": "squares",
           "code": "def squares(n):\n    return [i * i for i in range(n)]\n",
           "error": None,
           "test": {"cell": "test_squares",
                    "error": "AssertionError: assert [0, 1, 4] == [1, 4, 9]"},
           "hints_revealed": 2, "question": "Why does the test fail?", "conversation": None}
    out.update(kw)
    return out


class Answer:
    """A POST to the tutor read as Server-Sent Events, with when each arrived."""

    def __init__(self, response, started: float) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.events: list[tuple[str, dict, float]] = []
        self.json = None
        if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
            self.json = response.json()
            return
        name, data = None, []
        for raw in response.iter_lines(decode_unicode=True):
            if raw.startswith("event: "):
                name = raw[7:]
            elif raw.startswith("data: "):
                data.append(raw[6:])
            elif raw == "" and name:
                self.events.append((name, json.loads("\n".join(data)),
                                    time.monotonic() - started))
                name, data = None, []

    def names(self) -> list[str]:
        return [e[0] for e in self.events]

    def of(self, name: str) -> list[dict]:
        return [e[1] for e in self.events if e[0] == name]

    def text(self) -> str:
        """What the learner sees at the end: deltas after the last reset."""
        shown: list[str] = []
        for name, data, _ in self.events:
            if name == "reset":
                shown = []
            elif name == "delta":
                shown.append(data["text"])
        return "".join(shown)

    def all_text(self) -> str:
        """Every delta ever sent, withdrawn ones included."""
        return "".join(d["text"] for d in self.of("delta"))


def ask(session, url: str, payload: dict) -> Answer:
    started = time.monotonic()
    with session.post(url, json=payload, stream=True, timeout=60) as r:
        return Answer(r, started)
