"""`python -m grader` for operators and instructors, run as a real subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from service_support import answered, write_source

pytestmark = pytest.mark.timeout(300)


def grader(tmp_path, *args, check=True):
    env = {**os.environ,
           "GRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
           "GRADER_BLOB_DIR": str(tmp_path / "blobs")}
    r = subprocess.run([sys.executable, "-m", "grader", *args], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=240)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_commands_need_a_migrated_database(tmp_path):
    r = grader(tmp_path, "status", check=False)
    assert r.returncode == 1 and "python -m grader db upgrade" in r.stderr
    r = grader(tmp_path, "db", "upgrade")
    from alembic.script import ScriptDirectory

    from grader.service.orm import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert f"revision {head}" in r.stdout


def test_release_status_export(tmp_path):
    grader(tmp_path, "db", "upgrade")
    course = tmp_path / "intro"
    write_source(course / "source" / "ps1")
    write_source(course / "source" / "ps2")
    for name in ("ps1", "ps2"):
        r = grader(tmp_path, "release", "intro", name, str(course / "source" / name),
                   "--no-check", "--max-submissions", "2")
        assert f"released intro/{name} version 1" in r.stdout
    r = grader(tmp_path, "release", "intro", "ps1", str(course / "source" / "ps1"), "--no-check",
               "--due", "2030-01-01T00:00:00Z", "--late-policy", "zero")
    assert "version 2" in r.stdout and "max score 3.0" in r.stdout
    r = grader(tmp_path, "status")
    assert "0/0" in r.stdout
    r = grader(tmp_path, "export", "intro")
    assert r.stdout.startswith("course,assignment,username")
    r = grader(tmp_path, "release", "intro", "ps3", str(tmp_path / "nowhere"), check=False)
    assert r.returncode == 2 and "is not a folder of source notebooks" in r.stderr
    r = grader(tmp_path, "release", "Intro 1", "ps1", str(course / "source" / "ps1"),
               "--no-check", check=False)
    assert r.returncode == 1 and "'Intro 1' is not a valid name" in r.stderr
    assert "for example 'Intro-1'" in r.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_grade_command_grades_the_queue_with_a_progress_bar(tmp_path):
    from grader.service.config import GraderSettings
    from grader.service.gradebook import open_gradebook
    from grader.service.permissions import Person

    grader(tmp_path, "db", "upgrade")
    course = tmp_path / "intro"
    write_source(course / "source" / "ps1")
    grader(tmp_path, "release", "intro", "ps1", str(course / "source" / "ps1"), "--no-check")
    book = open_gradebook(GraderSettings(database_url=f"sqlite:///{tmp_path / 'g.sqlite'}",
                                         blob_dir=str(tmp_path / "blobs")))
    student = book.releases.student_release(Person("a", frozenset({"learners:intro"})), "intro", "ps1")
    for name, correct in (("a", True), ("b", False)):
        book.submissions.submit(Person(name, frozenset({"learners:intro"})), "intro", "ps1",
                    {"ps1.ipynb": answered(student["files"]["ps1.ipynb"], correct)})
    (tmp_path / "grader_config.py").write_text(
        'c.DockerSandbox.name_prefix = "ls-test-gradercli-"\nc.SandboxPool.warm = 0\n')
    r = grader(tmp_path, "grade", "--workers", "2")
    assert "2/2" in r.stderr and "graded 2 jobs" in r.stdout
    rows = list(csv.DictReader(io.StringIO(grader(tmp_path, "export", "intro").stdout)))
    assert {(row["username"], float(row["score"])) for row in rows} == {("a", 2.0), ("b", 0.0)}
    assert "2/2 graded" in grader(tmp_path, "status").stdout


def test_blobs_usage_and_gc(tmp_path):
    grader(tmp_path, "db", "upgrade")
    course = tmp_path / "intro"
    write_source(course / "source" / "ps1")
    grader(tmp_path, "release", "intro", "ps1", str(course / "source" / "ps1"), "--no-check")
    orphan = tmp_path / "blobs" / "ab" / ("c" * 62)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"nothing refers to me")
    usage = json.loads(grader(tmp_path, "blobs", "usage", "--json").stdout)
    assert usage["courses"]["intro"] > 0 and usage["unreferenced_bytes"] == 20
    r = grader(tmp_path, "blobs", "gc", "--dry-run", "--older-than", "0")
    assert "would remove 1 unreferenced file(s), 20 bytes" in r.stdout and orphan.exists()
    assert "removed 0" in grader(tmp_path, "blobs", "gc").stdout  # younger than a day
    assert "removed 1" in grader(tmp_path, "blobs", "gc", "--older-than", "0").stdout
    assert not orphan.exists()
    assert json.loads(grader(tmp_path, "blobs", "usage", "--json").stdout)["courses"] == \
        usage["courses"]
