"""The `course` commands as an instructor (and CI) runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from courses_testlib import COURSES, REPO, SANDBOX_PREFIX
from tooling import VENV_BIN


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "course", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )


@pytest.fixture
def sandbox_config_file(tmp_path, sandbox_runner, sandbox_work_root):
    """A grader config naming the tests' sandbox prefix (cleaned up with sandbox_runner)."""
    path = tmp_path / "grader_config.py"
    path.write_text(f"c.DockerSandbox.name_prefix = {SANDBOX_PREFIX!r}\n"
                    f"c.DockerSandbox.work_root = {str(sandbox_work_root)!r}\n")
    return str(path)


@pytest.mark.docker
def test_validate_runs_in_sandboxes_by_default(course_copy, sandbox_config_file):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    result = _cli("validate", str(copy.root), "--skip-lessons", "--config", sandbox_config_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[python-foundations] OK; checked: manifest" in result.stdout
    assert (
        "executed 2 notebook(s) in sandboxes (learning-studio/learner:latest, no network)"
    ) in result.stdout


def test_without_docker_validate_says_so_and_offers_the_host_runner(course_copy):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    no_docker = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = _cli("validate", str(copy.root), "--skip-lessons", env=no_docker)
    assert result.returncode == 2
    assert "cannot run the notebooks in a sandbox: the Docker engine is not reachable" in (
        result.stderr
    )
    assert "pass --runner host" in result.stderr
    assert result.stdout == "", "nothing was validated half-way"
    result = _cli("validate", str(copy.root), "--skip-lessons", "--runner", "host", env=no_docker)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "executed 2 notebook(s) on this host" in result.stdout


@pytest.mark.docker
def test_a_missing_learner_image_is_named(course_copy, tmp_path):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    config = tmp_path / "grader_config.py"
    config.write_text("c.DockerSandbox.image = 'learning-studio/no-such-image:0'\n")
    result = _cli("validate", str(copy.root), "--config", str(config))
    assert result.returncode == 2
    assert "the learner image 'learning-studio/no-such-image:0' is not built" in result.stderr


@pytest.mark.docker
def test_validate_failure_names_course_assignment_cell_and_fix(course_copy, sandbox_config_file):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    nb = copy.notebook("ps01-values-and-strings")
    cell = copy.cell(nb, "shout")
    cell.source = cell.source.replace('"!!!"', '"!"')
    copy.save("ps01-values-and-strings", nb)
    result = _cli("validate", str(copy.root), "--skip-lessons", "--config", sandbox_config_file)
    assert result.returncode == 1
    out = result.stdout
    assert (
        "[python-foundations] assignment ps01-values-and-strings/ps01-values-and-strings.ipynb "
        "(solution), cell 'shout-tests': the solution fails this test (0/2)"
    ) in out
    assert "shout should end with three '!'" in out
    assert "-> fix the solution or the test" in out
    assert "1 problem(s)" in out


def test_validate_folder_without_manifest(tmp_path):
    result = _cli("validate", str(tmp_path), "--no-execute")
    assert result.returncode == 1
    assert "no course.yml found" in result.stdout


def test_export_catalogue():
    result = _cli("export-catalogue", str(COURSES), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    by_slug = {c["slug"]: c for c in data["courses"]}
    python = by_slug["python-foundations"]
    assert python["title"] == "Python Foundations"
    assert python["id"] == "python-foundations"
    assert python["description"].startswith(python["summary"])
    assert "Who it is for: " in python["description"]
    assert python["lessons"][0] == {
        "id": "01-values-and-types",
        "slug": "01-values-and-types",
        "title": "Values and types",
        "path": "lessons/01-values-and-types.ipynb",
    }
    assert python["assignments"][0] == {
        "id": "ps01-values-and-strings",
        "slug": "ps01-values-and-strings",
        "title": "Values and strings",
        "max_score": 10,
        "points": 10,
        "due_offset_days": 7,
        "max_submissions": 5,
    }
    assert len(by_slug["data-analysis-pandas"]["assignments"]) == 3


def test_the_grader_script_runs_the_same_command(course_copy):
    """`grader` ([project.scripts]) is `python -m grader`."""
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    result = subprocess.run([str(VENV_BIN / "grader"), "course", "validate", str(copy.root),
                             "--no-execute"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "[python-foundations] OK" in result.stdout


@pytest.mark.parametrize("command", [
    ["course", "validate", "x"], ["course", "import", "x"], ["course", "export-catalogue", "x"],
    ["release", "c", "a", "x"], ["grade"], ["status"], ["export", "c"], ["db", "upgrade"],
    ["autograde", "x", "y"],
])
def test_every_subcommand_reads_the_same_config_option(command, tmp_path):
    """One application: the same --config convention (and --Class.trait=value) everywhere."""
    result = subprocess.run([sys.executable, "-m", "grader", *command,
                             f"--config={tmp_path / 'missing.py'}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"config file {tmp_path / 'missing.py'} does not exist" in result.stderr
