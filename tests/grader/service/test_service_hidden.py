"""Through the hub and the grader service: a learner whose notebook reads the hidden tests
back gets none of them from any of their own API calls; their instructor does."""

from __future__ import annotations

import base64
import html
import subprocess
import time

import nbformat
import pytest
from service_support import answered, source_files, start_hub, stop_hub

from grader.service.records import learner_job_error

PREFIX = "ls-test-svchidden-"
HIDDEN_LINE = "assert squares(1) == [1]  # HIDDEN-MARKER"  # service_support's hidden test


def forms(text: str) -> list[str]:
    return [text, base64.b64encode(text.encode()).decode(), text[::-1], text.encode().hex()]


FORBIDDEN = forms(HIDDEN_LINE) + forms("HIDDEN-MARKER")

# cells a learner adds after the test cell: print the hidden line from IPython's history,
# encoded four ways, then send a message the grader's client chokes on (its exception
# text would carry the line into the submission's message)
ATTACK = [
    "import base64\n"
    "secret = next(l.strip() for l in _i.splitlines() if 'HIDDEN-' + 'MARKER' in l)\n"
    "forms = [secret, base64.b64encode(secret.encode()).decode(), secret[::-1],\n"
    "         secret.encode().hex()]\n"
    "for form in forms:\n    print(form)",
    "k = get_ipython().kernel\n"
    "k.session.send(k.iopub_socket, 'error', {'ename': forms, 'evalue': 'x', 'traceback': 'x'},"
    " parent=k.get_parent())",
]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if subprocess.run(["docker", "image", "inspect", "learning-studio/learner:latest"],
                      capture_output=True).returncode != 0:
        pytest.fail("image learning-studio/learner:latest is missing: build images/learner")
    config = f"""
c.GraderSettings.worker_count = 1
c.GraderSettings.poll_seconds = 0.2
c.GraderSettings.user_cache_seconds = 1
c.DockerSandbox.name_prefix = "{PREFIX}"
c.SandboxPool.warm = 1
c.SandboxPool.concurrency = 1
"""
    proc, hub = start_hub(tmp_path_factory.mktemp("hidden-hub"), config, {})
    yield hub
    stop_hub(proc)
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={PREFIX}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def _leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, form) for where, text in texts.items() for form in FORBIDDEN
            if form in html.unescape(text)]


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_learner_gets_nothing_hidden_back_an_instructor_does(hub):
    hub.user("prof", groups=("instructors", "instructors:hid"))
    hub.user("eve", groups=("learners:hid",))
    prof, eve = (hub.client(hub.token(n)) for n in ("prof", "eve"))
    g = hub.grader
    assert prof.post(f"{g}/courses", json={"slug": "hid"}).status_code == 201
    r = prof.post(f"{g}/courses/hid/assignments/ps1/release",
                  json={"files": {k: _b64(v) for k, v in source_files().items()}})
    assert r.status_code == 201, r.text

    release = eve.get(f"{g}/courses/hid/assignments/ps1/release")
    student = base64.b64decode(release.json()["files"]["ps1.ipynb"])
    nb = nbformat.reads(answered(student, True).decode(), as_version=4)
    at = next(i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "test_squares")
    nb.cells[at + 1:at + 1] = [nbformat.v4.new_code_cell(src) for src in ATTACK]
    url = f"{g}/courses/hid/assignments/ps1/submissions"
    sub = eve.post(url, json={"files": {"ps1.ipynb": _b64(nbformat.writes(nb).encode())}})
    assert sub.status_code == 201, sub.text
    sid = sub.json()["id"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        mine = eve.get(f"{g}/submissions/{sid}").json()
        if mine["status"] in ("graded", "failed"):
            break
        time.sleep(0.5)
    assert mine["status"] == "graded", mine
    assert mine["score"] == 2.0  # the honest answer still passes its test (hidden ones too)
    assert "Execution stopped" in mine["message"]

    # the instructor's graded notebook shows what the attack got out of the kernel ...
    graded = prof.get(f"{g}/submissions/{sid}/graded/ps1")
    assert graded.status_code == 200
    assert all(form in graded.text for form in forms(HIDDEN_LINE))
    # ... and every learner call returns none of it
    feedback = eve.get(f"{g}/submissions/{sid}/feedback/ps1")
    assert feedback.status_code == 200
    assert "Output withheld: this cell ran after hidden tests" in feedback.text
    texts = {
        "submission": eve.get(f"{g}/submissions/{sid}").text,
        "listing": eve.get(url).text,
        "assignments": eve.get(f"{g}/courses/hid/assignments").text,
        "me": eve.get(f"{g}/me").text,
        "release": release.text,
        "feedback": feedback.text,
    }
    assert all(
        eve.get(f"{g}/{path}").status_code == 200
        for path in ("me", "courses/hid/assignments", f"submissions/{sid}"))
    assert eve.get(f"{g}/submissions/{sid}/graded/ps1").status_code == 403
    assert _leaks(texts) == []
    # the stopped notebook's message: the instructor's listing shows the same safe text
    assert prof.get(f"{g}/submissions/{sid}").json()["message"] == mine["message"]

    # feedback an instructor releases themselves is shown without the hidden lines
    own = f"<html><body><pre>{html.escape(HIDDEN_LINE)}</pre><p>Well done.</p></body></html>"
    r = prof.put(f"{g}/submissions/{sid}/feedback/ps1", json={"html": own})
    assert r.status_code == 200, r.text
    released = eve.get(f"{g}/submissions/{sid}/feedback/ps1").text
    assert "Well done." in released and "[hidden test code]" in released
    assert _leaks({"released feedback": released}) == []


def test_learners_read_the_kind_of_a_job_failure_only():
    """A failed job's reason can quote an exception raised while the notebooks ran."""
    assert learner_job_error("") == "" and learner_job_error(None) is None
    failed = learner_job_error(f"grading failed: ValidationError: ['{HIDDEN_LINE}']")
    assert HIDDEN_LINE not in failed and failed.startswith("grading failed")
    assert "instructor" in failed
    waiting = learner_job_error("waiting for a sandbox (operator problem): docker is down")
    assert waiting.startswith("waiting for a sandbox") and "docker" not in waiting
    gave_up = "gave up after 3 attempts: the grader running it stopped or hung past its lease"
    assert learner_job_error(gave_up) == gave_up
