"""The grader's Prometheus metrics on a real service behind a real hub: who may read them,
that the queue, webhook backlog and disk gauges follow the database, the loopback metrics
port, and JSON logs. No grading here (worker_count=0); the grading-time histogram after a
real grading is checked in test_service_grading.py and in the stack (tests/hub)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from service_support import (
    ADMIN_SCOPES,
    ADMIN_TOKEN,
    PYTHONPATH,
    SERVICE,
    answered,
    free_port,
    source_files,
    start_hub,
    stop_hub,
)
from tooling import require_tool

pytestmark = pytest.mark.timeout(120)

METRICS_TOKEN = "metrics-" + "ab12" * 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def mhub(tmp_path_factory):
    require_tool("configurable-http-proxy")
    port = free_port()
    config = f"""
c.GraderSettings.worker_count = 0
c.GraderSettings.check_releases = False
c.GraderSettings.user_cache_seconds = 1
c.GraderSettings.operator_services = ["test-admin"]
c.GraderSettings.metrics_token = "{METRICS_TOKEN}"
c.GraderApp.metrics_port = {port}
"""
    root = tmp_path_factory.mktemp("metrics-hub")
    proc, hub = start_hub(root, config, {"GRADER_LOG_FORMAT": "json"},
                          admin_scopes=[*ADMIN_SCOPES, f"access:services!service={SERVICE}"])
    hub.metrics_port = port
    hub.metrics = f"{hub.url}/services/{SERVICE}/metrics"
    yield hub
    stop_hub(proc)


def scrape(text: str) -> dict[tuple[str, tuple], float]:
    """Samples by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_metrics_are_not_public(mhub):
    r = requests.get(mhub.metrics)
    assert r.status_code == 403
    assert "GRADER_METRICS_TOKEN" in r.json()["error"]["message"]
    assert requests.get(mhub.metrics, headers=bearer("wrong")).status_code == 403


def test_learners_and_instructors_may_not_read_metrics(mhub):
    mhub.user("teach", groups=("instructors", "instructors:m1"))
    mhub.user("lea", groups=("learners:m1",))
    for name in ("teach", "lea"):
        r = mhub.client(mhub.token(name)).get(mhub.metrics)
        assert r.status_code == 403, (name, r.text)


def test_metrics_token_and_operator_read_the_text_format(mhub):
    r = requests.get(mhub.metrics, headers=bearer(METRICS_TOKEN))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = scrape(r.text)
    for state in ("queued", "running", "done", "failed"):
        assert ("grader_jobs", (("state", state),)) in samples
    for kind in ("engine_error", "sandbox_unavailable", "lease_lost"):
        assert samples[("grader_grading_failures_total", (("kind", kind),))] == 0
    assert samples[("grader_grading_seconds_count", ())] == 0
    assert samples[("grader_sandboxes_warm", ())] == 0
    assert samples[("grader_workers", ())] == 0
    assert samples[("grader_webhook_deliveries", (("state", "pending"),))] == 0
    assert samples[("grader_disk_free_bytes", (("volume", "blobs"),))] > 0
    # an operator's hub token (a service in operator_services) reads them as well
    admin = mhub.client(ADMIN_TOKEN).get(mhub.metrics)
    assert admin.status_code == 200, admin.text
    assert "grader_jobs" in admin.text


def test_queue_depth_and_webhook_backlog_follow_the_database(mhub):
    course = "m2"
    mhub.user("prof2", groups=("instructors", f"instructors:{course}"))
    mhub.user("kim", groups=(f"learners:{course}",))
    prof, kim = (mhub.client(mhub.token(n)) for n in ("prof2", "kim"))
    assert prof.post(f"{mhub.grader}/courses", json={"slug": course}).status_code == 201
    r = prof.post(f"{mhub.grader}/courses/{course}/assignments/ps1/release",
                  json={"files": {k: b64(v) for k, v in source_files().items()}})
    assert r.status_code == 201, r.text
    before = scrape(requests.get(mhub.metrics, headers=bearer(METRICS_TOKEN)).text)
    student = base64.b64decode(kim.get(f"{mhub.grader}/courses/{course}/assignments/ps1/release")
                               .json()["files"]["ps1.ipynb"])
    url = f"{mhub.grader}/courses/{course}/assignments/ps1/submissions"
    for _ in range(2):
        r = kim.post(url, json={"files": {"ps1.ipynb": b64(answered(student, True))}})
        assert r.status_code == 201, r.text
    # a grade event waiting for the site, as the worker writes one with a grade
    from sqlalchemy import create_engine, text
    engine = create_engine(f"sqlite:///{mhub.root / 'grader.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO webhook_deliveries (event, payload, state, attempts, next_attempt_at, "
            "last_error, created_at) VALUES ('submission.graded', '{}', 'pending', 3, "
            "datetime('now', '+1 hour'), 'HTTP 502', datetime('now', '-600 seconds'))"))
    engine.dispose()
    after = scrape(requests.get(mhub.metrics, headers=bearer(METRICS_TOKEN)).text)
    queued = ("grader_jobs", (("state", "queued"),))
    assert after[queued] == before[queued] + 2
    assert after[("grader_queue_oldest_seconds", ())] >= 0
    assert after[("grader_webhook_deliveries", (("state", "pending"),))] == 1
    assert after[("grader_webhook_oldest_pending_seconds", ())] >= 590


def test_loopback_metrics_port_serves_metrics_only(mhub):
    base = f"http://127.0.0.1:{mhub.metrics_port}"
    assert requests.get(f"{base}/metrics").status_code == 403
    r = requests.get(f"{base}/metrics", headers=bearer(METRICS_TOKEN))
    assert r.status_code == 200 and "grader_jobs" in r.text
    assert requests.get(f"{base}/services/{SERVICE}/api/courses",
                        headers=bearer(METRICS_TOKEN)).status_code == 404


def test_json_logs_are_one_object_per_line(mhub):
    mhub.user("jo")
    r = mhub.client(mhub.token("jo")).get(f"{mhub.grader}/courses/nope/assignments")
    assert r.status_code == 404
    deadline = time.monotonic() + 10
    while True:
        lines = (mhub.root / "hub.log").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        grader = [r for r in records if r["logger"].startswith("grader")]
        refused = [r for r in grader if r.get("user") == "jo"]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(r["message"].startswith("grader listening on") for r in grader), lines[-20:]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in grader)
    # who asked and about what are fields of their own, not words in the message
    assert refused and refused[0]["course"] == "nope" and refused[0]["level"] == "WARNING"


def test_unknown_log_format_is_refused_with_what_to_use(tmp_path):
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "GRADER_LOG_FORMAT": "xml",
           "GRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}"}
    r = subprocess.run([sys.executable, "-m", "grader", "serve", "--port", str(free_port())],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "GRADER_LOG_FORMAT" in r.stderr and "text or json" in r.stderr


def test_a_taken_metrics_port_does_not_stop_grading(tmp_path):
    """Another process on the metrics port: the grader logs what to change and serves on."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = f"""
c.GraderSettings.worker_count = 0
c.GraderSettings.metrics_token = "{METRICS_TOKEN}"
c.GraderApp.metrics_port = {port}
"""
        proc, hub = start_hub(tmp_path / "taken", config, {})
        try:
            r = requests.get(f"{hub.url}/services/{SERVICE}/metrics",
                             headers=bearer(METRICS_TOKEN), timeout=10)
            assert r.status_code == 200 and "grader_jobs" in r.text
            log = (tmp_path / "taken" / "hub.log").read_text()
            assert f"cannot serve metrics on 127.0.0.1:{port}" in log
            assert "STUDIO_GRADER_METRICS_PORT" in log
        finally:
            stop_hub(proc)
