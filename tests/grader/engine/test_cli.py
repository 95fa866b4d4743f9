"""The fixed CLI contract: `python -m grader autograde SOURCE_DIR SUBMISSION_DIR --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbfactory as f
import pytest
from tooling import VENV_BIN

pytestmark = [pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[3]


def _run(*args, entry=(sys.executable, "-m", "grader")):
    return subprocess.run([*entry, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


@pytest.mark.parametrize("entry", [(sys.executable, "-m", "grader"), (str(VENV_BIN / "grader"),)])
def test_autograde_json_contract(tmp_path, docker_client, entry):
    source = f.reference_assignment(tmp_path / "source" / "ps1")
    from grader.engine.release import build_release

    build_release(source).write_student_version(tmp_path / "student")
    sub = f.submission_from(tmp_path / "student", tmp_path / "sub", f.CORRECT)
    proc = _run("autograde", str(source), str(sub), "--json", entry=entry)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"score", "max_score", "needs_manual_grade", "notebooks"}
    assert (data["score"], data["max_score"], data["needs_manual_grade"]) == (6.5, 10.0, True)
    p1 = data["notebooks"]["problem1"]
    assert set(p1) == {"score", "max_score", "cells"}
    assert p1["cells"]["explain"] == {"score": None, "max_score": 2.0,
                                      "needs_manual_grade": True}
    assert p1["cells"]["test_squares_hidden"] == {"score": 1.0, "max_score": 1.0,
                                                  "needs_manual_grade": False}
    assert data["notebooks"]["problem2"]["cells"]["test_partial"]["score"] == 0.5


def test_bad_arguments_are_named(tmp_path):
    proc = _run("autograde", str(tmp_path / "missing"), str(tmp_path), "--json")
    assert proc.returncode == 2
    assert "SOURCE_DIR" in proc.stderr and "is not a folder" in proc.stderr


def test_a_message_flood_does_not_grow_the_grader(tmp_path, docker_client):
    """`grader autograde` on a notebook that updates 2,000 displays with 1 MB each: the
    budget counts every message, so the sandbox is stopped after a few MB and the grading
    process stays small (counting only outputs, it held every update: gigabytes)."""
    source = f.reference_assignment(tmp_path / "source" / "ps1")
    from grader.engine.release import build_release

    build_release(source).write_student_version(tmp_path / "student")
    answers = json.loads(json.dumps(f.CORRECT))
    answers["problem1"]["squares"] = (
        "from IPython.display import display\n"
        "handles = [display('x', display_id=True) for _ in range(2000)]\n"
        "for h in handles:\n    h.update('u' * 1_000_000)")
    sub = f.submission_from(tmp_path / "student", tmp_path / "sub", answers)
    measure = ("import resource, subprocess, sys; "
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "print(p.stdout[-2000:]); print(p.stderr[-2000:], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "grader",
                           "autograde", str(source), str(sub), "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    code, peak_kib = map(int, proc.stdout.splitlines()[0].split())
    assert code == 0, proc.stderr
    data = json.loads(proc.stdout.splitlines()[1])
    assert data["notebooks"]["problem1"]["cells"]["test_squares"]["score"] == 0.0
    assert peak_kib < 600 * 1024, f"the grader peaked at {peak_kib // 1024} MiB"
    print(f"grader autograde peak RSS on a 2 GB display-update flood: {peak_kib // 1024} MiB")
