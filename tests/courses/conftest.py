"""Fixtures for the course tests: the real courses, and small editable copies of them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from courses_testlib import COURSES, SANDBOX_PREFIX, CourseCopy, remove_test_sandboxes


@pytest.fixture
def course_copy(tmp_path: Path) -> Callable[..., CourseCopy]:
    """course_copy(slug, assignments=[...], lessons=0): a trimmed copy that validates fast."""

    def make(slug: str, assignments: list[str], lessons: int = 0) -> CourseCopy:
        src = COURSES / slug
        dst = tmp_path / slug
        data = yaml.safe_load((src / "course.yml").read_text())
        data["lessons"] = data["lessons"][: max(lessons, 1)]
        data["assignments"] = [a for a in data["assignments"] if a["slug"] in assignments]
        assert len(data["assignments"]) == len(assignments), "unknown assignment in test"
        for lesson in data["lessons"]:
            (dst / lesson["path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / lesson["path"], dst / lesson["path"])
            for rel in lesson.get("files", []):
                (dst / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src / rel, dst / rel)
        for assignment in assignments:
            shutil.copytree(src / "source" / assignment, dst / "source" / assignment)
        copy = CourseCopy(dst)
        copy.write_manifest(data)
        return copy

    return make


@pytest.fixture(scope="session")
def sandbox_work_root(tmp_path_factory) -> Path:
    """The sandboxes' inbox/ipc folders live under the test's own temporary folder."""
    return tmp_path_factory.mktemp("sandboxes")


@pytest.fixture(scope="session")
def sandbox_config(sandbox_work_root):
    """Grader config for the tests' sandboxes: the learner image, our own name prefix."""
    from traitlets.config import Config

    return Config({"DockerSandbox": {"name_prefix": SANDBOX_PREFIX,
                                     "work_root": str(sandbox_work_root)}})


@pytest.fixture(scope="session")
def sandbox_runner(sandbox_config):
    """The NotebookRunner `course validate` uses by default: a fresh sandbox per notebook."""
    from grader.engine.runner import SandboxNotebookRunner

    runner = SandboxNotebookRunner(warm=2, cell_timeout=60, config=sandbox_config)
    try:
        yield runner
    finally:
        runner.close()
        remove_test_sandboxes()
