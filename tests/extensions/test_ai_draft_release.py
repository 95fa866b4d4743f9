"""An AI draft goes through the existing release path and its release check, in a real
Docker sandbox: the draft (the local test server's scripted answer) is written into the
instructor's source folder by the server extension, released from that folder with the
Release route, and the grader's release check grades the solution version and the
student version. The learner's copy has no solution and no hidden test; a draft whose
solution fails its own tests is refused with the release check's message."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
import service_support
from extension_support import (
    COURSE,
    LEARNER_IMAGE,
    error,
    fake_openai_server,
    publish,
    server_config,
)
from tornado.httpclient import HTTPClientError

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

PREFIX = "ls-test-aidraft-"

GOOD = {
    "title": "Word lengths",
    "introduction": "Lists from lists.",
    "parts": [{
        "name": "lengths", "instructions": "Write `lengths(words)`: each word's length.",
        "solution": "def lengths(words):\n    return [len(w) for w in words]",
        "tests": "assert lengths(['ab', 'c']) == [2, 1]",
        "hidden_tests": "assert lengths([]) == []  # HIDDEN-LENGTHS",
        "points": 3, "hints": ["len(w) is a word's length."],
    }],
}
# the model's solution is wrong: its own visible test fails on it
WRONG = json.loads(json.dumps(GOOD).replace("[len(w) for w in words]",
                                            "[len(w) + 1 for w in words]"))


def _docker_rm_prefix() -> None:
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={PREFIX}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


@pytest.fixture(scope="module")
def ai():
    with fake_openai_server() as server:
        yield server


@pytest.fixture(scope="module")
def hub(tmp_path_factory, ai):
    """Hub + grader that checks every release in a sandbox of the learner image."""
    if subprocess.run(["docker", "image", "inspect", LEARNER_IMAGE],
                      capture_output=True).returncode != 0:
        pytest.fail(f"image {LEARNER_IMAGE} is missing: bash images/build.sh learner")
    config = f"""
c.GraderSettings.worker_count = 0
c.GraderSettings.check_releases = True
c.GraderSettings.user_cache_seconds = 1
c.DockerSandbox.name_prefix = "{PREFIX}"
c.DockerSandbox.image = "{LEARNER_IMAGE}"
c.SandboxPool.warm = 0
c.SandboxPool.concurrency = 1
"""
    proc, hub = service_support.start_hub(
        tmp_path_factory.mktemp("ai-release-hub"), config, {"OPENAI_BASE_URL": ai.base_url})
    publish(hub)
    yield hub
    service_support.stop_hub(proc)
    _docker_rm_prefix()


@pytest.fixture
def jp_server_config(hub):
    return server_config(hub, hub.token("prof"))


def post(studio, *path, body):
    resp = studio("learning-studio", *path, method="POST", body=json.dumps(body))
    return resp.code, json.loads(resp.body)


def test_a_draft_is_released_through_the_release_check(studio, jp_root_dir, ai, hub):
    ai.reply = GOOD
    code, draft = post(studio, "courses", COURSE, "drafts", body={
        "kind": "exercise", "topic": "word lengths", "assignment": "ai-lengths"})
    assert code == 201 and draft["path"] == f"courses/{COURSE}/source/ai-lengths/ai-lengths.ipynb"
    # the instructor edits the draft, then releases the folder with the Release form's route
    path = jp_root_dir / draft["path"]
    path.write_text(path.read_text().replace("Lists from lists.", "Lists from lists (edited)."))
    code, release = post(studio, "courses", COURSE, "assignments", "ai-lengths", "release",
                         body={"source": f"courses/{COURSE}/source/ai-lengths"})
    assert code == 201, release
    report = release["check_report"]
    assert report["checked"] is True and report["ok"] is True
    # what a learner fetches: the edit, no solution, no hidden test
    r = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments/ai-lengths/release")
    assert r.status_code == 200, r.text
    student = base64.b64decode(r.json()["files"]["ai-lengths.ipynb"]).decode()
    assert "(edited)" in student
    assert "len(w) for w in words" not in student and "BEGIN SOLUTION" not in student
    assert "HIDDEN-LENGTHS" not in student and "BEGIN HIDDEN TESTS" not in student
    assert "assert lengths(['ab', 'c']) == [2, 1]" in student  # the visible test stays
    assert "len(w) is a word's length." in student  # the hints travel with the cell


def test_a_draft_whose_solution_fails_its_tests_is_refused(studio, jp_root_dir, ai, hub):
    ai.reply = WRONG
    code, draft = post(studio, "courses", COURSE, "drafts", body={
        "kind": "exercise", "topic": "word lengths", "assignment": "ai-wrong"})
    assert code == 201
    with pytest.raises(HTTPClientError) as refused:
        post(studio, "courses", COURSE, "assignments", "ai-wrong", "release",
             body={"source": f"courses/{COURSE}/source/ai-wrong"})
    err = error(refused.value)
    assert refused.value.code == 422 and err["code"] == "ReleaseRejected"
    assert "tests that fail on the instructor's own solution: ai-wrong/lengths-tests" \
        in err["message"]
    r = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments/ai-wrong/release")
    assert r.status_code == 404
