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


# --- the learner view (grader.engine.redact), without a kernel ------------------------------
HIDDEN_LINE = "assert squares(BASE)[-1] == 81"


def _view_case(tmp_path):
    from grader.engine.autograde import NotebookGrade

    build = build_release(f.reference_assignment(tmp_path / "ps1"))
    master = build.notebooks["problem1"]
    shown = nbformat.v4.new_output("stream", name="stdout", text="before " + HIDDEN_LINE)
    rich = nbformat.v4.new_output("display_data", data={"text/plain": "rewritten later"})
    nb = _executed(build, "problem1", {"setup": [shown], "squares": [rich]})
    nb.cells.append(nbformat.v4.new_code_cell("print(_i)", execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=HIDDEN_LINE[::-1])]))
    nb.cells.append(nbformat.v4.new_code_cell("raise E()", outputs=[nbformat.v4.new_output(
        "error", ename="E" + HIDDEN_LINE.encode().hex(), evalue="x", traceback=["x"])]))
    cells = score_notebook(nb, master, Config(), "ps1")
    return build, master, nb, NotebookGrade("problem1", cells)


def test_learner_view_withholds_from_the_first_hidden_test_on(tmp_path):
    from grader.engine.redact import first_hidden_cell, withhold_from

    build, master, nb, grade = _view_case(tmp_path)
    point = first_hidden_cell([(nb, master)])
    hidden_at = next(i for i, c in enumerate(nb.cells)
                     if c.metadata.get("nbgrader", {}).get("grade_id") == "test_squares_hidden")
    assert point == (0, hidden_at)
    assert withhold_from(point, 0) == hidden_at and withhold_from(point, 1) == 0
    assert withhold_from((1, 3), 0) is None and withhold_from(None, 5) is None

    hidden = HiddenSource.of(build)
    before = {i: list(c.outputs) for i, c in enumerate(nb.cells[:hidden_at])
              if c.cell_type == "code"}
    before[2] = [nbformat.v4.new_output("display_data", data={"text/plain": "as it was"})]
    nb.cells[1].execution_count = "a count the kernel made up"  # the kernel sends counts
    view = learner_notebook(nb, master, hidden, withheld_from=hidden_at, before=before)
    html = render_feedback(view, grade)
    # before: kept, as snapshotted, with the hidden line scrubbed all the same
    assert "as it was" in html and "rewritten later" not in html
    assert "before [hidden test code]" in html
    # after: no outputs, no counts, the reason given
    added, raised = view.cells[-2], view.cells[-1]
    assert added.outputs == [] and added.execution_count is None
    assert "Output withheld: this cell ran after hidden tests" in html
    assert HIDDEN_LINE[::-1] not in html and HIDDEN_LINE.encode().hex() not in html
    assert "learner_view" in raised.metadata  # not a test cell: not even the error's name
    assert "error" not in raised.metadata["learner_view"]
    assert "checksum" not in json.dumps(view.cells[hidden_at].metadata)
    assert view.cells[1].execution_count is None
    nbformat.validate(view)

    # without a snapshot, the displays of the cells before (which later code can rewrite)
    # are withheld too; their streams stay
    view = learner_notebook(nb, master, hidden, withheld_from=hidden_at, before=None)
    html = render_feedback(view, grade)
    assert "rewritten later" not in html and "Display output withheld" in html
    assert "before [hidden test code]" in html


def test_hidden_source_scrubs_only_lines_a_learner_never_saw(tmp_path):
    build = build_release(f.reference_assignment(tmp_path / "ps1"))
    hidden = HiddenSource.of(build)
    assert hidden.lines == (HIDDEN_LINE,)
    assert hidden.scrub(f"x {HIDDEN_LINE} y") == "x [hidden test code] y"
    assert hidden.scrub("assert squares(0) == []") == "assert squares(0) == []"  # released
    assert hidden.scrub_html("<pre>assert squares(BASE)[-1] == 81</pre>") == (
        "<pre>[hidden test code]</pre>")


def test_learner_messages_lose_exception_text_after_hidden_tests(tmp_path):
    from grader.engine.redact import learner_messages

    hidden = HiddenSource.of(build_release(f.reference_assignment(tmp_path / "ps1")))
    stopped = ("Execution stopped: ValidationError: ['" + HIDDEN_LINE[::-1] + "'] is not of "
               "type 'string'; the cells that did not run score 0.")
    after = learner_messages([stopped, "The kernel died (exit, crash or os._exit)",
                              "x " + HIDDEN_LINE], True, hidden)
    assert after[0] == ("Execution stopped: an error in the grader (its details are withheld: "
                        "this notebook ran after hidden tests); the cells that did not run "
                        "score 0.")
    assert after[1] == "The kernel died (exit, crash or os._exit)"
    assert after[2] == "x [hidden test code]"
    killed = f"Not run: the sandbox was stopped while an earlier notebook ran (p1: {stopped})"
    assert HIDDEN_LINE[::-1] not in learner_messages([killed], True, hidden)[0]
    builtin = stopped.replace("ValidationError", "KeyError")
    assert learner_messages([builtin], True, hidden)[0].startswith(
        "Execution stopped: KeyError (its details")
    # before any hidden test ran, the message stays whole (nothing hidden was in the kernel)
    assert learner_messages([stopped], False, hidden) == [stopped]


def test_the_cli_json_holds_numbers_only(tmp_path):
    """GradeResult.to_json is what `grader autograde --json` prints (a learner's CI may run
    it): scores, no text of any notebook."""
    from grader.engine.results import GradeResult

    build, master, nb, grade = _view_case(tmp_path)
    grade.messages = ["x " + HIDDEN_LINE]
    grade.graded_notebook = json.loads(nbformat.writes(nb))
    grade.feedback_html = HIDDEN_LINE
    data = GradeResult({"problem1": grade}, messages=[HIDDEN_LINE]).to_json()

    def leaves(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        else:
            yield value

    assert all(v is None or isinstance(v, bool | int | float) for v in leaves(data))
    assert set(data["notebooks"]["problem1"]["cells"]) == set(master.grade_ids)

