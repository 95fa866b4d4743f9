"""End to end through the hub: release (checked in the sandbox) -> submit -> queued job ->
engine in a Docker sandbox -> grade, feedback and CMS event via the API; then a grader
killed mid-batch by SIGKILL, restarted by the hub, loses nothing and grades nothing twice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from service_support import answered, free_port, source_files, start_hub, stop_hub

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

PREFIX = "ls-test-grader-"
SECRET = "hook-secret"
METRICS_TOKEN = "grading-metrics-token"


class CMS(BaseHTTPRequestHandler):
    events: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        CMS.events.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _docker_rm_prefix():
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={PREFIX}"],
                         capture_output=True, text=True).stdout.split()
    if out:
        subprocess.run(["docker", "rm", "-f", *out], capture_output=True)


@pytest.fixture(scope="module")
def grading_hub(tmp_path_factory):
    if subprocess.run(["docker", "image", "inspect", "learning-studio/learner:latest"],
                      capture_output=True).returncode != 0:
        pytest.fail("image learning-studio/learner:latest is missing: build images/learner")
    cms = ThreadingHTTPServer(("127.0.0.1", free_port()), CMS)
    threading.Thread(target=cms.serve_forever, daemon=True).start()
    root = tmp_path_factory.mktemp("grading-hub")
    config = f"""
c.GraderSettings.worker_count = 2
c.GraderSettings.lease_seconds = 6
c.GraderSettings.poll_seconds = 0.2
c.GraderSettings.user_cache_seconds = 1
c.GraderSettings.webhook_url = "http://127.0.0.1:{cms.server_port}/grader-events"
c.GraderSettings.webhook_secret = "{SECRET}"
c.DockerSandbox.name_prefix = "{PREFIX}"
c.SandboxPool.warm = 1
c.SandboxPool.concurrency = 2
c.GraderSettings.metrics_token = "{METRICS_TOKEN}"
"""
    proc, hub = start_hub(root, config, {})
    yield hub, proc
    stop_hub(proc)
    cms.shutdown()
    _docker_rm_prefix()


def _b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


def wait_graded(client, url, ids, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subs = {s["id"]: s for s in client.get(url).json()}
        if all(subs.get(i, {}).get("status") in ("graded", "failed") for i in ids):
            return subs
        time.sleep(0.5)
    raise AssertionError(f"not graded in {timeout}s: {[subs.get(i) for i in ids]}")


def test_release_submit_grade_feedback_and_events(grading_hub):
    hub, _ = grading_hub
    hub.user("prof", groups=("instructors", "instructors:py"))
    hub.user("ann", groups=("learners:py",))
    hub.user("bob", groups=("learners:py",))
    prof, ann, bob = (hub.client(hub.token(n)) for n in ("prof", "ann", "bob"))
    assert prof.post(f"{hub.grader}/courses", json={"slug": "py"}).status_code == 201

    # a test that passes on the untouched student version is refused, with the cell named
    weak = nbformat.reads(source_files()["ps1.ipynb"].decode(), as_version=4)
    weak.cells[2].source = "assert True"
    r = prof.post(f"{hub.grader}/courses/py/assignments/weak/release",
                  json={"files": {"weak.ipynb": _b64(nbformat.writes(weak).encode())}})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["report"]["non_discriminating"] == ["weak/test_squares"]

    r = prof.post(f"{hub.grader}/courses/py/assignments/ps1/release",
                  json={"files": {k: _b64(v) for k, v in source_files().items()}})
    assert r.status_code == 201, r.text
    assert r.json()["check_report"]["ok"] is True

    student_nb = base64.b64decode(
        ann.get(f"{hub.grader}/courses/py/assignments/ps1/release").json()["files"]["ps1.ipynb"])
    url = f"{hub.grader}/courses/py/assignments/ps1/submissions"
    a = ann.post(url, json={"files": {"ps1.ipynb": _b64(answered(student_nb, True))}}).json()
    # bob edits the test cell to pass: the release's master copy is restored before grading
    cheat = nbformat.reads(student_nb.decode(), as_version=4)
    cheat.cells[2].source = "pass"
    b = bob.post(url, json={"files": {"ps1.ipynb": _b64(nbformat.writes(cheat).encode())}}).json()

    subs = wait_graded(prof, url, [a["id"], b["id"]])
    assert subs[a["id"]]["status"] == "graded" and subs[a["id"]]["score"] == 2.0
    assert subs[a["id"]]["needs_manual_grade"] is True
    assert subs[b["id"]]["status"] == "graded" and subs[b["id"]]["score"] == 0.0

    # the same numbers as the engine's fixed-contract command gives for the same files
    mine = ann.get(f"{hub.grader}/submissions/{a['id']}").json()
    cells = {c["cell_id"]: c["score"] for c in mine["cells"]}
    assert cells == {"test_squares": 2.0, "explain": None}

    fb = ann.get(f"{hub.grader}/submissions/{a['id']}/feedback/ps1")
    assert fb.status_code == 200 and "sandbox" in fb.headers["Content-Security-Policy"]
    assert "HIDDEN-MARKER" not in fb.text and "squares" in fb.text
    assert bob.get(f"{hub.grader}/submissions/{a['id']}/feedback/ps1").status_code == 404
    assert bob.get(f"{hub.grader}/submissions/{a['id']}").status_code == 404
    # the executed notebook holds the hidden tests: for instructors only
    assert ann.get(f"{hub.grader}/submissions/{a['id']}/graded/ps1").status_code == 403
    graded = prof.get(f"{hub.grader}/submissions/{a['id']}/graded/ps1")
    assert graded.status_code == 200 and "HIDDEN-MARKER" in graded.text
    nbformat.reads(graded.text, as_version=4)

    r = prof.put(f"{hub.grader}/submissions/{a['id']}/grades/ps1/explain",
                 json={"score": 1, "comment": "clear"})
    assert r.status_code == 200 and r.json()["score"] == 3.0
    assert ann.get(f"{hub.grader}/submissions/{a['id']}").json()["score"] == 3.0

    stats = prof.get(f"{hub.grader}/courses/py/assignments/ps1/statistics").json()
    assert stats["learners"] == 2 and sum(stats["histogram"]["counts"]) == 2

    # both gradings are in the grading-time histogram, and a warm sandbox waits again
    metrics = requests.get(f"{hub.url}/services/grader/metrics", timeout=10,
                           headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200, metrics.text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(metrics.text) for s in f.samples}
    assert samples[("grader_grading_seconds_count", ())] >= 2
    assert samples[("grader_graded_total", (("outcome", "scored"),))] >= 2
    assert samples[("grader_jobs", (("state", "done"),))] >= 2
    assert samples[("grader_sandboxes_warm_target", ())] == 1
    assert samples[("grader_workers", ())] == 2

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(CMS.events) < 3:
        time.sleep(0.3)
    kinds = sorted(json.loads(body)["event"] for _, body in CMS.events)
    assert kinds == ["grade.updated", "submission.graded", "submission.graded"]
    for headers, body in CMS.events:
        mac = hmac.new(SECRET.encode(), headers["X-Studio-Timestamp"].encode() + b"." + body,
                       hashlib.sha256).hexdigest()
        assert headers["X-Studio-Signature"] == "sha256=" + mac


TAMPERED = """
def squares(n):
    return []
sess = get_ipython().kernel.session
orig_send = sess.send
def send(stream, msg_or_type, content=None, *a, **kw):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get('msg_type')
    if kind == 'error':
        return None
    if kind == 'execute_reply' and content and content.get('status') == 'error':
        content = {**content, 'status': 'ok'}
    return orig_send(stream, msg_or_type, content, *a, **kw)
sess.send = send
"""


def test_tampered_kernel_goes_to_the_instructor(grading_hub):
    """A kernel rewired to hide its failing tests: no automatic points, the instructor's
    manual-grading queue with the reason, and the learner reads only that it is in review."""
    hub, _ = grading_hub
    hub.user("eve", groups=("learners:py",))
    eve, prof = hub.client(hub.token("eve")), hub.client(hub.token("prof"))
    student_nb = base64.b64decode(
        eve.get(f"{hub.grader}/courses/py/assignments/ps1/release").json()["files"]["ps1.ipynb"])
    nb = nbformat.reads(student_nb.decode(), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
            cell.source = TAMPERED
    url = f"{hub.grader}/courses/py/assignments/ps1/submissions"
    sub = eve.post(url, json={"files": {"ps1.ipynb": _b64(nbformat.writes(nb).encode())}})
    assert sub.status_code == 201, sub.text
    sid = sub.json()["id"]
    wait_graded(prof, url, [sid])

    mine = eve.get(f"{hub.grader}/submissions/{sid}").json()
    assert mine["in_review"] is True and mine["needs_manual_grade"] is True
    assert mine["score"] == 0.0 and "Sent to your instructor for review." in mine["message"]
    assert "review_reason" not in mine
    fb = eve.get(f"{hub.grader}/submissions/{sid}/feedback/ps1").text
    assert "Sent to your instructor for review." in fb and "tampered" not in fb

    theirs = prof.get(f"{hub.grader}/submissions/{sid}").json()
    assert theirs["in_review"] is True and "test_squares" in theirs["review_reason"]
    waiting = {c["cell_id"] for c in theirs["cells"] if c["needs_manual_grade"]}
    assert "test_squares" in waiting
    # the instructor grades it by hand
    r = prof.put(f"{hub.grader}/submissions/{sid}/grades/ps1/test_squares",
                 json={"score": 0, "comment": "the kernel was rewired"})
    assert r.status_code == 200, r.text
    cells = {c["cell_id"]: c for c in eve.get(f"{hub.grader}/submissions/{sid}").json()["cells"]}
    assert cells["test_squares"]["score"] == 0 and not cells["test_squares"]["needs_manual_grade"]


def _grader_pid(hub_proc) -> int:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if ppid == hub_proc.pid and b"grader" in cmd and b"serve" in cmd:
            return int(pid)
    raise AssertionError("grader service process not found")


def test_grader_killed_mid_batch_regrades_nothing_twice(grading_hub):
    hub, hub_proc = grading_hub
    ann = hub.client(hub.token("ann"))
    student_nb = base64.b64decode(
        ann.get(f"{hub.grader}/courses/py/assignments/ps1/release").json()["files"]["ps1.ipynb"])
    url = f"{hub.grader}/courses/py/assignments/ps1/submissions"
    ids = []
    for i in range(4):
        hub.user(f"l{i}", groups=("learners:py",))
        learner = hub.client(hub.token(f"l{i}"))
        r = learner.post(url, json={"files": {"ps1.ipynb": _b64(answered(student_nb, i % 2 == 0))}})
        ids.append(r.json()["id"])
    db = hub.root / "grader.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it while it is grading
        with sqlite3.connect(db) as conn:
            running = conn.execute("select count(*) from grading_jobs where state='running'"
                                   ).fetchone()[0]
        if running:
            break
        time.sleep(0.1)
    assert running, "no job ever ran"
    old = _grader_pid(hub_proc)
    os.kill(old, signal.SIGKILL)
    # JupyterHub restarts a managed service that died; the new process takes up the jobs
    # left running once their lease expires.
    prof = hub.client(hub.token("prof"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if prof.get(f"{hub.grader}/health", timeout=2).status_code == 200 and \
                    _grader_pid(hub_proc) != old:
                break
        except Exception:
            pass
        time.sleep(0.5)
    subs = wait_graded(prof, url, ids)
    assert [subs[i]["status"] for i in ids] == ["graded"] * 4
    assert [subs[i]["score"] for i in ids] == [2.0, 0.0, 2.0, 0.0]
    with sqlite3.connect(db) as conn:
        jobs = conn.execute(
            f"select submission_id, state, attempts from grading_jobs "
            f"where submission_id in ({','.join(map(str, ids))})").fetchall()
        grades = conn.execute(
            f"select submission_id, count(*) from grades "
            f"where submission_id in ({','.join(map(str, ids))}) group by submission_id"
        ).fetchall()
    assert len(jobs) == 4 and {s for _, s, _ in jobs} == {"done"}
    assert any(n == 2 for *_, n in jobs), "the killed grader held no job"
    assert all(n <= 2 for *_, n in jobs)
    assert dict(grades) == {i: 2 for i in ids}  # one row per cell: stored exactly once
