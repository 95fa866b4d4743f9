"""Scores equal stock `nbgrader autograde`, cell by cell, on the same notebooks.

Stock nbgrader runs on the host here: acceptable only because every case below is our own
fixture, never a learner upload. The engine grades the same notebooks in sandboxes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import nbfactory as f
import nbformat
import pytest
from conftest import engine_config, leftover_sandboxes
from nbformat.v4 import new_code_cell

from grader.engine.autograde import autograde_async
from grader.engine.release import build_release
from grader.engine.sandbox import SandboxPool

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CELL_TIMEOUT = 3  # nbgrader's Execute.timeout for both sides: keeps the timeout cases short


def _edit(nbs: dict, name: str, grade_id: str, fn) -> None:
    for cell in nbs[name].cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            fn(cell)
            return
    raise KeyError(grade_id)


def _set(nbs, name, grade_id, source):
    _edit(nbs, name, grade_id, lambda c: c.__setitem__("source", source))


def _fill(nbs, answers):
    for name, cells in answers.items():
        for gid, src in cells.items():
            _set(nbs, name, gid, src)


# Each case edits the student version {name: notebook}; returns nothing or a dict of raw
# file contents to write instead of the notebooks.
def case_unchanged(nbs):
    pass


def case_correct(nbs):
    _fill(nbs, f.CORRECT)


def case_wrong(nbs):
    _fill(nbs, f.WRONG)


def case_tests_edited(nbs):
    _fill(nbs, f.WRONG)
    _set(nbs, "problem1", "test_squares", "pass")
    _set(nbs, "problem1", "test_squares_hidden", "print('all good')")
    _set(nbs, "problem2", "test_partial", "1.0")


def case_locked_edited(nbs):
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem1", "setup", "import math\nBASE = 5")


def case_metadata_edited(nbs):
    _fill(nbs, f.WRONG)
    # points raised, a test cell unlocked and turned into a solution-less markdown cell
    _edit(nbs, "problem1", "test_squares",
          lambda c: c.metadata.nbgrader.__setitem__("points", 100))
    _edit(nbs, "problem2", "test_total",
          lambda c: c.metadata.nbgrader.__setitem__("locked", False))


def case_traceback_suppression(nbs):
    _fill(nbs, f.WRONG)
    _set(nbs, "problem1", "squares",
         "import sys, os\n"
         "ip = get_ipython()\n"
         "ip.showtraceback = lambda *a, **k: None\n"
         "sys.excepthook = lambda *a: None\n"
         "sys.stderr = open(os.devnull, 'w')\n"
         "def squares(n):\n    return list(range(n))")
    _set(nbs, "problem2", "total",
         "import IPython\n"
         "IPython.core.interactiveshell.InteractiveShell.showtraceback = lambda *a, **k: None\n"
         "def total(path):\n    return 0")


def case_hidden_tests(nbs):
    _fill(nbs, f.CORRECT)
    # passes the visible tests, fails the hidden one
    _set(nbs, "problem1", "squares",
         "def squares(n):\n    return [0, 1, 4][:n] if n <= 3 else list(range(n))")


def case_manual_answered(nbs):
    _fill(nbs, f.WRONG)
    _set(nbs, "problem1", "explain", "A thoughtful answer.")


def case_timeout(nbs):
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem1", "squares",
         "import time\ntime.sleep(30)\ndef squares(n):\n    return [i * i for i in range(n)]")


def case_huge_print(nbs):
    # nbgrader keeps running the cell after a huge print, and so do we (its output is cut;
    # 20 MB, not 50: the cell timeout here is 3 s, on a loaded machine)
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem1", "squares",
         "print('x' * 20_000_000)\ndef squares(n):\n    return [i * i for i in range(n)]")


def case_infinite_loop(nbs):
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem2", "total", "while True:\n    pass")


def case_deleted_cells(nbs):
    _fill(nbs, f.CORRECT)
    for name, gid in (("problem1", "test_squares_hidden"), ("problem1", "explain"),
                      ("problem2", "task_plot")):
        nbs[name].cells = [c for c in nbs[name].cells
                           if c.metadata.get("nbgrader", {}).get("grade_id") != gid]


def case_duplicated_cells(nbs):
    _fill(nbs, f.WRONG)
    cells = nbs["problem1"].cells
    solution = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "squares")
    test = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_squares")
    fixed = copy.deepcopy(solution)
    fixed.source = f.CORRECT["problem1"]["squares"]
    fake_test = copy.deepcopy(test)
    fake_test.source = "pass"
    cells.insert(cells.index(test), fake_test)
    cells.append(fixed)
    for c in cells:
        c.pop("id", None)
    nbs["problem1"].nbformat_minor = 4


def case_extra_cells(nbs):
    _fill(nbs, f.CORRECT)
    nbs["problem2"].cells.insert(2, new_code_cell("total = lambda path: 11"))


def case_sys_exit(nbs):
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem2", "total", "import sys\nsys.exit(3)")


def case_partial_credit_wrong(nbs):
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem2", "total", "def total(path):\n    return 11")


def case_missing_notebook(nbs):
    _fill(nbs, f.CORRECT)
    del nbs["problem2"]


def case_invalid_notebook(nbs):
    _fill(nbs, f.CORRECT)
    return {"problem1.ipynb": b'{"cells": [ this is not json'}


def case_data_file_edited(nbs):
    # the learner's copy of the data is replaced by the instructor's, as nbgrader does
    _fill(nbs, f.CORRECT)
    return {"data/numbers.csv": b"5 5 5\n"}


def case_environment_and_own_files(nbs):
    # nbgrader's environment variable, and a module the learner submitted beside the notebook
    _fill(nbs, f.CORRECT)
    _set(nbs, "problem1", "squares",
         "import os\nfrom helper import square\n"
         "assert os.environ.get('NBGRADER_EXECUTION') == 'autograde'\n"
         "def squares(n):\n    return [square(i) for i in range(n)]")
    return {"helper.py": b"def square(i):\n    return i * i\n"}


def _schema_case(minor):
    def case(nbs):
        _fill(nbs, f.CORRECT)
        for nb in nbs.values():
            nb.nbformat_minor = minor
            if minor < 5:
                for c in nb.cells:
                    c.pop("id", None)
    return case


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
for _minor in (0, 2, 4):
    CASES[f"schema_4_{_minor}"] = _schema_case(_minor)


def _write_case(student_dir: Path, dest: Path, fn) -> None:
    nbs = {p.stem: f.read(p) for p in sorted(student_dir.glob("*.ipynb"))}
    raw = fn(nbs) or {}
    dest.mkdir(parents=True)
    for name, nb in nbs.items():
        if f"{name}.ipynb" in raw:
            continue
        # written as plain JSON: older minor versions must stay as they are
        (dest / f"{name}.ipynb").write_text(json.dumps(nb, indent=1))
    (dest / "data").mkdir()
    (dest / "data" / "numbers.csv").write_text("1 2 3 4\n")
    for rel, data in raw.items():
        (dest / rel).write_bytes(data)


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs `alembic` from PATH when it creates its gradebook
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]


@pytest.fixture(scope="module")
def parity(tmp_path_factory, docker_client):
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'parity'\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}\n")
    source = f.reference_assignment(course / "source" / "ps1")
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    student_dir = course / "release" / "ps1"
    for case, fn in CASES.items():
        _write_case(student_dir, course / "submitted" / case / "ps1", fn)
    # A notebook that fails nbgrader's metadata schema check aborts the whole batch run
    # (nbgrader raises), so those cases get a run of their own.
    aborting = ["duplicated_cells"]
    _nbgrader(course, "autograde", "ps1",
              f"--CourseDirectory.student_id_exclude={','.join(aborting)}")
    for case in aborting:
        _nbgrader(course, "autograde", "ps1", "--student", case)

    from nbgrader.api import Gradebook, MissingEntry

    stock: dict = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for case in CASES:
            try:
                sub = gb.find_submission("ps1", case)
            except MissingEntry:
                continue
            stock[case] = {
                nb.name: {
                    "score": nb.score, "max_score": nb.max_score,
                    "cells": {g.name: (g.auto_score, g.needs_manual_grade, g.max_score)
                              for g in nb.grades},
                }
                for nb in sub.notebooks
            }

    build = build_release(source)

    async def grade_all():
        pool = SandboxPool(config=engine_config(timeout=CELL_TIMEOUT), warm=2, concurrency=2)
        try:
            results = await asyncio.gather(*(
                autograde_async(build, course / "submitted" / case / "ps1", pool,
                                config=engine_config(timeout=CELL_TIMEOUT))
                for case in CASES))
        finally:
            await pool.close()
        return dict(zip(CASES, results, strict=True))

    ours = asyncio.run(grade_all())
    return {"stock": stock, "ours": ours, "student_dir": student_dir, "build": build,
            "docker": docker_client}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scores_equal_nbgrader(parity, case):
    assert case in parity["stock"], f"stock nbgrader produced no submission for {case}"
    stock = parity["stock"][case]
    ours = parity["ours"][case]
    assert sorted(ours.notebooks) == sorted(stock)
    for name, nb in stock.items():
        mine = ours.notebooks[name]
        got = {g: (c.auto_score, c.needs_manual_grade, c.max_score) for g, c in mine.cells.items()}
        assert got == nb["cells"], f"{case}/{name}: messages {mine.messages}"
        assert mine.score == pytest.approx(nb["score"])
        assert mine.max_score == pytest.approx(nb["max_score"])


def test_cases_are_not_trivial(parity):
    """The suite covers full, partial and zero scores, so equality means something."""
    ours = parity["ours"]
    assert ours["correct"].notebooks["problem1"].cells["test_squares_hidden"].score == 1
    assert ours["unchanged"].notebooks["problem1"].cells["test_squares"].score == 0
    assert ours["tests_edited"].notebooks["problem1"].cells["test_squares"].score == 0
    assert ours["hidden_tests"].notebooks["problem1"].cells["test_squares"].score == 2
    assert ours["hidden_tests"].notebooks["problem1"].cells["test_squares_hidden"].score == 0
    assert ours["locked_edited"].notebooks["problem1"].cells["test_squares_hidden"].score == 1
    assert ours["partial_credit_wrong"].notebooks["problem2"].cells["test_partial"].score == 0
    assert ours["correct"].notebooks["problem2"].cells["test_partial"].score == 0.5
    assert ours["timeout"].notebooks["problem1"].cells["test_squares"].score == 0
    assert ours["huge_print"].notebooks["problem1"].cells["test_squares"].score == 2
    assert any("output beyond 8 MB was dropped" in m for m in ours["huge_print"].messages)
    assert ours["invalid_notebook"].notebooks["problem1"].cells["test_squares"].score is None
    assert any("not a valid notebook" in m for m in ours["invalid_notebook"].messages)
    # the manual answer waits for a human: null, counted as 0 in the total (nbgrader)
    assert ours["correct"].to_json()["score"] == 6.5
    assert ours["data_file_edited"].to_json()["score"] == 6.5
    assert ours["environment_and_own_files"].notebooks["problem1"].cells["test_squares"].score == 2
    assert ours["correct"].to_json()["notebooks"]["problem1"]["cells"]["explain"]["score"] is None


def test_student_version_equals_nbgrader_release(parity):
    """build_release makes the same student version as `nbgrader generate_assignment`."""
    for name, rel in parity["build"].notebooks.items():
        theirs = f.read(parity["student_dir"] / f"{name}.ipynb")
        ours = nbformat.from_dict(rel.student)
        nbformat.validate(ours)
        assert ["".join(c["source"]) for c in ours["cells"]] == [c.source for c in theirs.cells]
        assert [c["metadata"].get("nbgrader") for c in ours["cells"]] == [
            c.metadata.get("nbgrader") for c in theirs.cells]
        assert "BEGIN HIDDEN" not in json.dumps(ours)
        assert "BEGIN SOLUTION" not in json.dumps(ours)
    hints = parity["build"].notebooks["problem1"].student["cells"][2]["metadata"]
    assert hints["learning_studio"] == {"hints": ["Use a list comprehension."]}


def test_no_sandbox_left_behind(parity):
    assert leftover_sandboxes(parity["docker"]) == []
