"""Courses on disk: loading a course's manifest and checking that the course is correct.

A course is a folder ``courses/<slug>/`` with a manifest ``course.yml`` (described by
``courses/schema.json``), readable lesson notebooks under ``lessons/`` and nbgrader source
notebooks under ``source/<assignment>/``.

``validate_course`` is what an instructor (and CI) runs before a release: it builds the
student version with nbgrader's own generate_assignment preprocessors, runs the solution
and the student version, and reports every problem with the course, assignment, notebook and
cell it concerns and what to do about it.

Notebooks are executed by one swappable function, a ``NotebookRunner``
(``f(nb, workdir) -> executed nb``). ``python -m grader course validate`` uses
``grader.courses.sandbox_runner.SandboxNotebookRunner``: each notebook in a fresh sandbox container
of the learner image, as grading runs it. Without a runner (the library default, and
``--runner host``) nbgrader's ``Execute`` preprocessor (nbclient) runs on this machine, one
fresh kernel per notebook, started ahead of time by ``WarmKernels``: only for trusted
instructor notebooks on machines without Docker.
"""

from __future__ import annotations

import ast
import copy
import json
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml
from traitlets import Bool, Integer, Unicode
from traitlets import Callable as CallableTrait
from traitlets import validate as validate_trait
from traitlets.config import LoggingConfigurable

if TYPE_CHECKING:  # nbformat is imported where notebooks are read: `course import` needs
    from nbformat import NotebookNode  # only the manifest, on machines without nbgrader

MANIFEST_NAME = "course.yml"
#: The manifest schema ships with the courses; ``courses/schema.json`` beside this package.
DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parents[2] / "courses" / "schema.json"

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


# --------------------------------------------------------------------------- errors


class CourseError(Exception):
    """A course cannot be used as it is; the message says what to change."""


class ManifestError(CourseError):
    """course.yml is missing, is not YAML, or does not match courses/schema.json."""


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Lesson:
    """A readable notebook, in the order a learner should read it."""

    slug: str
    title: str
    path: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """A graded nbgrader assignment: the source notebooks in ``source/<slug>/``."""

    slug: str
    title: str
    points: float
    due_offset_days: int
    max_submissions: int | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Course:
    """A course folder and its manifest."""

    root: Path
    slug: str
    title: str
    summary: str
    audience: str
    network: str
    lessons: tuple[Lesson, ...]
    assignments: tuple[Assignment, ...]

    def assignment_dir(self, assignment: Assignment | str) -> Path:
        slug = assignment if isinstance(assignment, str) else assignment.slug
        return self.root / "source" / slug

    def source_notebooks(self, assignment: Assignment | str) -> list[Path]:
        """The assignment's source notebooks, sorted (nbgrader grades every .ipynb there)."""
        folder = self.assignment_dir(assignment)
        return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))

    def assignment(self, slug: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.slug == slug:
                return assignment
        known = ", ".join(a.slug for a in self.assignments)
        raise CourseError(f"course {self.slug!r} has no assignment {slug!r} (it has: {known})")


def load_schema(schema_path: Path | None = None) -> dict[str, Any]:
    path = Path(schema_path or DEFAULT_SCHEMA_PATH)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise CourseError(f"course manifest schema not found at {path}") from e


def manifest_errors(data: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``data`` breaks the schema, as 'where: what' lines (empty if valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = _json_path(error.absolute_path) or "(top level)"
        messages.append(f"{where}: {error.message}")
    return messages


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_course(path: Path | str, schema_path: Path | None = None) -> Course:
    """Read and check ``<path>/course.yml``; raise ManifestError saying what to fix."""
    root = Path(path).resolve()
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        raise ManifestError(
            f"{root}: no {MANIFEST_NAME} found. Every course folder needs a manifest; "
            "see docs/courses-instructor.md for the fields."
        )
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ManifestError(f"{manifest}: not valid YAML: {e}") from e
    errors = manifest_errors(data, load_schema(schema_path))
    if errors:
        listed = "\n  ".join(errors)
        raise ManifestError(
            f"{manifest} does not match courses/schema.json:\n  {listed}\n"
            "Fix these fields (docs/courses-instructor.md describes each one)."
        )
    if data["slug"] != root.name:
        raise ManifestError(
            f"{manifest}: slug {data['slug']!r} differs from the folder name {root.name!r}; "
            "rename one so they match (the slug is the course's id everywhere)."
        )
    for kind in ("lessons", "assignments"):
        seen: set[str] = set()
        for item in data[kind]:
            if item["slug"] in seen:
                raise ManifestError(
                    f"{manifest}: {kind} slug {item['slug']!r} appears twice; slugs must be unique."
                )
            seen.add(item["slug"])
    return Course(
        root=root,
        slug=data["slug"],
        title=data["title"],
        summary=data["summary"].strip(),
        audience=data["audience"].strip(),
        network=data.get("network", "closed"),
        lessons=tuple(
            Lesson(
                slug=item["slug"],
                title=item["title"],
                path=item["path"],
                files=tuple(item.get("files", ())),
            )
            for item in data["lessons"]
        ),
        assignments=tuple(
            Assignment(
                slug=item["slug"],
                title=item["title"],
                points=item["points"],
                due_offset_days=item["due_offset_days"],
                max_submissions=item.get("max_submissions"),
                files=tuple(item.get("files", ())),
            )
            for item in data["assignments"]
        ),
    )


def load_courses(folders: Iterable[Path | str], schema_path: Path | None = None) -> list[Course]:
    """Load several course folders for a command that sends them somewhere (``course
    import``): every manifest is checked, and every assignment must have its source folder
    with a notebook, before anything is sent. Raises CourseError naming the first problem."""
    courses = []
    for folder in folders:
        course = load_course(folder, schema_path)
        for assignment in course.assignments:
            if not course.source_notebooks(assignment):
                raise CourseError(
                    f"{course.assignment_dir(assignment)}: assignment {assignment.slug!r} of "
                    f"course {course.slug!r} has no source notebook (*.ipynb) there; add it or "
                    "remove the assignment from course.yml"
                )
        courses.append(course)
    return courses


def discover_courses(courses_root: Path | str) -> list[Path]:
    """Course folders under ``courses_root``: those with a course.yml, sorted by name."""
    return sorted(p.parent for p in Path(courses_root).glob(f"*/{MANIFEST_NAME}"))


def catalogue_entry(course: Course) -> dict[str, Any]:
    """One course's public description, in the shape the CMS's catalogue sync reads.

    The CMS (cms/studio_site/catalogue/sync.py) matches courses, lessons and assignments by
    ``id`` and shows ``max_score`` and ``due``; the manifest's own field names (``slug``,
    ``points``, ``due_offset_days``...) are kept beside them for other readers. ``due`` is
    added by ``course import`` from the grader's release, which fixes the actual date.
    """
    description = course.summary
    if course.audience:
        description += f"\n\nWho it is for: {course.audience}"
    return {
        "id": course.slug,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "description": description,
        "audience": course.audience,
        "network": course.network,
        "lessons": [
            {"id": lesson.slug, "slug": lesson.slug, "title": lesson.title, "path": lesson.path}
            for lesson in course.lessons
        ],
        "assignments": [
            {
                "id": a.slug,
                "slug": a.slug,
                "title": a.title,
                "max_score": a.points,
                "points": a.points,
                "due_offset_days": a.due_offset_days,
                "max_submissions": a.max_submissions,
            }
            for a in course.assignments
        ],
    }


def catalogue(courses_root: Path | str, schema_path: Path | None = None) -> dict[str, Any]:
    """The course catalogue the CMS imports (its /courses/sync/ endpoint or the
    ``sync_catalogue`` command): every course's public description."""
    return {
        "courses": [
            catalogue_entry(load_course(folder, schema_path))
            for folder in discover_courses(courses_root)
        ]
    }


# --------------------------------------------------------------------------- student version


def build_student_version(source: NotebookNode) -> NotebookNode:
    """The notebook a learner receives: the same nbgrader pipeline a release runs
    (grader.engine.release.student_version; imported here so that nbgrader loads only when a
    notebook is checked). Raises whatever nbgrader raises on broken metadata or markers.
    """
    from grader.engine.release import student_version

    return student_version(source)[0]


# --------------------------------------------------------------------------- running notebooks

#: Executes ``nb`` with ``workdir`` as its working directory (a throw-away copy of the
#: assignment folder, data files included) and returns the executed notebook. Cells that
#: raise must not stop the run: nbgrader scores each test cell by its own outputs.
NotebookRunner = Callable[["NotebookNode", Path], "NotebookNode"]


def run_on_host(nb: NotebookNode, workdir: Path, timeout: int = 60) -> NotebookNode:
    """The default NotebookRunner: nbgrader's Execute preprocessor (nbclient) on this host.

    Only for instructor-written notebooks, which are trusted. Learner code goes through the
    grader's Sandbox instead.
    """
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    executed = copy.deepcopy(nb)
    # IPC sockets in the scratch folder: no TCP ports on the host, and no ipykernel
    # warning about unencrypted TCP on every run.
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(workdir / ".kernel")}})
    Execute(timeout=timeout, config=config).preprocess(
        executed, {"metadata": {"path": str(workdir)}}
    )
    return executed


class WarmKernels:
    """A NotebookRunner like run_on_host that starts kernels ahead of time.

    Starting a Python kernel costs about 0.6 s; a background thread keeps ``size`` fresh
    kernels ready, each in its own scratch folder, so a notebook starts running at once.
    Every kernel runs exactly one notebook and is then shut down: no state can pass from a
    solution run to a student-version run. Use as a context manager.
    """

    def __init__(self, size: int = 2, timeout: int = 60, kernel_name: str = "python3") -> None:
        self.timeout = timeout
        self.kernel_name = kernel_name
        self._ready: queue.Queue[tuple[Any, Path]] = queue.Queue(maxsize=max(1, size))
        self._stopping = threading.Event()
        self._starter = threading.Thread(target=self._keep_ready, daemon=True)
        self._starter.start()

    def _start_one(self) -> tuple[Any, Path]:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        folder = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        km = AsyncKernelManager(
            kernel_name=self.kernel_name, transport="ipc", ip=str(folder / ".kernel")
        )
        # Same kernel arguments as nbgrader's Execute gives a python kernel.
        run_sync(km.start_kernel)(
            cwd=str(folder), extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )
        return km, folder

    def _keep_ready(self) -> None:
        while not self._stopping.is_set():
            try:
                kernel = self._start_one()
            except Exception as e:  # surfaces when a notebook asks for a kernel
                kernel = (e, Path())
            while not self._stopping.is_set():
                try:
                    self._ready.put(kernel, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                self._discard(kernel)

    @staticmethod
    def _discard(kernel: tuple[Any, Path]) -> None:
        from jupyter_core.utils import run_sync

        km, folder = kernel
        if not isinstance(km, Exception):
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # already dead: nothing to clean but the folder
                pass
        shutil.rmtree(folder, ignore_errors=True)

    def __call__(self, nb: NotebookNode, workdir: Path) -> NotebookNode:
        from nbgrader.preprocessors import Execute

        if nb.metadata.get("kernelspec", {}).get("name", self.kernel_name) != self.kernel_name:
            return run_on_host(nb, workdir, timeout=self.timeout)
        kernel = self._ready.get()
        km, folder = kernel
        if isinstance(km, Exception):
            raise km
        execute = Execute(timeout=self.timeout)
        try:
            shutil.copytree(workdir, folder, dirs_exist_ok=True)
            executed = copy.deepcopy(nb)
            execute.preprocess(executed, {"metadata": {"path": str(folder)}}, km=km)
            return executed
        finally:
            # nbclient leaves a kernel it did not start running, with its client connected.
            if getattr(execute, "kc", None) is not None:
                execute.kc.stop_channels()
            self._discard(kernel)

    def close(self) -> None:
        self._stopping.set()
        self._starter.join(timeout=30)
        while True:
            try:
                self._discard(self._ready.get_nowait())
            except queue.Empty:
                break

    def __enter__(self) -> WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    from nbgrader.utils import determine_grade

    return determine_grade(cell)


@dataclass
class _Run:
    """One notebook execution to do, and what to check on the result."""

    kind: str  # "lesson", "solution", "student"
    label: str  # where, for messages
    nb: NotebookNode
    folder: Path  # copied to a scratch dir as the working directory


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
                student = build_student_version(nb)
            except Exception as e:  # nbgrader raises RuntimeError/ValidationError here
                self.problem(
                    nb_where,
                    f"nbgrader could not build the student version: {e}",
                    "fix the cell metadata or the BEGIN/END markers nbgrader names",
                )
                continue
            self._check_leaks(nb, student, nb_where)
            self._runs.append(_Run("solution", nb_where, nb, folder))
            self._runs.append(_Run("student", nb_where, student, folder))
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
            import nbformat

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
        from nbgrader.nbgraderformat import MetadataValidator, SchemaTooOldError, ValidationError

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
        for i, cell in enumerate(executed.cells):
            if cell.cell_type != "code":
                continue
            label = _cell_label(run.label + " (solution)", i, cell)
            if _is_autograder_test(cell):
                score, max_score = _cell_score(cell)
                if score is None or score < max_score:
                    self.problem(
                        label,
                        f"the solution fails this test ({score}/{max_score:g}): "
                        f"{_error_summary(cell) or 'no full credit'}",
                        _solution_fix(cell),
                    )
            elif _error_summary(cell) and any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])
            ):
                self.problem(
                    label,
                    f"raises {_error_summary(cell)} when run with the solution",
                    _solution_fix(cell),
                )

    def _judge_student(self, run: _Run, executed: NotebookNode) -> None:
        for i, cell in enumerate(executed.cells):
            if not _is_autograder_test(cell):
                continue
            score, max_score = _cell_score(cell)
            if score is not None and score >= max_score and max_score > 0:
                self.problem(
                    _cell_label(run.label + " (student version)", i, cell),
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
