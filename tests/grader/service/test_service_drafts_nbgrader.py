"""An AI-drafted exercise (grader.service.drafts) is a real nbgrader source notebook,
checked with stock nbgrader in the learner image: it validates, nbgrader's own
generate_assignment releases it (no solution, no hidden test, hints kept), the released
version fails, and autograding the solution gives every point."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess

import nbformat
import pytest

from grader.service.drafts import exercise_notebook

LEARNER_IMAGE = os.environ.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest")
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(300)]

HINTS = ["range(1, n + 1) counts from 1 to n.", "k * k is k squared."]
EXERCISE = {
    "title": "Sum of squares",
    "introduction": "Loops that add up.",
    "parts": [
        {"name": "sum-squares", "instructions": "Write `sum_squares(n)`: 1 + 4 + ... + n².",
         "solution": "def sum_squares(n):\n    return sum(k * k for k in range(1, n + 1))",
         "tests": "assert sum_squares(1) == 1",
         "hidden_tests": "assert sum_squares(3) == 14  # HIDDEN-SUM",
         "points": 2, "hints": HINTS},
        {"name": "cube", "instructions": "Write `cube(x)`.",
         "solution": "def cube(x):\n    return x ** 3",
         "tests": "assert cube(2) == 8",
         "hidden_tests": "assert cube(-1) == -1",
         "points": 1, "hints": []},
    ],
}

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


def test_ai_exercise_works_with_real_nbgrader(tmp_path) -> None:
    if not docker_ready():
        pytest.fail(f"needs Docker and {LEARNER_IMAGE}: bash images/build.sh learner")
    source = tmp_path / "course" / "source" / "squares"
    source.mkdir(parents=True)
    _, notebook = exercise_notebook(EXERCISE, "squares")
    (source / "squares.ipynb").write_text(nbformat.writes(notebook))
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
    text = json.dumps(released)
    assert "BEGIN SOLUTION" not in text and "HIDDEN-SUM" not in text
    assert "k * k for k" not in text
    solution_cell = next(c for c in released["cells"]
                         if c["metadata"].get("nbgrader", {}).get("grade_id") == "sum-squares")
    assert "".join(solution_cell["source"]).startswith("def sum_squares(n):\n")
    assert "YOUR CODE HERE" in "".join(solution_cell["source"])
    assert solution_cell["metadata"]["learning_studio"]["hints"] == HINTS
    assert "== score 3.0 of 3.0" in out, out
