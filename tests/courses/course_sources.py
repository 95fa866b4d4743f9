"""The rules a course's committed files follow, as functions that list what breaks them.

The notebooks under ``courses/<slug>/lessons`` and ``courses/<slug>/source`` are the
course: instructors edit them in JupyterLab (or any editor) and commit them as saved.
These rules catch what an editor lets through and nothing else would catch before a
learner does: saved outputs, duplicate cell ids, another kernel, nbgrader metadata that
nbgrader would mis-grade or leak, a data file a notebook reads that is not shipped, and a
course.yml that does not name exactly the notebooks that are there.

Plain functions over files, without the grader's code, so that test_course_sources.py
runs them on the real courses and on copies broken on purpose.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path
from typing import Any

import nbformat
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.nbgraderformat import (
    MetadataValidator,
    SchemaTooNewError,
    SchemaTooOldError,
)
from nbgrader.nbgraderformat import ValidationError as NbgraderValidationError

#: nbgrader 0.9's metadata schema; what its cell toolbar and our extension write.
NBGRADER_SCHEMA_VERSION = 3
NBGRADER_REQUIRED = ("grade", "grade_id", "locked", "schema_version", "solution")
KERNEL = {"name": "python3", "language": "python"}
TRY_IT = "## Try it yourself"

# nbgrader's delimiters are case-sensitive substrings of a line; the loose patterns find a
# misspelt marker, which nbgrader would silently leave in the learner's copy.
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
_LOOSE_SOLUTION = re.compile(r"\b(BEGIN|END)\s*SOLUTION\b", re.IGNORECASE)
_LOOSE_HIDDEN = re.compile(r"\b(BEGIN|END)\s*HIDDEN\s*TESTS?\b", re.IGNORECASE)

#: A string literal that names a data file ("steps.csv", "data/weather.csv").
DATA_FILE = re.compile(r"[A-Za-z0-9_./-]+\.(?:csv|tsv|json|txt|xlsx|parquet|dat)")
# Calls that take a path to write, so the file need not exist beforehand:
# open(path, "w"), df.to_csv(path), np.savetxt(path), write_report(data, path), ...
_WRITING_CALL = re.compile(r"^(write|save|to_|dump)")
_MAGICS = TransformerManager()


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _label(path: Path, index: int, cell: dict) -> str:
    gid = _nbgrader(cell).get("grade_id")
    return f"{path.name} cell {index}" + (f" ({gid})" if gid else "")


# ----------------------------------------------------------------- one notebook


def notebook_problems(path: Path, *, graded: bool) -> list[str]:
    """What is wrong with one committed notebook; ``graded`` for an assignment's source."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"{path.name}: not a readable JSON notebook ({e})"]
    problems: list[str] = []
    if raw.get("nbformat") != 4 or raw.get("nbformat_minor", 0) < 5:
        problems.append(
            f"{path.name}: nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor')}; "
            "save it with JupyterLab 4 (nbformat 4.5 or later, which gives every cell an id)"
        )
    try:
        with warnings.catch_warnings():
            # nbformat renames duplicate ids in its copy and warns; _cell_problems reports them.
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(raw))
    except nbformat.ValidationError as e:
        problems.append(f"{path.name}: not valid nbformat 4: {e.message}")
        return problems
    problems += _kernel_problems(path, raw)
    problems += _cell_problems(path, raw)
    problems += _nbgrader_problems(path, raw) if graded else _lesson_problems(path, raw)
    return problems


def _kernel_problems(path: Path, nb: dict) -> list[str]:
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    if all(spec.get(k) == v for k, v in KERNEL.items()):
        return []
    return [
        f"{path.name}: kernelspec is {spec or 'missing'}; learners and the grader run "
        "python3: pick the 'Python 3 (ipykernel)' kernel and save"
    ]


def _cell_problems(path: Path, nb: dict) -> list[str]:
    problems = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb["cells"]):
        cid = cell.get("id")
        if cid in seen:
            problems.append(
                f"{_label(path, i, cell)}: cell id {cid!r} is also cell {seen[cid]}'s; "
                "cell ids must be unique (give this cell a new id)"
            )
        seen.setdefault(cid, i)
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            problems.append(
                f"{_label(path, i, cell)}: has saved outputs; clear them "
                "(Edit > Clear Outputs of All Cells) before committing"
            )
        if cell.get("execution_count") is not None:
            problems.append(
                f"{_label(path, i, cell)}: has an execution count; clear outputs before "
                "committing"
            )
    return problems


def _lesson_problems(path: Path, nb: dict) -> list[str]:
    problems = [
        f"{_label(path, i, cell)}: lessons are plain notebooks but this cell has nbgrader "
        "metadata; graded work belongs in an assignment under source/"
        for i, cell in enumerate(nb["cells"])
        if "nbgrader" in cell.get("metadata", {})
    ]
    if not any(cell["cell_type"] == "markdown" and _source(cell).startswith(TRY_IT)
               for cell in nb["cells"]):
        problems.append(f"{path.name}: a lesson ends with a '{TRY_IT}' prompt; add one")
    return problems


def _nbgrader_problems(path: Path, nb: dict) -> list[str]:
    problems = []
    grade_ids: dict[str, int] = {}
    graded = 0
    for i, cell in enumerate(nb["cells"]):
        meta = _nbgrader(cell)
        label = _label(path, i, cell)
        text = _source(cell)
        if not meta:
            problems += _stray_markers(label, text, solution=False, tests=False)
            continue
        missing = [k for k in NBGRADER_REQUIRED if k not in meta]
        if missing:
            problems.append(f"{label}: nbgrader metadata lacks {', '.join(missing)}")
            continue
        if meta["schema_version"] != NBGRADER_SCHEMA_VERSION:
            problems.append(
                f"{label}: nbgrader schema_version {meta['schema_version']}, expected "
                f"{NBGRADER_SCHEMA_VERSION} (nbgrader 0.9)"
            )
        gid = meta["grade_id"]
        if not isinstance(gid, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", gid):
            problems.append(f"{label}: grade_id {gid!r} must be letters, digits, '-' and '_'")
        elif gid in grade_ids:
            problems.append(
                f"{label}: grade_id {gid!r} is also cell {grade_ids[gid]}'s; grade ids "
                "must be unique in the notebook"
            )
        else:
            grade_ids[gid] = i
        gradable = meta["grade"] or meta.get("task", False)
        points = meta.get("points")
        if gradable:
            graded += 1
            if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
                problems.append(f"{label}: a graded cell needs points > 0, it has {points!r}")
        elif "points" in meta:
            problems.append(
                f"{label}: points {points!r} on a cell that is not graded; remove them "
                "or mark the cell as graded"
            )
        is_test = meta["grade"] and not meta["solution"]
        if is_test and (cell["cell_type"] != "code" or not meta["locked"]):
            problems.append(f"{label}: an autograded test must be a locked code cell")
        if meta["solution"] and cell["cell_type"] == "code":
            problems += _marker_problems(label, text, SOLUTION_MARKERS, "solution")
            if not meta["grade"]:  # an autograded answer: the panel's Hint button shows these
                problems += _hint_problems(label, cell)
        if is_test:
            problems += _marker_problems(label, text, HIDDEN_MARKERS, "hidden-tests",
                                         required=False)
        problems += _stray_markers(label, text, solution=meta["solution"], tests=is_test)
    if not graded:
        problems.append(f"{path.name}: no graded cell; an assignment needs points to earn")
    try:
        MetadataValidator().validate_nb(nbformat.from_dict(nb))
    except (NbgraderValidationError, SchemaTooOldError, SchemaTooNewError) as e:
        problems.append(f"{path.name}: nbgrader refuses its metadata: {e}")
    return problems


def _marker_problems(label: str, text: str, markers: tuple[str, str], what: str,
                     required: bool = True) -> list[str]:
    begin, end = markers
    depth, count = 0, 0
    for line in text.splitlines():
        if begin in line:
            if depth:
                return [f"{label}: '{begin}' inside an open {what} region"]
            depth, count = 1, count + 1
        elif end in line:
            if not depth:
                return [f"{label}: '{end}' without a '{begin}' before it"]
            depth = 0
    if depth:
        return [f"{label}: '{begin}' is never closed by '{end}'"]
    if required and not count:
        return [
            f"{label}: a solution code cell needs '### {begin}' ... '### {end}' around the "
            "reference answer (nbgrader would otherwise replace the whole cell)"
        ]
    return []


def _stray_markers(label: str, text: str, *, solution: bool, tests: bool) -> list[str]:
    problems = []
    for line in text.splitlines():
        for loose, (begin, end), allowed, where in (
            (_LOOSE_SOLUTION, SOLUTION_MARKERS, solution, "a solution cell"),
            (_LOOSE_HIDDEN, HIDDEN_MARKERS, tests, "an autograded test cell"),
        ):
            found = loose.search(line)
            if not found:
                continue
            meant = begin if found.group(1).upper() == "BEGIN" else end
            if meant not in line:
                problems.append(
                    f"{label}: {line.strip()!r} looks like an nbgrader marker but is "
                    f"misspelt; nbgrader would ship it to learners (write {meant!r})"
                )
            elif not allowed:
                problems.append(
                    f"{label}: {line.strip()!r} outside {where}; nbgrader only strips it "
                    "there, so learners would see it"
                )
    return problems


def _hint_problems(label: str, cell: dict) -> list[str]:
    hints = cell.get("metadata", {}).get("learning_studio", {}).get("hints")
    if (isinstance(hints, list) and hints
            and all(isinstance(h, str) and h.strip() for h in hints)):
        return []
    return [
        f"{label}: an exercise needs metadata.learning_studio.hints, a list of hints, "
        "gentlest first (JupyterLab: Grading: Edit hints...)"
    ]


# ----------------------------------------------------------------- data files


def data_files_read(nb: dict) -> set[str]:
    """Names of data files the notebook's code mentions and does not write itself."""
    mentioned: set[str] = set()
    written: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_MAGICS.transform_cell(_source(cell)))
        except SyntaxError:
            continue  # the notebook's own run reports it
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if DATA_FILE.fullmatch(node.value):
                    mentioned.add(node.value)
            elif isinstance(node, ast.Call):
                written |= _written_by(node)
    return mentioned - written


def _written_by(call: ast.Call) -> set[str]:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    args = [*call.args, *(k.value for k in call.keywords)]
    literals = {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    if name == "open":
        mode = call.args[1] if len(call.args) > 1 else next(
            (k.value for k in call.keywords if k.arg == "mode"), None)
        if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax"):
            return literals
        return set()
    return literals if _WRITING_CALL.match(name) else set()


# ----------------------------------------------------------------- one course


def _visible(path: Path, root: Path) -> bool:
    # JupyterLab's .ipynb_checkpoints/ and Python's __pycache__/ are not content.
    parts = path.relative_to(root).parts
    return not any(p.startswith(".") or p == "__pycache__" for p in parts)


def _listed_vs_present(listed: set[str], present: set[str], unlisted: str,
                       absent: str) -> list[str]:
    """A problem for each name present but not listed, and for each listed but absent;
    the messages are format strings for the name."""
    return ([unlisted.format(name) for name in sorted(present - listed)]
            + [absent.format(name) for name in sorted(listed - present)])


def course_problems(root: Path) -> list[str]:
    """course.yml names exactly the notebooks there are; every notebook is a clean source."""
    try:
        manifest: dict[str, Any] = yaml.safe_load((root / "course.yml").read_text())
    except (OSError, yaml.YAMLError) as e:
        return [f"{root.name}/course.yml: cannot be read ({e})"]
    lessons = {entry["path"]: entry for entry in manifest.get("lessons") or []}
    lesson_files = {p.relative_to(root).as_posix() for p in (root / "lessons").rglob("*.ipynb")
                    if _visible(p, root)}
    assignments = {entry["slug"]: entry for entry in manifest.get("assignments") or []}
    source = root / "source"
    folders = {p.name for p in source.iterdir() if p.is_dir() and _visible(p, root)} if (
        source.is_dir()) else set()
    problems: list[str] = []
    for listed, present, unlisted, absent, check in (
        (lessons, lesson_files,
         f"{root.name}/{{}}: a lesson notebook that course.yml does not list; add it under "
         "lessons: (or delete it)",
         f"{root.name}/course.yml: lesson {{}} does not exist",
         lambda rel: _lesson_problems_in(root, rel, lessons[rel])),
        (assignments, folders,
         f"{root.name}/source/{{}}/: an assignment folder that course.yml does not list; add "
         "it under assignments: (or delete it)",
         f"{root.name}/course.yml: assignment {{0}} has no folder source/{{0}}/",
         lambda slug: _assignment_problems(root, source / slug, assignments[slug])),
    ):
        problems += _listed_vs_present(set(listed), present, unlisted, absent)
        for name in sorted(present & set(listed)):
            problems += check(name)

    stray = [p for p in root.rglob("*.ipynb") if _visible(p, root)
             and p.relative_to(root).parts[0] not in ("lessons", "source")]
    # nbgrader reads source/<slug>/*.ipynb only: one in source/ itself or deeper is lost.
    stray += [p for p in [*source.glob("*.ipynb"), *source.glob("*/*/**/*.ipynb")]
              if _visible(p, root)]
    for path in sorted(stray):
        problems.append(f"{root.name}/{path.relative_to(root)}: a notebook that is neither a "
                        "lesson (lessons/) nor an assignment's (source/<slug>/*.ipynb)")
    return problems


def _lesson_problems_in(root: Path, rel: str, entry: dict[str, Any]) -> list[str]:
    path = root / rel
    problems = [f"{root.name}/{rel}: {p}" for p in notebook_problems(path, graded=False)]
    listed = set(entry.get("files") or [])
    return problems + _data_problems(root, path, listed, root, where=f"lesson {rel}")


def _assignment_problems(root: Path, folder: Path, entry: dict[str, Any]) -> list[str]:
    where = f"{root.name}/source/{folder.name}"
    notebooks = sorted(p for p in folder.glob("*.ipynb") if _visible(p, root))
    if not notebooks:
        return [f"{where}/: no notebook; an assignment is source/<slug>/*.ipynb"]
    problems: list[str] = []
    listed = set(entry.get("files") or [])
    shipped = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.suffix != ".ipynb" and _visible(p, root)}
    problems += _listed_vs_present(
        listed, shipped,
        unlisted=f"{where}/{{}}: not listed in the assignment's files in course.yml, yet "
        "learners receive everything in the folder; list it, or delete it if running the "
        "notebook in place wrote it",
        absent=f"{where}: course.yml lists file {{}}, which does not exist")
    grade_ids: dict[str, str] = {}
    total = 0.0
    for path in notebooks:
        problems += [f"{where}/{p}" for p in notebook_problems(path, graded=True)]
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            cells = list(nb["cells"])
        except (ValueError, KeyError, TypeError):
            continue
        for cell in cells:
            meta = _nbgrader(cell)
            gid = meta.get("grade_id")
            if gid and gid in grade_ids and grade_ids[gid] != path.name:
                problems.append(f"{where}/{path.name}: grade_id {gid!r} is also in "
                                f"{grade_ids[gid]}; grade ids are unique in an assignment")
            if gid:
                grade_ids.setdefault(gid, path.name)
            if meta.get("grade") or meta.get("task"):
                points = meta.get("points")
                total += points if isinstance(points, int | float) else 0
        problems += _data_problems(root, path, listed, folder, where=where)
    if entry.get("points") != total:
        problems.append(f"{root.name}/course.yml: assignment {folder.name} has points "
                        f"{entry.get('points')!r} but its notebooks' points add up to {total:g}")
    return problems


def _data_problems(root: Path, path: Path, listed: set[str], listed_from: Path,
                   where: str) -> list[str]:
    """Every data file the notebook reads is beside it (by a relative path) and listed in
    course.yml, where a lesson's files are relative to the course folder (``listed_from``)
    and an assignment's to its folder."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        names = data_files_read(nb)
    except (ValueError, KeyError, TypeError):
        return []  # notebook_problems reports an unreadable notebook
    problems = []
    for name in sorted(names):
        if name.startswith("/") or ".." in Path(name).parts:
            problems.append(f"{where}: {path.name} reads {name}, outside its folder; put the "
                            "file beside the notebook and read it by its relative name")
        elif not (path.parent / name).is_file():
            problems.append(f"{where}: {path.name} reads {name}, which does not exist beside it "
                            f"({path.parent.relative_to(root.parent) / name})")
        elif (rel := (path.parent / name).relative_to(listed_from).as_posix()) not in listed:
            problems.append(f"{where}: {path.name} reads {name}, which course.yml does not list "
                            f"in its files ({rel})")
    return problems
