"""What a learner may see of a graded submission: the learner view, built here only.

Hidden tests run in the learner's kernel, so from the first cell that holds hidden tests on,
learner code can read them back (IPython's history, ``linecache``, the frames and arguments
of a function the hidden test calls, files left for the next notebook, ...) and print them
in any encoding. Scrubbing text cannot catch every encoding, so the view withholds instead:

- the notebooks of a submission run one after another in one sandbox (a later notebook can
  read what an earlier one saved), so "after" is in execution order across the whole
  submission: every code cell from the first hidden-test cell on, in its notebook and in
  every later one, loses its outputs, its execution count and its metadata; test cells there
  keep only passed/failed, points and, if it is a builtin exception's name, the class of the
  error;
- cells before that point keep their outputs, as they were when the hidden tests started:
  a later ``update_display`` rewrites earlier display outputs in the executed notebook, so
  autograding snapshots them (``snapshot_config``) just before the first hidden cell runs;
- hidden-test cells show their visible part only;
- the grader's messages about a notebook that ran after hidden tests lose the text of
  exceptions the kernel may have shaped (a message the grader could not parse);
- as defence in depth, every remaining output and message has each non-trivial line of
  hidden test source (one a learner never saw in the release) replaced.

Instructors keep the full executed notebook (``NotebookGrade.graded_notebook``).
"""

from __future__ import annotations

import builtins
import copy
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests, IgnorePattern, LimitOutput
from traitlets.config import Config

from grader.engine.release import ReleaseBuild, ReleaseNotebook

WITHHELD = ("Output withheld: this cell ran after hidden tests, whose code your notebook "
            "could otherwise print.")
WITHHELD_DISPLAY = ("Display output withheld: code that ran after hidden tests could have "
                    "rewritten it.")
HIDDEN_NOTE = "Hidden tests: {state}. Their code and output are not shown."
# nbgrader's delimiters (ClearHiddenTests' defaults, which releases are built with)
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
SCRUBBED = "[hidden test code]"
#: the metadata key of a view's cell saying what was withheld (read by grader.engine.feedback)
VIEW_KEY = "learner_view"
#: a hidden line shorter than this (stripped) is too common to scrub ("pass", "else:")
MIN_LINE = 8

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMAGE_TYPES = ("image/png", "image/jpeg")
#: error names a withheld test cell may show: Python's builtin exceptions and the grader's own
ERROR_NAMES = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
) | {"SandboxStopped", "CellTimeoutError"}
# grader.engine.autograde's message for an exception that stopped a notebook: its detail is
# the exception's text, which the kernel may have shaped (a message the grader choked on)
_STOPPED = re.compile(
    r"Execution stopped: (?P<name>[A-Za-z_][A-Za-z0-9_.]*): .*; the cells that did not run "
    r"score 0\.", re.DOTALL)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def hidden_region_removed(source: str) -> tuple[str, bool]:
    """``source`` without its hidden test regions (nbgrader's delimiters), and whether it had
    any."""
    cell = nbformat.v4.new_code_cell(source)
    removed = ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source, removed


def _hidden_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def holds_hidden_tests(cell: NotebookNode, master: ReleaseNotebook) -> bool:
    """Whether ``cell`` (of a sanitized notebook) runs hidden test code: it is, by grade id,
    a code test cell whose master copy has a hidden test region."""
    if cell.cell_type != "code":
        return False
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    source_cell = master.cells.get(grade_id) if grade_id else None
    if source_cell is None or not source_cell.grade:
        return False
    return hidden_region_removed(source_cell.source)[1]


def first_hidden_cell(notebooks: Iterable[tuple[NotebookNode, ReleaseNotebook]]
                      ) -> tuple[int, int] | None:
    """(notebook position, cell index) of the first cell holding hidden tests, notebooks in
    the order they run; None if none does."""
    for position, (nb, master) in enumerate(notebooks):
        for index, cell in enumerate(nb.cells):
            if holds_hidden_tests(cell, master):
                return position, index
    return None


def withhold_from(point: tuple[int, int] | None, position: int) -> int | None:
    """From which cell the notebook run at ``position`` has its outputs withheld (None:
    it ran before any hidden test)."""
    if point is None or position < point[0]:
        return None
    return point[1] if position == point[0] else 0


@dataclass(frozen=True)
class HiddenSource:
    """The hidden test code of a release: what must never come back to a learner."""

    lines: tuple[str, ...]

    @classmethod
    def of(cls, release: ReleaseBuild) -> HiddenSource:
        public: set[str] = set()
        for rel in release.notebooks.values():
            for cell in rel.student.get("cells", []):
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                public.update(line.strip() for line in source.split("\n"))
        lines: set[str] = set()
        for rel in release.notebooks.values():
            for source_cell in rel.cells.values():
                if source_cell.grade:
                    lines.update(line.strip() for line in _hidden_lines(source_cell.source))
        keep = {line for line in lines if len(line) >= MIN_LINE and line not in public}
        # longest first, so a line that contains another is replaced whole
        return cls(tuple(sorted(keep, key=lambda s: (-len(s), s))))

    def scrub(self, text: str) -> str:
        for line in self.lines:
            if line in text:
                text = text.replace(line, SCRUBBED)
        return text

    def scrub_html(self, text: str) -> str:
        """``scrub`` for HTML, where the code may appear escaped."""
        for line in self.lines:
            for form in {line, html.escape(line), html.escape(line, quote=False)}:
                if form in text:
                    text = text.replace(form, SCRUBBED)
        return text


def error_name(cell: NotebookNode) -> str | None:
    """The class of the cell's first error, if it is one a learner may see."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            name = out.get("ename")
            return name if isinstance(name, str) and name in ERROR_NAMES else None
    return None


def _count(value: Any) -> int | None:
    """An execution count, which the kernel sends: a number or nothing."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


def _learner_output(out: dict, hidden: HiddenSource) -> NotebookNode | None:
    """An output as a learner may see it: plain text (scrubbed) and images only."""
    kind = out.get("output_type")
    if kind == "stream":
        name = out.get("name") if out.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name,
                                      text=hidden.scrub(strip_ansi(_text(out.get("text", "")))))
    if kind == "error":
        return nbformat.v4.new_output(
            "error", ename=hidden.scrub(_text(out.get("ename", ""))),
            evalue=hidden.scrub(strip_ansi(_text(out.get("evalue", "")))),
            traceback=[hidden.scrub(strip_ansi(_text(line)))
                       for line in out.get("traceback", []) or []])
    if kind in ("execute_result", "display_data"):
        data = out.get("data", {}) or {}
        kept: dict[str, str] = {}
        image = next((t for t in _IMAGE_TYPES if t in data), None)
        if image:
            kept[image] = re.sub(r"[^A-Za-z0-9+/=]", "", _text(data[image]))
        if "text/plain" in data:
            kept["text/plain"] = hidden.scrub(strip_ansi(_text(data["text/plain"])))
        if not kept:
            return None
        if kind == "execute_result":
            return nbformat.v4.new_output(kind, data=kept,
                                          execution_count=_count(out.get("execution_count")))
        return nbformat.v4.new_output(kind, data=kept)
    return None


def _safe_output(out: Any, hidden: HiddenSource) -> NotebookNode | None:
    """``_learner_output``; an output the kernel shaped so that it cannot be shown is left
    out instead of failing the grading."""
    try:
        return _learner_output(out, hidden) if isinstance(out, dict) else None
    except Exception:  # noqa: BLE001 - kernel-made content, any shape
        return None


def _trimmed(outputs: list, config: Config | None) -> list:
    """nbgrader's output trimming (IgnorePattern, LimitOutput), as scoring applies it."""
    cell = nbformat.v4.new_code_cell("", outputs=copy.deepcopy(outputs))
    for pp in (IgnorePattern(config=config or Config()), LimitOutput(config=config or Config())):
        cell, _ = pp.preprocess_cell(cell, {}, 0)
    return cell.outputs


def learner_notebook(nb: NotebookNode, master: ReleaseNotebook, hidden: HiddenSource, *,
                     withheld_from: int | None, before: dict[int, list] | None = None,
                     config: Config | None = None) -> NotebookNode:
    """The learner's view of one graded notebook ``nb`` (left unchanged).

    ``withheld_from``: the first cell that ran after hidden tests (0: the whole notebook ran
    after them; None: none of it did). ``before``: the outputs of the cells before it as
    they were when the first hidden test started (from ``snapshot_config``); without it, the
    rich outputs of those cells, which later code could have rewritten, are withheld too.
    """
    view = nbformat.v4.new_notebook()
    view.metadata = {"kernelspec": copy.deepcopy(dict(nb.metadata.get("kernelspec", {})))}
    for index, cell in enumerate(nb.cells):
        nbg = {k: v for k, v in cell.get("metadata", {}).get("nbgrader", {}).items()
               if k != "checksum"}  # the master's checksum covers the hidden code
        meta: dict[str, Any] = {"nbgrader": nbg} if nbg else {}
        if cell.cell_type != "code":
            new = (nbformat.v4.new_markdown_cell if cell.cell_type == "markdown"
                   else nbformat.v4.new_raw_cell)(cell.source, metadata=meta)
            view.cells.append(new)
            continue
        source, outputs, count = cell.source, [], None
        after = withheld_from is not None and index >= withheld_from
        if holds_hidden_tests(cell, master):
            source = hidden_region_removed(cell.source)[0]
            meta[VIEW_KEY] = {"hidden_tests": True}
        elif after:
            meta[VIEW_KEY] = {"withheld": WITHHELD}
            if nbutils.is_grade(cell):
                name = error_name(cell)
                if name:
                    meta[VIEW_KEY]["error"] = name
        else:
            count = _count(cell.get("execution_count"))
            raw = cell.get("outputs", [])
            rewritable = withheld_from is not None  # same executor as the hidden tests
            if rewritable and before is not None and index in before:
                raw = _trimmed(before[index], config)
            elif rewritable:
                rich = [o for o in raw if o.get("output_type") in ("execute_result",
                                                                   "display_data")]
                if rich:
                    meta[VIEW_KEY] = {"withheld": WITHHELD_DISPLAY}
                raw = [o for o in raw if o not in rich]
            outputs = [o for o in (_safe_output(o, hidden) for o in raw) if o is not None]
        view.cells.append(nbformat.v4.new_code_cell(source, metadata=meta, outputs=outputs,
                                                    execution_count=count))
    return view


def learner_messages(messages: Iterable[str], after_hidden: bool,
                     hidden: HiddenSource) -> list[str]:
    """The grader's messages about a notebook, as a learner may read them."""
    out = []
    for message in messages:
        if after_hidden:
            message = _STOPPED.sub(_stopped_for_learner, message)
        out.append(hidden.scrub(message))
    return out


def _stopped_for_learner(match: re.Match) -> str:
    name = match.group("name")
    what = name if name in ERROR_NAMES else "an error in the grader"
    return (f"Execution stopped: {what} (its details are withheld: this notebook ran after "
            "hidden tests); the cells that did not run score 0.")


class Snapshot:
    """The outputs of a notebook's cells before its first hidden-test cell, taken just before
    that cell runs (None until then)."""

    def __init__(self, nb: NotebookNode, cell_index: int) -> None:
        self.nb = nb
        self.cell_index = cell_index
        self.outputs: dict[int, list] | None = None

    def __deepcopy__(self, memo: dict) -> Snapshot:
        # traitlets deep-copies config values: the hook must still fill this snapshot, and
        # see the notebook that runs, not copies of them
        return self

    def on_cell_start(self, cell: NotebookNode | None = None, cell_index: int = -1,
                      **_: Any) -> None:
        if cell_index == self.cell_index and self.outputs is None:
            self.outputs = {i: copy.deepcopy(c.get("outputs", []))
                            for i, c in enumerate(self.nb.cells[:cell_index])
                            if c.cell_type == "code"}


def snapshot_config(config: Config, snapshot: Snapshot) -> Config:
    """``config`` plus nbclient's ``on_cell_start`` hook that takes ``snapshot``; the
    caller's config is not changed."""
    run_config = Config(config)
    section = run_config["SandboxedExecute"] if "SandboxedExecute" in config else {}
    run_config["SandboxedExecute"] = Config({**section,
                                             "on_cell_start": snapshot.on_cell_start})
    return run_config
