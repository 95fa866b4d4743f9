"""Feedback HTML for one graded notebook, rendered from its learner view.

What a learner may see is decided in one place, ``grader.engine.redact`` (the learner view:
outputs of cells that ran after hidden tests withheld, hidden tests reduced to their visible
part); this module only renders that view. Everything the learner's code produced is escaped
(outputs are learner-controlled), and rich HTML and JavaScript outputs are shown as their
plain-text form.
"""

from __future__ import annotations

import html
import re

from nbformat import NotebookNode
from nbgrader import utils as nbutils

from grader.engine.redact import HIDDEN_NOTE, VIEW_KEY, strip_ansi
from grader.engine.results import NotebookGrade

_IMAGE_TYPES = ("image/png", "image/jpeg")
_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
.cell{border:1px solid #ddd;border-radius:4px;margin:1rem 0;padding:.5rem 1rem}
.grade{font-weight:600}.passed{color:#1a7f37}.failed{color:#c62828}.manual{color:#8a6d00}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;overflow-x:auto}
.output pre{background:#fff;border-left:3px solid #ddd}.error pre{border-color:#c62828}
.note{color:#555;font-style:italic}
"""


def _outputs_html(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(f'<div class="output"><pre>{html.escape(out.get("text", ""))}</pre></div>')
        elif kind == "error":
            tb = strip_ansi("\n".join(out.get("traceback", [])))
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


def render_feedback(view: NotebookNode, grade: NotebookGrade) -> str:
    """The learner's feedback page for one graded notebook, from its learner view
    (``grader.engine.redact.learner_notebook``) and its grades."""
    body = [
        f"<h1>{html.escape(grade.name)}</h1>",
        f'<p class="grade">Score: {grade.score:g} / {grade.max_score:g}'
        + (" (some answers wait for manual grading)" if grade.needs_manual_grade else "")
        + "</p>",
    ]
    for message in grade.messages:
        body.append(f'<p class="note">{html.escape(message)}</p>')
    for cell in view.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cg = grade.cells.get(grade_id) if grade_id and nbutils.is_grade(cell) else None
        shown = cell.metadata.get(VIEW_KEY, {})
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
        body.append(f"<pre>{html.escape(cell.source)}</pre>")
        if shown.get("hidden_tests"):
            state = "passed" if cg is not None and cg.score == cg.max_score else "failed"
            body.append(f'<p class="note">{html.escape(HIDDEN_NOTE.format(state=state))}</p>')
        elif cell.cell_type == "code":
            body.append(_outputs_html(cell))
            if shown.get("error"):
                body.append(f'<p class="note">It raised {html.escape(shown["error"])}.</p>')
            if shown.get("withheld"):
                body.append(f'<p class="note">{html.escape(shown["withheld"])}</p>')
        body.append("</div>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>Feedback: {html.escape(grade.name)}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>")
