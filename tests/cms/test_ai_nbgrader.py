"""An AI-drafted exercise is a real nbgrader source notebook (checked with nbgrader 0.9.6
in the learner image): it releases, its solution passes, the released version does not,
and autograding the solution gives every point."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess

import pytest
from studio_site.ai.exercise import build_exercise_notebook
from test_ai import EXERCISE

LEARNER_IMAGE = "learning-studio/learner:latest"
pytestmark = [pytest.mark.docker, pytest.mark.slow]

SCRIPT = r"""
set -e
cd /work/course
cat > nbgrader_config.py <<'PY'
c = get_config()
c.CourseDirectory.course_id = "ai-check"
c.CourseDirectory.root = "/work/course"
# Our own generated notebook, checked with stock nbgrader: its own Execute step on purpose
# (the image's config grades collected learner work from the grader's sandbox run instead).
from nbgrader.converters import Autograde
c.Autograde.autograde_preprocessors = (
    Autograde.class_traits()["autograde_preprocessors"].default())
PY
nbgrader db student add student1 >/dev/null
nbgrader generate_assignment squares --force >/dev/null 2>&1
echo "== validate source"; nbgrader validate source/squares/squares.ipynb || true
echo "== validate release"; nbgrader validate release/squares/squares.ipynb || true
mkdir -p submitted/student1/squares
cp source/squares/squares.ipynb submitted/student1/squares/squares.ipynb
nbgrader autograde squares --force >/dev/null 2>&1
python - <<'PY'
from nbgrader.api import Gradebook
with Gradebook("sqlite:////work/course/gradebook.db") as gb:
    sub = gb.find_submission("squares", "student1")
    print("== score", sub.score, "of", sub.max_score)
PY
"""


def docker_ready() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "image", "inspect", LEARNER_IMAGE], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not docker_ready(), reason=f"needs Docker and {LEARNER_IMAGE}")
def test_ai_exercise_works_with_real_nbgrader(tmp_path) -> None:
    source = tmp_path / "course" / "source" / "squares"
    source.mkdir(parents=True)
    notebook = build_exercise_notebook(EXERCISE, "squares")
    (source / "squares.ipynb").write_text(json.dumps(notebook))
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o777)  # the learner image runs as uid 1000
    name = f"ls-cms-test-nbgrader-{secrets.token_hex(4)}"
    try:
        result = subprocess.run(
            ["docker", "run", "--rm", "--name", name, "--network", "none",
             "-v", f"{tmp_path}:/work", LEARNER_IMAGE, "bash", "-c", SCRIPT],
            capture_output=True, text=True, timeout=240,
        )
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    source_part = out.split("== validate source")[1].split("== validate release")[0]
    release_part = out.split("== validate release")[1].split("== score")[0]
    assert "Success! Your notebook passes all the tests." in source_part, out
    assert "VALIDATION FAILED" in release_part or "NotImplementedError" in release_part, out
    released = json.loads((tmp_path / "course" / "release" / "squares" / "squares.ipynb")
                          .read_text())
    solution_cell = released["cells"][1]
    assert "### BEGIN SOLUTION" not in "".join(solution_cell["source"])
    assert "YOUR CODE HERE" in "".join(solution_cell["source"])
    assert solution_cell["metadata"]["learning_studio"]["hints"] == EXERCISE["hints"]
    assert "== score 3.0 of 3.0" in out, out
