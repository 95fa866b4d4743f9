"""nbgrader's own command line against the grader service through our exchange plugin:
list, fetch_assignment and submit as a learner, collect as the instructor; no shared
exchange folder anywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from extension_support import COURSE, REPO, answer

pytestmark = pytest.mark.timeout(180)

NBGRADER_CONFIG = """
c = get_config()
c.ExchangeFactory.list = "learning_studio_lab.exchange.GraderList"
c.ExchangeFactory.fetch_assignment = "learning_studio_lab.exchange.GraderFetchAssignment"
c.ExchangeFactory.submit = "learning_studio_lab.exchange.GraderSubmit"
c.ExchangeFactory.collect = "learning_studio_lab.exchange.GraderCollect"
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
