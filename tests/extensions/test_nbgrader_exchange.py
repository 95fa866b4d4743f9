"""nbgrader's own command line against the grader service through our exchange plugin:
list, fetch_assignment, submit and fetch_feedback as a learner; release_assignment, collect
and release_feedback as the instructor; no shared exchange folder anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from extension_support import COURSE, REPO, answer
from service_support import write_source

pytestmark = pytest.mark.timeout(180)

NBGRADER_CONFIG = """
c = get_config()
c.ExchangeFactory.list = "learning_studio_lab.exchange.GraderList"
c.ExchangeFactory.fetch_assignment = "learning_studio_lab.exchange.GraderFetchAssignment"
c.ExchangeFactory.submit = "learning_studio_lab.exchange.GraderSubmit"
c.ExchangeFactory.collect = "learning_studio_lab.exchange.GraderCollect"
c.ExchangeFactory.release_assignment = "learning_studio_lab.exchange.GraderReleaseAssignment"
c.ExchangeFactory.release_feedback = "learning_studio_lab.exchange.GraderReleaseFeedback"
c.ExchangeFactory.fetch_feedback = "learning_studio_lab.exchange.GraderFetchFeedback"
c.GraderReleaseAssignment.due_at = "2031-02-03T04:05:00Z"
c.GraderReleaseAssignment.max_submissions = 4
# proof that nothing goes through a shared folder: this one does not exist
c.Exchange.root = "/nonexistent/nbgrader-exchange"
"""


def nbgrader(hub, user: str, cwd, *args: str) -> subprocess.CompletedProcess:
    (cwd / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "extensions" / "learning_studio_lab"),
        "STUDIO_GRADER_URL": f"{hub.url}/services/grader/",
        "JUPYTERHUB_API_TOKEN": hub.token(user),
    }
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_learner_lists_fetches_and_submits_with_nbgrader(hub, tmp_path):
    home = tmp_path / "ann"
    home.mkdir()
    out = nbgrader(hub, "ann", home, "list", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    assert f"{COURSE} ps1 (released)" in out.stderr + out.stdout
    out = nbgrader(hub, "ann", home, "fetch_assignment", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    nb = home / "ps1" / "ps1.ipynb"
    assert nb.is_file() and "HIDDEN-MARKER" not in nb.read_text()
    answer(nb, correct=True)
    mine = nb.read_bytes()
    # fetching again refuses, and --replace only adds missing files
    out = nbgrader(hub, "ann", home, "fetch_assignment", "ps1", f"--course={COURSE}")
    assert out.returncode != 0 and "already have a copy" in out.stderr
    (home / "ps1" / "data" / "input.csv").unlink()
    out = nbgrader(hub, "ann", home, "fetch_assignment", "ps1", f"--course={COURSE}",
                   "--replace")
    assert out.returncode == 0, out.stderr
    assert nb.read_bytes() == mine and (home / "ps1" / "data" / "input.csv").exists()
    out = nbgrader(hub, "ann", home, "submit", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    assert "Submitted as" in out.stderr
    # the grader has it under ann's name
    subs = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments/ps1/submissions").json()
    assert subs and subs[-1]["username"] == "ann"

    prof = tmp_path / "prof"
    prof.mkdir()
    out = nbgrader(hub, "prof", prof, "collect", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    collected = prof / "submitted" / "ann" / "ps1" / "ps1.ipynb"
    assert collected.read_bytes() == mine
    assert (prof / "submitted" / "ann" / "ps1" / "timestamp.txt").read_text()


def test_grader_down_is_a_clear_nbgrader_failure(hub, tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    env = {**os.environ, "PYTHONPATH": str(REPO / "extensions" / "learning_studio_lab"),
           "STUDIO_GRADER_URL": "http://127.0.0.1:9/services/grader/",
           "JUPYTERHUB_API_TOKEN": "x"}
    out = subprocess.run([sys.executable, "-m", "nbgrader", "list", f"--course={COURSE}"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "GraderUnavailable" in out.stderr


def test_instructor_releases_with_nbgrader_and_learners_see_it(hub, tmp_path):
    prof = tmp_path / "prof"
    write_source(prof / "source" / "ps2")  # nbgrader's layout: source/<assignment>/
    # a learner may not release
    ann = tmp_path / "ann"
    write_source(ann / "source" / "ps2")
    out = nbgrader(hub, "ann", ann, "release_assignment", "ps2", f"--course={COURSE}")
    assert out.returncode != 0 and "Forbidden" in out.stderr
    out = nbgrader(hub, "prof", prof, "release_assignment", "ps2", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    assert "Released as" in out.stderr
    listed = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments").json()
    ps2 = next(a for a in listed if a["assignment"] == "ps2")
    assert ps2["max_score"] == 3 and ps2["max_submissions"] == 4
    assert ps2["due_at"].startswith("2031-02-03T04:05")
    out = nbgrader(hub, "ann", ann, "list", f"--course={COURSE}")
    assert f"{COURSE} ps2 (released)" in out.stderr + out.stdout
    # what a learner fetches is the student version the grader built
    out = nbgrader(hub, "ann", ann, "fetch_assignment", "ps2", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    text = (ann / "ps2" / "ps1.ipynb").read_text()
    assert "HIDDEN-MARKER" not in text and "BEGIN SOLUTION" not in text
    # nothing to release: a clear failure
    out = nbgrader(hub, "prof", prof, "release_assignment", "nope", f"--course={COURSE}")
    assert out.returncode != 0 and "Assignment not found" in out.stderr


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_feedback_round_trip_with_nbgrader(grading_hub, tmp_path):
    """bob submits and fetches the grader's feedback; the instructor collects, releases
    feedback of their own, and bob's next fetch_feedback brings it; ann gets none of it."""
    hub = grading_hub
    bob = tmp_path / "bob"
    bob.mkdir()
    assert nbgrader(hub, "bob", bob, "fetch_assignment", "ps1",
                    f"--course={COURSE}").returncode == 0
    answer(bob / "ps1" / "ps1.ipynb", correct=True)
    out = nbgrader(hub, "bob", bob, "submit", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    client = hub.client(hub.token("bob"))
    deadline = time.monotonic() + 300
    while True:
        subs = client.get(f"{hub.grader}/courses/{COURSE}/assignments/ps1/submissions").json()
        if subs[-1]["status"] in ("graded", "failed"):
            break
        assert time.monotonic() < deadline, "not graded in 300 s"
        time.sleep(1)
    assert subs[-1]["status"] == "graded", subs[-1]
    out = nbgrader(hub, "bob", bob, "fetch_feedback", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    [graders] = list((bob / "ps1" / "feedback").glob("*/ps1.html"))
    assert "squares" in graders.read_text() and "HIDDEN-MARKER" not in graders.read_text()

    prof = tmp_path / "prof"
    prof.mkdir()
    assert nbgrader(hub, "prof", prof, "collect", "ps1", f"--course={COURSE}",
                    "--student=bob").returncode == 0
    # what `nbgrader generate_feedback` leaves: feedback/<student>/<assignment>/<nb>.html
    made = prof / "feedback" / "bob" / "ps1"
    made.mkdir(parents=True)
    (made / "ps1.html").write_text("<html><body>PROF-FEEDBACK: well done</body></html>")
    (made / "timestamp.txt").write_text(
        (prof / "submitted" / "bob" / "ps1" / "timestamp.txt").read_text())
    out = nbgrader(hub, "prof", prof, "release_feedback", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    assert "Releasing feedback for student 'bob'" in out.stderr
    out = nbgrader(hub, "bob", bob, "fetch_feedback", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    assert "PROF-FEEDBACK" in graders.read_text()
    # a learner cannot release feedback (not even on their own submission)
    forged = bob / "feedback" / "bob" / "ps1"
    forged.mkdir(parents=True)
    (forged / "ps1.html").write_text("FORGED")
    out = nbgrader(hub, "bob", bob, "release_feedback", "ps1", f"--course={COURSE}")
    assert out.returncode != 0 and "Forbidden" in out.stderr
    assert "PROF-FEEDBACK" in client.get(
        f"{hub.grader}/submissions/{subs[-1]['id']}/feedback/ps1").text
    # and ann's fetch brings nothing of bob's
    ann = tmp_path / "ann"
    ann.mkdir()
    nbgrader(hub, "ann", ann, "fetch_feedback", "ps1", f"--course={COURSE}")
    assert not any("PROF-FEEDBACK" in p.read_text() for p in ann.rglob("*.html"))
