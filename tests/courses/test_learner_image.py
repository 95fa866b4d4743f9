"""The courses pass inside the learner image: same Python, pandas and matplotlib as learners
(and the grading sandbox, which runs this image) have. Catches library-version drift."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
from courses_testlib import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGE = "learning-studio/learner:latest"
NAME_PREFIX = "ls-test-courses-"


@pytest.fixture
def container_name():
    name = NAME_PREFIX + uuid.uuid4().hex[:8]
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_courses_validate_in_the_learner_image(container_name, tmp_path):
    assert shutil.which("docker"), "the docker CLI is needed for this test"
    inspect = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    assert inspect.returncode == 0, f"build {IMAGE} first (images/learner)"
    # Only the course tooling goes in: the rest of grader/ needs service packages that the
    # learner image rightly lacks.
    package = tmp_path / "grader"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in ("course.py", "course_cli.py"):
        shutil.copy(REPO / "grader" / module, package / module)
    package.chmod(0o755)
    result = subprocess.run(
        [
            "docker", "run", "--rm", "--name", container_name, "--network", "none",
            "-v", f"{package}:/src/grader:ro",
            "-v", f"{REPO / 'courses'}:/src/courses:ro",
            "-w", "/src", IMAGE,
            "python", "-m", "grader.course_cli", "validate", "courses/",
        ],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "[python-foundations] OK" in result.stdout
    assert "[data-analysis-pandas] OK" in result.stdout
