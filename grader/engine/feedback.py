"""Feedback HTML for one graded notebook, safe to show the learner.

Everything the learner's code produced is escaped (outputs are learner-controlled), rich
HTML and JavaScript outputs are shown as their plain-text form, and a test cell that holds
hidden tests shows only its visible part and whether it passed: its outputs could quote the
hidden code in a traceback.
"""

from __future__ import annotations

import copy
import html
import re

from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests

from grader.engine.release import ReleaseNotebook
from grader.engine.results import NotebookGrade

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMAGE_TYPES = ("image/png", "image/jpeg")

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
.cell{border:1px solid #ddd;border-radius:4px;margin:1rem 0;padding:.5rem 1rem}
.grade{font-weight:600}.passed{color:#1a7f37}.failed{color:#c62828}.manual{color:#8a6d00}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;overflow-x:auto}
.output pre{background:#fff;border-left:3px solid #ddd}.error pre{border-color:#c62828}
.note{color:#555;font-style:italic}
"""


def _hidden_removed(cell: NotebookNode) -> tuple[str, bool]:
    c = copy.deepcopy(cell)
    removed = ClearHiddenTests()._remove_hidden_test_region(c)
    return c.source, removed


def _outputs_html(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(f'<div class="output"><pre>{html.escape(out.get("text", ""))}</pre></div>')
        elif kind == "error":
            tb = _ANSI.sub("", "\n".join(out.get("traceback", [])))
            parts.append(f'<div class="output error"><pre>{html.escape(tb)}</pre></div>')
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            image = next((t for t in _IMAGE_TYPES if t in data), None)
            if image:
                b64 = re.sub(r"[^A-Za-z0-9+/=]", "", str(data[image]))
                parts.append(f'<div class="output"><img alt="output" src="data:{image};base64,{b64}"></div>')
            elif "text/plain" in data:
                parts.append(f'<div class="output"><pre>{html.escape(str(data["text/plain"]))}</pre></div>')
    return "".join(parts)


def render_feedback(nb: NotebookNode, master: ReleaseNotebook, grade: NotebookGrade) -> str:
    """The learner's feedback page for one graded notebook."""
    body = [
        f"<h1>{html.escape(grade.name)}</h1>",
        f'<p class="grade">Score: {grade.score:g} / {grade.max_score:g}'
        + (" (some answers wait for manual grading)" if grade.needs_manual_grade else "")
        + "</p>",
    ]
    for message in grade.messages:
        body.append(f'<p class="note">{html.escape(message)}</p>')
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cg = grade.cells.get(grade_id) if grade_id and nbutils.is_grade(cell) else None
        source, hidden = (cell.source, False)
        if grade_id and grade_id in master.cells and master.cells[grade_id].grade:
            source, hidden = _hidden_removed(cell)
        label = ""
        if cg is not None:
            if cg.score is None:
                label = f'<span class="manual">waits for manual grading (of {cg.max_score:g})</span>'
            else:
                cls = "passed" if cg.score == cg.max_score else "failed"
                label = f'<span class="{cls}">{cg.score:g} / {cg.max_score:g}</span>'
            if cg.comment:
                label += f' <span class="note">{html.escape(cg.comment)}</span>'
        body.append('<div class="cell">')
        if label:
            body.append(f'<p class="grade">{html.escape(grade_id)}: {label}</p>')
        body.append(f"<pre>{html.escape(source)}</pre>")
        if hidden:
            state = "passed" if cg is not None and cg.score == cg.max_score else "failed"
            body.append(f'<p class="note">Hidden tests: {state}. Their code and output are '
                        "not shown.</p>")
        elif cell.cell_type == "code":
            body.append(_outputs_html(cell))
        body.append("</div>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>Feedback: {html.escape(grade.name)}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>")
