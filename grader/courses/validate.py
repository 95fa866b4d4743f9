"""``grader course validate``: is a course correct before it is released?

It builds each assignment's student version with nbgrader's own generate_assignment
preprocessors (grader.engine.release), looks for solution or hidden-test text that would
reach learners, runs the solution and the student version with a NotebookRunner
(grader.engine.runner; a fresh sandbox per notebook by default), applies the grader's own
release check (grader.engine.check) to the results, runs every lesson, and reports each
problem with the course, assignment, notebook and cell it concerns and what to do about it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooOldError, ValidationError
from nbgrader.utils import determine_grade
from traitlets import Bool, Integer, Unicode
from traitlets import Callable as CallableTrait
from traitlets import validate as validate_trait
from traitlets.config import LoggingConfigurable

from grader.courses.manifest import (
    DEFAULT_SCHEMA_PATH,
    MANIFEST_NAME,
    Assignment,
    Course,
    Lesson,
    ManifestError,
    load_course,
)
from grader.engine.check import is_autograder_test, judge_release, scores_of_executed
from grader.engine.release import ReleaseError, release_notebook
from grader.engine.runner import NotebookRunner, WarmKernels, run_on_host

# nbgrader matches its delimiters as substrings; ours are looser on purpose so that a
# misspelt marker (which nbgrader would silently keep) is still recognised as meant-to-be
# secret and reported when it leaks.
_BEGIN_SOLUTION = re.compile(r"BEGIN\s+SOLUTION", re.IGNORECASE)
_END_SOLUTION = re.compile(r"END\s+SOLUTION", re.IGNORECASE)
_BEGIN_HIDDEN = re.compile(r"BEGIN\s+HIDDEN\s+TESTS?", re.IGNORECASE)
_END_HIDDEN = re.compile(r"END\s+HIDDEN\s+TESTS?", re.IGNORECASE)
# Quoted names of data files in code ("sales.csv", 'data/w.json').
_DATA_FILE_LITERAL = re.compile(
    r"""["']([A-Za-z0-9_./-]+\.(?:csv|tsv|json|txt|xlsx|parquet|dat))["']"""
)
# Secret lines shorter than this are too generic ("pass", "return x") to call a leak.
_MIN_SECRET_LINE = 12



# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a course, located as precisely as we can."""

    course: str
    where: str  # "assignment ps01/ps01.ipynb, cell 'add-tests'" or "course.yml"
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"[{self.course}] {self.where}: {self.message}"
        return f"{text}\n    -> {self.fix}" if self.fix else text


@dataclass
class ValidationReport:
    """What ``validate_course`` found. ``ok`` when there are no problems."""

    course: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [str(p) for p in self.problems]
        lines += [f"warning: {w}" for w in self.warnings]
        verdict = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        lines.append(f"[{self.course}] {verdict}; checked: {', '.join(self.checked) or 'nothing'}")
        return "\n".join(lines)


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_autograder_test(cell: NotebookNode) -> bool:
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _cell_label(nb_path: str, index: int, cell: NotebookNode) -> str:
    grade_id = _nbgrader(cell).get("grade_id")
    name = f"cell '{grade_id}'" if grade_id else f"cell #{index + 1}"
    return f"{nb_path}, {name}"


def _secret_regions(source: str, begin: re.Pattern[str], end: re.Pattern[str]) -> list[str]:
    """Lines between begin/end markers (markers excluded)."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin.search(line):
            inside = True
        elif end.search(line):
            inside = False
        elif inside:
            lines.append(line)
    return lines


def _error_summary(cell: NotebookNode) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}".strip()
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return f"wrote to stderr (nbgrader gives 0 points for that): {output.get('text', '')[:200]}"
    return ""


def _cell_score(cell: NotebookNode) -> tuple[float | None, float]:
    return determine_grade(cell)


@dataclass
class _Pair:
    """A source notebook's master cells and the scores of both versions once they ran."""

    master: Any  # grader.engine.release.ReleaseNotebook
    label: str
    executed: dict[str, NotebookNode] = field(default_factory=dict)


@dataclass
class _Run:
    """One notebook execution to do, and what to check on the result."""

    kind: str  # "lesson", "solution", "student"
    label: str  # where, for messages
    nb: NotebookNode
    folder: Path  # copied to a scratch dir as the working directory
    pair: _Pair | None = None


class CourseValidator(LoggingConfigurable):
    """Checks course folders; ``validate(path)`` returns a ValidationReport.

    Settings are traitlets, so the grader's config file can set them
    (``c.CourseValidator.runner = ...`` swaps in the sandboxed runner).
    """

    runner = CallableTrait(
        None,
        allow_none=True,
        help="""A NotebookRunner: f(nb, workdir) -> executed nb. None: nbgrader's Execute
        preprocessor on this machine (trusted instructor notebooks only). The `course
        validate` command passes grader.courses.sandbox_runner.SandboxNotebookRunner (a fresh
        sandbox of the learner image per notebook) unless given --runner host.""",
    ).tag(config=True)
    cell_timeout = Integer(
        60, help="Seconds one cell may run before it counts as failed (default runner)."
    ).tag(config=True)
    jobs = Integer(
        2, help="Notebooks executed at once. Kernels are CPU-bound; keep it near the core count."
    ).tag(config=True)
    execute = Bool(
        True, help="Run the notebooks. False leaves only the static checks (fast)."
    ).tag(config=True)
    execute_lessons = Bool(
        True, help="Also run every lesson notebook and report examples that raise."
    ).tag(config=True)
    schema_path = Unicode(
        str(DEFAULT_SCHEMA_PATH), help="JSON Schema that every course.yml must match."
    ).tag(config=True)

    @validate_trait("jobs")
    def _at_least_one_job(self, proposal: Any) -> int:
        return max(1, int(proposal["value"]))

    def _run_notebook(self, nb: NotebookNode, workdir: Path) -> NotebookNode:
        if self.runner is not None:
            return self.runner(nb, workdir)
        if self._warm is not None:
            return self._warm(nb, workdir)
        return run_on_host(nb, workdir, timeout=self.cell_timeout)

    # -- reporting
    def problem(self, where: str, message: str, fix: str = "") -> None:
        self.report.problems.append(Problem(self.report.course, where, message, fix))

    def warn(self, where: str, message: str, fix: str = "") -> None:
        self.report.warnings.append(Problem(self.report.course, where, message, fix))

    # -- entry point
    def validate(self, path: Path | str) -> ValidationReport:
        self.path = Path(path).resolve()
        self.report = ValidationReport(course=self.path.name)
        self._runs: list[_Run] = []
        self._warm: WarmKernels | None = None
        try:
            course = load_course(self.path, Path(self.schema_path))
        except ManifestError as e:
            self.problem(MANIFEST_NAME, str(e))
            return self.report
        if self.execute and self.runner is None:
            # Kernels start while the static checks run.
            self._warm = WarmKernels(size=self.jobs, timeout=self.cell_timeout)
        try:
            return self._validate(course)
        finally:
            if self._warm is not None:
                self._warm.close()
                self._warm = None

    def _validate(self, course: Course) -> ValidationReport:
        self.report.course = course.slug
        self.report.checked.append("manifest")
        for lesson in course.lessons:
            self._check_lesson(course, lesson)
        for assignment in course.assignments:
            self._check_assignment(course, assignment)
        if self.execute and self._runs:
            self._execute_all()
        return self.report

    # -- lessons
    def _check_lesson(self, course: Course, lesson: Lesson) -> None:
        where = f"lesson {lesson.path}"
        nb = self._read_notebook(course.root / lesson.path, where)
        for rel in lesson.files:
            if not (course.root / rel).is_file():
                self.problem(
                    where,
                    f"data file {rel} listed in course.yml is missing",
                    f"add {course.root / rel} or remove it from the lesson's files",
                )
        if nb is None:
            return
        for i, cell in enumerate(nb.cells):
            if _nbgrader(cell).get("grade") or _nbgrader(cell).get("solution"):
                self.problem(
                    _cell_label(where, i, cell),
                    "lessons are plain notebooks but this cell has nbgrader grading metadata",
                    "move graded exercises into an assignment under source/",
                )
        self.report.checked.append(f"lesson {lesson.slug}")
        if self.execute_lessons:
            self._runs.append(_Run("lesson", where, nb, (course.root / lesson.path).parent))

    # -- assignments
    def _check_assignment(self, course: Course, assignment: Assignment) -> None:
        folder = course.assignment_dir(assignment)
        where = f"assignment {assignment.slug}"
        if not folder.is_dir():
            self.problem(
                where,
                f"folder source/{assignment.slug}/ is missing",
                f"create {folder} with the assignment's source notebooks, "
                "or remove the assignment from course.yml",
            )
            return
        notebooks = course.source_notebooks(assignment)
        if not notebooks:
            self.problem(where, f"no .ipynb in source/{assignment.slug}/", "add the notebook")
            return
        for rel in assignment.files:
            if not (folder / rel).is_file():
                self.problem(
                    where,
                    f"data file {rel} listed in course.yml is missing from source/{assignment.slug}/",
                    f"add {folder / rel} (learners receive everything in that folder) "
                    "or remove it from the assignment's files",
                )
        grade_ids: dict[str, str] = {}
        total = 0.0
        for nb_path in notebooks:
            nb_where = f"{where}/{nb_path.name}"
            nb = self._read_notebook(nb_path, nb_where)
            if nb is None:
                continue
            total += self._check_source_notebook(nb, nb_where, grade_ids)
            self._check_data_references(nb, nb_where, folder, assignment)
            try:
                master = release_notebook(nb, nb_path.stem, assignment.slug, folder)
            except ReleaseError as e:
                self.problem(
                    nb_where,
                    f"nbgrader could not build the student version: {e.__cause__ or e}",
                    "fix the cell metadata or the BEGIN/END markers nbgrader names",
                )
                continue
            student = nbformat.reads(json.dumps(master.student), as_version=4)
            self._check_leaks(nb, student, nb_where)
            pair = _Pair(master, nb_where)
            self._runs.append(_Run("solution", nb_where, nb, folder, pair))
            self._runs.append(_Run("student", nb_where, student, folder, pair))
        if abs(total - float(assignment.points)) > 1e-9:
            self.problem(
                where,
                f"course.yml says {assignment.points} points but the notebooks' nbgrader "
                f"points add up to {total:g}",
                "make the manifest's points equal the sum of the graded cells' points",
            )
        self.report.checked.append(f"assignment {assignment.slug}")

    def _read_notebook(self, path: Path, where: str) -> NotebookNode | None:
        if not path.is_file():
            self.problem(where, f"file {path} is missing", "add it or fix the path in course.yml")
            return None
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as e:
            self.problem(where, f"not a valid notebook: {e}", "re-save it from JupyterLab")
            return None
        return nb

    def _check_source_notebook(
        self, nb: NotebookNode, where: str, grade_ids: dict[str, str]
    ) -> float:
        """nbgrader's own metadata validation plus our teaching checks; returns the points."""
        try:
            MetadataValidator().validate_nb(nb)
        except SchemaTooOldError as e:
            self.problem(
                where,
                f"nbgrader metadata uses an old schema: {e}",
                "upgrade it with `nbgrader update <notebook>` (nbgrader's own tool)",
            )
        except ValidationError as e:
            self.problem(
                where,
                f"nbgrader metadata is invalid: {e}",
                "fix it in JupyterLab's nbgrader cell toolbar (Create Assignment)",
            )
        points = 0.0
        for i, cell in enumerate(nb.cells):
            meta = _nbgrader(cell)
            if not meta:
                if _BEGIN_SOLUTION.search(cell.source) or _BEGIN_HIDDEN.search(cell.source):
                    self.problem(
                        _cell_label(where, i, cell),
                        "has BEGIN SOLUTION/HIDDEN TESTS markers but no nbgrader metadata, so "
                        "nbgrader would not clear it",
                        "mark the cell as a solution or autograder-test cell",
                    )
                continue
            label = _cell_label(where, i, cell)
            grade_id = meta.get("grade_id")
            if grade_id:
                if grade_id in grade_ids:
                    self.problem(
                        label,
                        f"duplicate grade id {grade_id!r} (also in {grade_ids[grade_id]})",
                        "give every graded/solution cell a unique grade_id within the assignment",
                    )
                else:
                    grade_ids[grade_id] = label
            if meta.get("grade"):
                points += float(meta.get("points") or 0)
            if meta.get("solution") and cell.cell_type == "code":
                self._check_hints(cell, label)
            if _is_autograder_test(cell):
                self._check_assert_messages(cell, label)
        return points

    def _check_hints(self, cell: NotebookNode, label: str) -> None:
        hints = cell.metadata.get("learning_studio", {}).get("hints")
        if hints is None:
            self.warn(label, "exercise has no hints", "add learning_studio.hints to the cell")
        elif not (isinstance(hints, list) and hints and all(isinstance(h, str) for h in hints)):
            self.problem(
                label,
                "learning_studio.hints must be a non-empty list of strings",
                'write e.g. "learning_studio": {"hints": ["gentle", "more", "revealing"]}',
            )

    def _check_assert_messages(self, cell: NotebookNode, label: str) -> None:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as e:
            self.problem(label, f"test cell is not valid Python: {e}", "fix the syntax")
            return
        bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]
        if bare:
            self.warn(
                label,
                f"assert without a message on line(s) {bare}",
                "add a message that tells the learner what went wrong",
            )

    def _check_data_references(
        self, nb: NotebookNode, where: str, folder: Path, assignment: Assignment
    ) -> None:
        """Warn about shipped data files the code reads that course.yml does not list."""
        listed = set(assignment.files)
        seen: set[str] = set()
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for name in _DATA_FILE_LITERAL.findall(cell.source):
                if name in seen:
                    continue
                seen.add(name)
                if name.startswith("/"):
                    self.warn(
                        where,
                        f"reads {name} by an absolute path, which learners and the grading "
                        "sandbox do not have",
                        "put the file beside the notebook, list it in the assignment's files "
                        "and read it by its plain name",
                    )
                    continue
                # A name that does not exist may be a file the notebook writes; a missing
                # file it reads shows up as FileNotFoundError when the solution runs.
                if (folder / name).is_file() and name not in listed:
                    self.warn(
                        where,
                        f"reads {name} which is not listed in course.yml files",
                        f"add {name} to the assignment's files",
                    )

    def _check_leaks(self, source: NotebookNode, student: NotebookNode, where: str) -> None:
        """No solution or hidden-test text may reach the learner."""
        student_text = "\n".join(cell.source for cell in student.cells)
        student_lines = {line.strip() for line in student_text.splitlines()}
        visible_source = "\n".join(
            line
            for cell in source.cells
            for line in _visible_lines(cell.source)
        )
        visible_lines = {line.strip() for line in visible_source.splitlines()}
        for i, cell in enumerate(source.cells):
            for kind, begin, end in (
                ("hidden test", _BEGIN_HIDDEN, _END_HIDDEN),
                ("solution", _BEGIN_SOLUTION, _END_SOLUTION),
            ):
                for line in _secret_regions(cell.source, begin, end):
                    text = line.strip()
                    if len(text) < _MIN_SECRET_LINE or text.startswith("#"):
                        continue
                    # A line the instructor also shows outside every secret region (say,
                    # `except ValueError:` in a visible test) is not a leak.
                    if text in visible_lines:
                        continue
                    if text in student_lines:
                        self.problem(
                            _cell_label(where, i, cell),
                            f"{kind} text reaches the student version: {text!r}",
                            "check the BEGIN/END markers are spelt exactly as nbgrader expects "
                            f"('### BEGIN {'HIDDEN TESTS' if kind == 'hidden test' else 'SOLUTION'}')"
                            " and that the line is not repeated in a visible cell",
                        )
                        break
        for i, cell in enumerate(student.cells):
            if _BEGIN_HIDDEN.search(cell.source) or _BEGIN_SOLUTION.search(cell.source):
                self.problem(
                    _cell_label(where + " (student version)", i, cell),
                    "a BEGIN SOLUTION / BEGIN HIDDEN TESTS marker survives in the student version",
                    "spell the marker exactly '### BEGIN SOLUTION' / '### BEGIN HIDDEN TESTS' "
                    "and mark the cell in nbgrader's toolbar",
                )

    # -- execution
    def _execute_all(self) -> None:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            results = list(pool.map(self._execute_one, self._runs))
        for run, executed in zip(self._runs, results, strict=True):
            if isinstance(executed, Exception):
                self.problem(
                    run.label,
                    f"could not run the {run.kind} notebook: {executed}",
                    "run it yourself in JupyterLab to see why",
                )
                continue
            getattr(self, f"_judge_{run.kind}")(run, executed)
        pairs = {id(run.pair): run.pair for run in self._runs if run.pair is not None}
        for pair in pairs.values():
            if len(pair.executed) == 2:
                self._judge_release(pair)
        where = "on this host" if self.runner is None else getattr(self.runner, "where", "")
        self.report.checked.append(f"executed {len(self._runs)} notebook(s) {where}".rstrip())

    def _execute_one(self, run: _Run) -> NotebookNode | Exception:
        with tempfile.TemporaryDirectory(prefix="course-validate-") as scratch:
            workdir = Path(scratch) / "work"
            # A copy, so a notebook that writes files cannot change the course.
            shutil.copytree(run.folder, workdir, ignore=shutil.ignore_patterns("*.ipynb"))
            try:
                return self._run_notebook(run.nb, workdir)
            except Exception as e:  # report, don't abort the other notebooks
                self.log.exception(
                    "course %s: running %s (%s) failed", self.report.course, run.label, run.kind
                )
                return e

    def _judge_lesson(self, run: _Run, executed: NotebookNode) -> None:
        for i, cell in enumerate(executed.cells):
            if cell.cell_type == "code" and any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])
            ):
                self.problem(
                    _cell_label(run.label, i, cell),
                    f"worked example raises {_error_summary(cell)}",
                    "lessons must run top to bottom without errors; fix the example",
                )

    def _judge_solution(self, run: _Run, executed: NotebookNode) -> None:
        run.pair.executed["solution"] = executed
        for i, cell in enumerate(executed.cells):
            if cell.cell_type != "code" or is_autograder_test(cell):
                continue  # test cells: the release check, below
            if _error_summary(cell) and any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])
            ):
                self.problem(
                    _cell_label(run.label + " (solution)", i, cell),
                    f"raises {_error_summary(cell)} when run with the solution",
                    _solution_fix(cell),
                )

    def _judge_student(self, run: _Run, executed: NotebookNode) -> None:
        run.pair.executed["student"] = executed

    def _judge_release(self, pair: _Pair) -> None:
        """The grader's own release check (grader.engine.check) on the executed versions."""
        name = pair.master.name
        solution, student = pair.executed["solution"], pair.executed["student"]
        check = judge_release(
            {name: pair.master},
            {name: scores_of_executed(solution)},
            {name: scores_of_executed(student)},
        )
        cells = {
            c.metadata["nbgrader"]["grade_id"]: (i, c)
            for version in (solution, student)
            for i, c in enumerate(version.cells)
            if is_autograder_test(c)
        }
        for key in check.failing_in_source:
            grade_id = key.split("/", 1)[1]
            i, _ = cells[grade_id]
            cell = solution.cells[i]
            score, max_score = scores_of_executed(solution)[grade_id]
            self.problem(
                _cell_label(pair.label + " (solution)", i, cell),
                f"the solution fails this test ({score}/{max_score:g}): "
                f"{_error_summary(cell) or 'no full credit'}",
                _solution_fix(cell),
            )
        for key in check.non_discriminating:
            grade_id = key.split("/", 1)[1]
            i, cell = next((i, c) for i, c in enumerate(student.cells)
                           if is_autograder_test(c)
                           and c.metadata["nbgrader"]["grade_id"] == grade_id)
            score, max_score = scores_of_executed(student)[grade_id]
            self.problem(
                _cell_label(pair.label + " (student version)", i, cell),
                f"this test passes on the unanswered student version ({score:g}/"
                f"{max_score:g} points for no work)",
                "make the test exercise the learner's answer (call their function, check "
                "their value) so it fails until they solve the exercise",
            )


def _solution_fix(cell: NotebookNode) -> str:
    if "FileNotFoundError" in _error_summary(cell):
        return (
            "a file the notebook reads is missing: put it in source/<assignment>/ beside the "
            "notebook and list it under the assignment's files in course.yml"
        )
    return (
        "fix the solution or the test so the reference answer earns full marks; the source "
        "notebook must run top to bottom without errors"
    )


def _visible_lines(source: str) -> list[str]:
    """Lines of a cell outside every solution and hidden-test region."""
    out, secret = [], False
    for line in source.splitlines():
        if _BEGIN_SOLUTION.search(line) or _BEGIN_HIDDEN.search(line):
            secret = True
        elif _END_SOLUTION.search(line) or _END_HIDDEN.search(line):
            secret = False
        elif not secret:
            out.append(line)
    return out


def validate_course(
    path: Path | str,
    *,
    runner: NotebookRunner | None = None,
    execute: bool = True,
    execute_lessons: bool = True,
    jobs: int = 2,
    cell_timeout: int = 60,
    schema_path: Path | None = None,
) -> ValidationReport:
    """Check one course folder; see the module docstring. Never raises for course problems."""
    return CourseValidator(
        runner=runner,
        execute=execute,
        execute_lessons=execute_lessons,
        jobs=jobs,
        cell_timeout=cell_timeout,
        schema_path=str(schema_path or DEFAULT_SCHEMA_PATH),
    ).validate(path)
