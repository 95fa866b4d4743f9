"""Notebooks drafted by AI for a course's instructors: exercises and lessons.

An instructor asks for an exercise on a topic (or a lesson from an outline); the model
answers with a JSON object, which is checked here before anything is stored: it must be
JSON of the documented shape, every piece of code must parse, an exercise must have its
solution, visible tests and hidden tests, and the notebook built from it must go through
nbgrader's own release pipeline (grader.engine.release) without an error. A model answer
that fails any of this is refused with a message saying what was wrong; nothing is stored.

An exercise draft is an nbgrader SOURCE notebook (solutions, hidden tests), so drafts are
the business of the course's instructors only: anyone else, learners of the course
included, is told the course has no such draft (404), exactly as for a missing one. A
draft becomes an assignment only through the ordinary release path, whose release check
(solution passes, student version fails) runs on it like on any other source notebook.
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.engine.release import ReleaseError, release_notebook
from grader.service.ai import HOW_TO_TURN_ON, AIEndpoint, AIOff, AIUnavailable
from grader.service.errors import GraderError, InvalidRequest, NotFound
from grader.service.orm import Course, Draft
from grader.service.parts import GradebookPart
from grader.service.permissions import Person
from grader.service.records import iso
from grader.service.uploads import check_slug

log = logging.getLogger("grader")

KINDS = ("exercise", "lesson")
MAX_REQUEST_CHARS = 4000  # topic or outline
MAX_ANSWER_CHARS = 60_000  # the model's JSON
MAX_PARTS = 10
KERNEL_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                   "name": "python3"},
    "language_info": {"name": "python"},
}

EXERCISE_SYSTEM = """\
You write graded Python exercises for Jupyter notebooks graded by nbgrader.
Answer with ONE JSON object only, no prose, with these keys:
  "title": short title (string),
  "introduction": what the learner will practise (markdown string),
  "setup_code": Python run before the exercises, e.g. imports (string, may be ""),
  "parts": a list of 1 to 5 objects, each with
     "name": a short lowercase slug naming the part (letters, digits, hyphens),
     "instructions": what to write, precisely (markdown string),
     "solution": complete, correct Python that defines what the instructions ask for
                 (usually one function),
     "tests": Python assert statements the learner sees; they pass with the solution and
              fail without it (string, required),
     "hidden_tests": more assert statements (edge cases) the learner does not see; they
              pass with the solution (string, required),
     "points": whole number of points for the part (1 to 10),
     "hints": list of short hints, gentlest first, never giving the solution away.
Do not write nbgrader markers (### BEGIN SOLUTION etc.): they are added for you."""

LESSON_SYSTEM = """\
You write lessons for learners of Python as Jupyter notebooks: short explanations, each
followed by a small runnable code example. Answer with ONE JSON object only, no prose, with
these keys:
  "title": the lesson's title (string),
  "introduction": what the lesson teaches (markdown string),
  "sections": a list of objects, in teaching order, each with
     "heading": the section's heading (string),
     "text": the explanation (markdown string),
     "code": a small, self-contained, runnable Python example (string, may be "");
  "summary": the key points to remember (markdown string, may be "")."""


class DraftRefused(GraderError):
    """The model's answer cannot be made into a notebook; nothing was stored."""

    status = 422


class AIOffError(GraderError):
    """No AI endpoint is configured for the grader."""

    status = 503


class AIEndpointFailed(GraderError):
    """The AI endpoint did not give an answer (timeout, error, unreachable)."""

    status = 503


def _text(data: dict, key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DraftRefused(f"the AI answer's {where}{key!r} is not text")
    if required and not value.strip():
        raise DraftRefused(f"the AI answer has no {where}{key!r}")
    return value.strip("\n").rstrip()


def _python(code: str, what: str) -> str:
    """code if it is valid Python, else DraftRefused naming what and the line."""
    try:
        ast.parse(code)
    except SyntaxError as e:
        raise DraftRefused(
            f"the AI's {what} is not valid Python (line {e.lineno}: {e.msg})"
        ) from None
    if "### BEGIN" in code or "### END" in code:
        raise DraftRefused(f"the AI's {what} contains nbgrader markers of its own")
    return code


def _slug(value: object, fallback: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", str(value or "").lower()).strip("-")[:40].strip("-")
    return text or fallback


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False,
              locked: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema 3), as its create_assignment would set it."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def solution_source(code: str) -> str:
    """The solution between nbgrader's solution delimiters.

    A solution that is one function keeps its `def` line (and docstring) outside the
    region, so the learner's version shows the signature to fill in; anything else is
    wrapped whole (the learner starts from nbgrader's "# YOUR CODE HERE")."""
    tree = ast.parse(code)
    lines = code.split("\n")
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef | ast.AsyncFunctionDef):
        fn = tree.body[0]
        body = fn.body
        if (len(body) > 1 and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            body = body[1:]  # the docstring tells the learner what to write: keep it
        first = body[0].lineno - 1
        # the body must start on its own line (not `def f(): return 1`)
        if first >= fn.lineno and body[0].col_offset > fn.col_offset:
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            return "\n".join([*lines[:first], f"{indent}### BEGIN SOLUTION", *lines[first:],
                              f"{indent}### END SOLUTION"])
    return f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"


def exercise_notebook(data: dict, assignment: str) -> tuple[str, nbformat.NotebookNode]:
    """The model's exercise JSON as an nbgrader source notebook: (title, notebook).

    Raises DraftRefused saying what is wrong with the answer."""
    title = _text(data, "title", "")
    introduction = _text(data, "introduction", "", required=False)
    setup = _python(_text(data, "setup_code", "", required=False), "setup code")
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        raise DraftRefused('the AI answer has no "parts" (a list of exercises with tests)')
    if len(parts) > MAX_PARTS:
        raise DraftRefused(f"the AI answer has {len(parts)} parts; at most {MAX_PARTS}")
    cells = [new_markdown_cell(
        f"# {title}\n\n{introduction}".rstrip(),
        metadata={"nbgrader": _nbgrader(f"{assignment}-introduction", locked=True)})]
    if setup:
        cells.append(new_code_cell(
            setup, metadata={"nbgrader": _nbgrader(f"{assignment}-setup", locked=True)}))
    seen: set[str] = set()
    for n, part in enumerate(parts, start=1):
        where = f"part {n}'s "
        if not isinstance(part, dict):
            raise DraftRefused(f"the AI answer's part {n} is not an object")
        name = _slug(part.get("name"), f"part-{n}")
        if name in seen:
            name = f"{name}-{n}"
        seen.add(name)
        instructions = _text(part, "instructions", where)
        solution = _python(_text(part, "solution", where), f"solution of part {n}")
        tests = _python(_text(part, "tests", where), f"visible tests of part {n}")
        hidden = _python(_text(part, "hidden_tests", where), f"hidden tests of part {n}")
        if "assert" not in tests:
            raise DraftRefused(f"the AI's visible tests of part {n} assert nothing")
        points = part.get("points", 1)
        if isinstance(points, bool) or not isinstance(points, int | float) or not 0 < points <= 100:
            raise DraftRefused(
                f"the AI answer's part {n} has points {points!r}: a number from 1 to 100")
        hints = part.get("hints") or []
        if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
            raise DraftRefused(f"the AI answer's part {n} hints are not a list of text")
        hints = [h.strip() for h in hints if h.strip()]
        cells.append(new_markdown_cell(
            f"## Part {n} ({points:g} point{'s' if points != 1 else ''})\n\n{instructions}",
            metadata={"nbgrader": _nbgrader(f"{name}-instructions", locked=True)}))
        solution_meta: dict = {"nbgrader": _nbgrader(name, solution=True)}
        if hints:
            solution_meta["learning_studio"] = {"hints": hints}
        cells.append(new_code_cell(solution_source(solution), metadata=solution_meta))
        cells.append(new_code_cell(
            f"{tests}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
            metadata={"nbgrader": _nbgrader(f"{name}-tests", grade=True, locked=True,
                                            points=float(points))}))
    return title, new_notebook(cells=cells, metadata=dict(KERNEL_METADATA))


def lesson_notebook(data: dict) -> tuple[str, nbformat.NotebookNode]:
    """The model's lesson JSON as a lesson notebook (markdown and code examples, no
    grading metadata, like the lessons in courses/<course>/lessons/): (title, notebook)."""
    title = _text(data, "title", "")
    cells = [new_markdown_cell(f"# {title}")]
    introduction = _text(data, "introduction", "", required=False)
    if introduction:
        cells.append(new_markdown_cell(introduction))
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise DraftRefused('the AI answer has no "sections" (a list of explanations)')
    if len(sections) > 3 * MAX_PARTS:
        raise DraftRefused(f"the AI answer has {len(sections)} sections; at most "
                           f"{3 * MAX_PARTS}")
    for n, section in enumerate(sections, start=1):
        where = f"section {n}'s "
        if not isinstance(section, dict):
            raise DraftRefused(f"the AI answer's section {n} is not an object")
        heading = _text(section, "heading", where)
        text = _text(section, "text", where)
        cells.append(new_markdown_cell(f"## {heading}\n\n{text}"))
        code = _python(_text(section, "code", where, required=False),
                       f"code example of section {n}")
        if code:
            cells.append(new_code_cell(code))
    summary = _text(data, "summary", "", required=False)
    if summary:
        cells.append(new_markdown_cell(f"## Summary\n\n{summary}"))
    return title, new_notebook(cells=cells, metadata=dict(KERNEL_METADATA))


def parse_answer(text: str) -> dict:
    """The model's answer as a JSON object (a fenced ```json block is accepted)."""
    text = text.strip()
    if len(text) > MAX_ANSWER_CHARS:
        raise DraftRefused(f"the AI answer is longer than {MAX_ANSWER_CHARS} characters")
    fenced = re.fullmatch(r"```[a-zA-Z]*\n(.*)\n```", text, re.S)
    if fenced:  # models like to fence JSON even when asked not to
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        raise DraftRefused("the AI answer is not the JSON object that was asked for") from None
    if not isinstance(data, dict):
        raise DraftRefused("the AI answer is not a JSON object")
    return data


def draft_json(draft: Draft, *, notebook: bool = False) -> dict:
    out = {
        "id": draft.id,
        "kind": draft.kind,
        "assignment": draft.assignment,
        "name": draft.name,
        "title": draft.title,
        "request": draft.request,
        "model": draft.model,
        "created_by": draft.created_by,
        "created_at": iso(draft.created_at),
    }
    if notebook:
        out["notebook"] = json.loads(draft.notebook)
    return out


class Drafts(GradebookPart):
    """Asks the model for drafts and keeps them, for the course's instructors only."""

    _ai: AIEndpoint | None = None

    @property
    def ai(self) -> AIEndpoint:
        if self._ai is None:
            self._ai = AIEndpoint(self.settings)
        return self._ai

    def _instructors_course(self, s: Session, person: Person, slug: str) -> Course:
        """The course, if person teaches it; everyone else: "no such course or draft"."""
        course = s.scalar(select(Course).where(Course.slug == slug))
        if course is None or "instructor" not in self.permissions.roles(s, person, course):
            # learners of the course too: a draft holds solutions and hidden tests
            raise NotFound(f"course {slug!r} does not exist or you do not teach it")
        return course

    def require_instructor(self, person: Person, slug: str) -> None:
        with self.sessions() as s:
            self._instructors_course(s, person, slug)

    @staticmethod
    def check_request(body: dict) -> dict:
        """The request's fields, checked: kind, topic/outline, assignment, name, options."""
        kind = body.get("kind", "exercise")
        if kind not in KINDS:
            raise InvalidRequest(f'kind must be "exercise" or "lesson", not {kind!r}')
        key = "topic" if kind == "exercise" else "outline"
        text = body.get(key) or body.get("topic" if key == "outline" else "outline") or ""
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest(
                f"give the {key} of the {kind} to draft"
                + (" (what the exercise practises)" if kind == "exercise"
                   else " (the lesson's points, one a line)"))
        if len(text) > MAX_REQUEST_CHARS:
            raise InvalidRequest(f"the {key} is longer than {MAX_REQUEST_CHARS} characters")
        what = "assignment" if kind == "exercise" else "lesson"
        assignment = check_slug(body.get("assignment") or body.get("lesson"), what)
        name = body.get("name") or assignment
        if not isinstance(name, str):
            raise InvalidRequest("name must be text")
        name = name.removesuffix(".ipynb")
        check_slug(name, "notebook name")
        options = body.get("options")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise InvalidRequest("options must be a JSON object")
        parts = options.get("parts")
        if parts is not None and (isinstance(parts, bool) or not isinstance(parts, int)
                                  or not 1 <= parts <= 5):
            raise InvalidRequest("options.parts must be a whole number from 1 to 5")
        level = options.get("level", "")
        if not isinstance(level, str) or len(level) > 200:
            raise InvalidRequest("options.level must be a short text (beginner, ...)")
        return {"kind": kind, key: text.strip(), "assignment": assignment,
                "name": f"{name}.ipynb",
                "options": {k: v for k, v in (("parts", parts), ("level", level)) if v}}

    def _prompt(self, request: dict, course: str) -> list[dict]:
        options = request["options"]
        if request["kind"] == "exercise":
            system = EXERCISE_SYSTEM
            lines = [f"Topic: {request['topic']}"]
            if options.get("parts"):
                lines.append(f"Number of parts: {options['parts']}")
        else:
            system = LESSON_SYSTEM
            lines = ["Outline:", request["outline"]]
        if options.get("level"):
            lines.append(f"Learners' level: {options['level']}")
        lines.append(f"Course: {course}")
        return [{"role": "system", "content": system},
                {"role": "user", "content": "\n".join(lines)}]

    async def draft(self, person: Person, slug: str, body: dict) -> dict:
        """Ask the model, check its answer, store the draft; the draft with its notebook."""
        request = self.check_request(body)
        # who may draft is decided before the model is asked (and paid)
        await asyncio.to_thread(self.require_instructor, person, slug)
        context = {"user": person.name, "course": slug, "assignment": request["assignment"]}
        try:
            answer = await self.ai.complete(self._prompt(request, slug), context=context,
                                            temperature=0.4, want_json=True)
        except AIOff:
            raise AIOffError(f"AI drafting is off: {HOW_TO_TURN_ON}") from None
        except AIUnavailable as e:
            raise AIEndpointFailed(f"{e} Nothing was stored.") from None
        try:
            data = parse_answer(answer.text)
            if request["kind"] == "exercise":
                title, nb = exercise_notebook(data, request["assignment"])
                # nbgrader's own pipeline must accept it, as the release will
                await asyncio.to_thread(
                    release_notebook, nb, request["name"].removesuffix(".ipynb"),
                    request["assignment"], ".")
            else:
                title, nb = lesson_notebook(data)
            nbformat.validate(nb)
        except DraftRefused as e:
            log.warning("AI draft refused: %s", e.message, extra=context)
            raise DraftRefused(
                f"{e.message}; nothing was stored: try again, or reword the "
                f"{'topic' if request['kind'] == 'exercise' else 'outline'}") from None
        except (ReleaseError, nbformat.ValidationError) as e:
            log.warning("AI draft is not a valid notebook: %s", e, extra=context)
            raise DraftRefused(
                f"the AI's notebook is not valid for nbgrader ({e}); nothing was stored: "
                "try again") from None
        return await asyncio.to_thread(self._store, person, slug, request, title[:200],
                                       nbformat.writes(nb), context)

    def _store(self, person: Person, slug: str, request: dict, title: str, notebook: str,
               context: dict) -> dict:
        with self.sessions.begin() as s:
            course = self._instructors_course(s, person, slug)
            draft = Draft(
                course_id=course.id, kind=request["kind"], assignment=request["assignment"],
                name=request["name"], title=title, notebook=notebook,
                request={k: v for k, v in request.items()
                         if k not in ("kind", "assignment", "name")},
                model=self.ai.model, created_by=person.name)
            s.add(draft)
            s.flush()
            log.info("AI %s draft %d stored (%s)", draft.kind, draft.id, draft.name,
                     extra=context)
            return draft_json(draft, notebook=True)

    def listing(self, person: Person, slug: str) -> list[dict]:
        """The course's drafts, newest first, without their notebooks."""
        with self.sessions() as s:
            course = self._instructors_course(s, person, slug)
            rows = s.scalars(select(Draft).where(Draft.course_id == course.id)
                             .order_by(Draft.id.desc()))
            return [draft_json(d) for d in rows]

    def _draft(self, s: Session, person: Person, slug: str, draft_id: int) -> Draft:
        course = self._instructors_course(s, person, slug)
        draft = s.get(Draft, draft_id)
        if draft is None or draft.course_id != course.id:
            raise NotFound(f"course {slug} has no draft {draft_id}")
        return draft

    def get(self, person: Person, slug: str, draft_id: int) -> dict:
        with self.sessions() as s:
            return draft_json(self._draft(s, person, slug, draft_id), notebook=True)

    def delete(self, person: Person, slug: str, draft_id: int) -> None:
        with self.sessions.begin() as s:
            draft = self._draft(s, person, slug, draft_id)
            s.delete(draft)
            log.info("AI draft %d deleted", draft_id,
                     extra={"user": person.name, "course": slug,
                            "assignment": draft.assignment})
