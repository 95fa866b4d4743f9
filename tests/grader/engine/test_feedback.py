"""Feedback HTML: hidden tests are shown as passed/failed only; learner output is escaped."""

from __future__ import annotations

import json

import nbfactory as f
import nbformat
from traitlets.config import Config

from grader.engine.autograde import score_notebook
from grader.engine.feedback import render_feedback
from grader.engine.redact import HiddenSource, learner_notebook
from grader.engine.release import build_release


def _executed(build, name, outputs_by_id):
    nb = nbformat.reads(json.dumps(build.notebooks[name].source), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code":
            cell.outputs = outputs_by_id.get(gid, [])
            nb_cell_checksum = build.notebooks[name].cells.get(gid)
            if nb_cell_checksum is not None:
                cell.metadata.nbgrader["checksum"] = nb_cell_checksum.checksum
    return nb


def test_hidden_tests_are_withheld_and_outputs_escaped(tmp_path):
    from grader.engine.autograde import NotebookGrade

    build = build_release(f.reference_assignment(tmp_path / "ps1"))
    err = nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                                 traceback=["assert squares(BASE)[-1] == 81"])
    evil = nbformat.v4.new_output("display_data", data={
        "text/html": "<script>steal()</script>", "text/plain": "<b>plain</b>"})
    nb = _executed(build, "problem1", {"test_squares_hidden": [err], "squares": [evil]})
    master = build.notebooks["problem1"]
    cells = score_notebook(nb, master, Config(), "ps1")
    assert cells["test_squares_hidden"].score == 0  # the error output fails it
    grade = NotebookGrade("problem1", cells)
    view = learner_notebook(nb, master, HiddenSource.of(build), withheld_from=None)
    html = render_feedback(view, grade)
    assert "[-1] == 81" not in html  # neither the hidden code nor its traceback
    assert "Hidden tests: failed" in html
    assert "assert squares(0) == []" in html  # the visible part stays
    assert "<script>" not in html and "&lt;b&gt;plain&lt;/b&gt;" in html
    assert "test_squares: <span class=\"passed\">2 / 2</span>" in html
    assert "waits for manual grading" in html
