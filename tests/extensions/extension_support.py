"""Course material for the extension tests, built on the grader tests' own assignment."""

from __future__ import annotations

import base64
import json
import os
from contextlib import contextmanager
from pathlib import Path

import nbformat
import service_support
from service_support import source_notebook

from studio_contracts import slug

REPO = Path(__file__).resolve().parents[2]
# the learner image under test: the one the stack would run (STUDIO_LEARNER_IMAGE, as in
# hub/settings.py), so a branch can test its own build without retagging :latest
LEARNER_IMAGE = os.environ.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest")

# the slug of a real course in courses/; the grader holds one lesson of it (WELCOME)
COURSE = "python-foundations"
# a real course in courses/ whose grader has no lessons: the panel falls back to the
# manifest baked into the learner image (here: the repository's courses/)
IMAGE_COURSE = "data-analysis-pandas"
WELCOME_MARKER = "WELCOME-FROM-THE-GRADER"
# the shared table of good and bad names every side runs through its own validator
SLUG_CASES = json.loads(Path(slug.__file__).with_name("slug_cases.json").read_text())
HINTS = ["Think of range(1, n + 1).", "A list comprehension: [i * i for i in ...]"]


def hinted_source() -> bytes:
    """The grader tests' squares notebook, with hints on its solution cell."""
    nb = source_notebook()
    for cell in nb.cells:
        if cell.metadata["nbgrader"]["grade_id"] == "squares":
            cell.metadata["learning_studio"] = {"hints": HINTS}
    return nbformat.writes(nb).encode()


def welcome_lesson() -> dict:
    """A lesson that exists only in the grader (no course.yml lists it): proof of origin."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# Welcome\n\n{WELCOME_MARKER}"),
        nbformat.v4.new_code_cell("open('data/welcome.csv').read()"),
    ])
    files = {"lessons/00-welcome.ipynb": nbformat.writes(nb).encode(),
             "lessons/data/welcome.csv": b"greeting\nhello\n"}
    return {"title": "Welcome (from the grader)", "path": "lessons/00-welcome.ipynb",
            "files": {k: base64.b64encode(v).decode() for k, v in files.items()}}


def publish(hub) -> None:
    """prof releases ps1 (due 2030) and old1 (due in the past) and stores one lesson;
    ann and bob learn; ann is also in a second course whose grader has no lessons."""
    hub.user("prof", groups=("instructors", f"instructors:{COURSE}"))
    hub.user("ann", groups=(f"learners:{COURSE}", f"learners:{IMAGE_COURSE}"))
    hub.user("bob", groups=(f"learners:{COURSE}",))
    prof = hub.client(hub.token("prof"))
    r = prof.post(f"{hub.grader}/courses", json={"slug": COURSE, "title": "Python Foundations"})
    assert r.status_code == 201, r.text
    r = prof.post(f"{hub.grader}/courses", json={"slug": IMAGE_COURSE, "title": "Pandas"})
    assert r.status_code == 201, r.text
    r = prof.put(f"{hub.grader}/courses/{COURSE}/lessons/00-welcome", json=welcome_lesson())
    assert r.status_code == 200, r.text
    for assignment, due in (("ps1", "2030-01-01T00:00:00Z"), ("old1", "2020-01-01T00:00:00Z")):
        r = prof.post(
            f"{hub.grader}/courses/{COURSE}/assignments/{assignment}/release",
            files=[("files", ("ps1.ipynb", hinted_source())),
                   ("files", ("data/input.csv", b"n\n3\n"))],
            data={"due_at": due, "max_submissions": "5"},
        )
        assert r.status_code == 201, r.text


def answer(path, correct: bool) -> None:
    """Write an answer into the fetched notebook, as a learner would in JupyterLab."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "squares":
            cell.source = ("def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
                           if correct else "def squares(n):\n    return []\n")
        if gid == "explain":
            cell.source = "Because each is n times n."
    nbformat.write(nb, path)


def error(resp_or_exc) -> dict:
    body = resp_or_exc.response.body if hasattr(resp_or_exc, "response") else resp_or_exc.body
    return json.loads(body)["error"]


def fake_openai_server():
    """The local OpenAI-compatible test server (tests/cms/fake_openai.py), loaded by path
    as the grader's tests load it (tests/grader/service/fake_ai.py)."""
    import importlib.util

    path = REPO / "tests" / "grader" / "service" / "fake_ai.py"
    spec = importlib.util.spec_from_file_location("fake_ai", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeOpenAIServer()


# the grader without grading workers: the route tests' hubs
NO_GRADING = """
c.GraderSettings.worker_count = 0
c.GraderSettings.check_releases = False
c.GraderSettings.user_cache_seconds = 1
"""


@contextmanager
def ai_hub(root: Path, ai, extra_config: str = ""):
    """Hub + grader (no grading) whose AI endpoint is the test server ``ai``, with the
    course released (publish)."""
    proc, hub = service_support.start_hub(root, NO_GRADING + extra_config,
                                          {"OPENAI_BASE_URL": ai.base_url})
    try:
        publish(hub)
        yield hub
    finally:
        service_support.stop_hub(proc)


def server_config(hub, token: str) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"learning_studio_lab": True}},
        "GraderClient": {"grader_url": f"{hub.url}/services/grader/", "api_token": token,
                         "request_timeout": 60.0},
        "LessonLibrary": {"library_dir": str(REPO / "courses")},
    }
