"""How long `course validate` takes, against the stock nbgrader commands that check the same.

    python tests/benchmarks/bench_course_validate.py [courses/<slug> ...]

Stock equivalent per assignment: `nbgrader generate_assignment`, `nbgrader validate` on the
source (solution passes) and `nbgrader validate --invert` on the release (student version
fails), all on this host. Ours additionally checks the manifest, leaks and data files and
runs the lessons; the lessons are skipped here so both sides run the same notebooks.

Ours is timed with both runners: `sandbox` (the default: a fresh container of the learner
image per notebook, no network; needs Docker and the image) and `host` (--runner host).
Prints seconds and the ratio ours/stock for each (lower is better).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from grader.courses.manifest import load_course  # noqa: E402
from grader.courses.validate import validate_course  # noqa: E402


def stock(course_dir: Path) -> float:
    course = load_course(course_dir)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(course_dir / "source", root / "source")
        (root / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n"
            f"c.CourseDirectory.db_url = 'sqlite:///{root}/gb.db'\n"
        )
        start = time.perf_counter()
        for a in course.assignments:
            nb = f"{a.slug}/{a.slug}.ipynb"
            for args in (["generate_assignment", a.slug, "--force"],
                         ["validate", f"source/{nb}"],
                         ["validate", "--invert", f"release/{nb}"]):
                subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                               check=True, capture_output=True)
        return time.perf_counter() - start


def ours(course_dir: Path, runner=None) -> float:
    """Seconds for one course; with the sandbox runner, the pool starts with the course
    (what `python -m grader course validate` pays too)."""
    from grader.engine.runner import SandboxNotebookRunner

    start = time.perf_counter()
    if runner == "sandbox":
        with SandboxNotebookRunner(warm=2) as sandboxes:
            report = validate_course(course_dir, execute_lessons=False, jobs=2, runner=sandboxes)
    else:
        report = validate_course(course_dir, execute_lessons=False, jobs=2)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    return elapsed


if __name__ == "__main__":
    dirs = [Path(p) for p in sys.argv[1:]] or sorted(
        p.parent for p in (REPO / "courses").glob("*/course.yml"))
    for course_dir in dirs:
        t_sandbox, t_host = ours(course_dir, "sandbox"), ours(course_dir, "host")
        t_stock = stock(course_dir)
        print(f"{course_dir.name}: course validate in sandboxes {t_sandbox:.1f}s (ratio "
              f"{t_sandbox / t_stock:.2f}), on the host {t_host:.1f}s (ratio "
              f"{t_host / t_stock:.2f}); stock nbgrader on the host {t_stock:.1f}s")
