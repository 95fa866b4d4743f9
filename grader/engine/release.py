"""Releases: the student version of an assignment and the master copies grading needs.

``build_release`` runs nbgrader's own ``generate_assignment`` preprocessors in memory. Where
nbgrader's ``SaveCells`` writes the source cells into its gradebook, we capture the same
fields into ``MasterCell`` records: they are what grading restores locked and test cells
from (nbgrader's ``OverwriteCells``), so the release is self-contained and can live in a
blob store as JSON.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    LockCells,
)

# nbgrader's CourseDirectory.ignore: files never copied with an assignment.
IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
AUTOTEST_DELIMITER = "AUTOTEST"


class ReleaseError(Exception):
    """The source notebooks cannot be released as they are; the message says what to fix."""


@dataclass
class MasterCell:
    """What nbgrader's gradebook keeps about a source cell (SaveCells)."""

    grade_id: str
    cell_type: str
    locked: bool
    source: str
    checksum: str | None
    grade: bool
    solution: bool
    task: bool
    points: float | None


@dataclass
class ReleaseNotebook:
    name: str
    source: dict[str, Any]
    student: dict[str, Any]
    kernelspec: dict[str, Any]
    cells: dict[str, MasterCell] = field(default_factory=dict)
    # grade ids in notebook order, as nbgrader's gradebook lists them
    order: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return sum(self.cells[g].points or 0.0 for g in self.grade_ids)

    @property
    def grade_ids(self) -> list[str]:
        """Cells that get a grade: graded cells and tasks (nbgrader's Grade rows)."""
        return [g for g in self.order if self.cells[g].grade or self.cells[g].task]


@dataclass
class ReleaseBuild:
    """A released assignment: student version, master cells and other files."""

    assignment: str
    notebooks: dict[str, ReleaseNotebook]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks.values())

    # -- what a learner fetches ----------------------------------------------------------
    def student_files(self) -> dict[str, bytes]:
        out = dict(self.files)
        for name, nb in self.notebooks.items():
            out[f"{name}.ipynb"] = json.dumps(nb.student, indent=1).encode() + b"\n"
        return out

    def write_student_version(self, dest: Path) -> None:
        write_files(Path(dest), self.student_files())

    def source_files(self) -> dict[str, bytes]:
        """The instructor's version (solutions, hidden tests): never for learners."""
        out = dict(self.files)
        for name, nb in self.notebooks.items():
            out[f"{name}.ipynb"] = json.dumps(nb.source, indent=1).encode() + b"\n"
        return out

    # -- serialisation --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "assignment": self.assignment,
            "notebooks": {
                name: {
                    "source": nb.source,
                    "student": nb.student,
                    "kernelspec": nb.kernelspec,
                    "order": nb.order,
                    "cells": {g: asdict(c) for g, c in nb.cells.items()},
                }
                for name, nb in self.notebooks.items()
            },
            "files": {k: base64.b64encode(v).decode() for k, v in self.files.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReleaseBuild:
        if data.get("format") != 1:
            raise ReleaseError(f"Unknown release format {data.get('format')!r}")
        notebooks = {}
        for name, nb in data["notebooks"].items():
            notebooks[name] = ReleaseNotebook(
                name=name,
                source=nb["source"],
                student=nb["student"],
                kernelspec=nb["kernelspec"],
                order=list(nb["order"]),
                cells={g: MasterCell(**c) for g, c in nb["cells"].items()},
            )
        files = {k: base64.b64decode(v) for k, v in data.get("files", {}).items()}
        return cls(assignment=data["assignment"], notebooks=notebooks, files=files)

    def write(self, dest: Path) -> None:
        Path(dest).mkdir(parents=True, exist_ok=True)
        (Path(dest) / "release.json").write_text(json.dumps(self.to_json()))

    @classmethod
    def read(cls, src: Path) -> ReleaseBuild:
        return cls.from_json(json.loads((Path(src) / "release.json").read_text()))


def write_files(dest: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def other_files(directory: Path) -> dict[str, bytes]:
    """Non-notebook files of a folder, as nbgrader copies them (its ignore list)."""
    directory = Path(directory)
    out: dict[str, bytes] = {}
    for filename in nbutils.find_all_files(str(directory), IGNORE + ["*.ipynb"]):
        p = Path(filename)
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(directory).as_posix()] = p.read_bytes()
    return out


class _CaptureMaster:
    """Stands where nbgrader's SaveCells stands and records what it would store."""

    def __init__(self, release_nb: ReleaseNotebook):
        self.nb = release_nb

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.nb.kernelspec = copy.deepcopy(dict(nb.metadata.get("kernelspec", {})))
        for cell in nb.cells:
            is_grade = nbutils.is_grade(cell)
            is_solution = nbutils.is_solution(cell)
            is_task = nbutils.is_task(cell)
            if not (is_grade or is_solution or nbutils.is_locked(cell) or is_task):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            points = cell.metadata.nbgrader.get("points")
            self.nb.cells[grade_id] = MasterCell(
                grade_id=grade_id,
                cell_type=cell.cell_type,
                locked=nbutils.is_locked(cell),
                source=cell.source,
                checksum=cell.metadata.nbgrader.get("checksum"),
                grade=bool(is_grade),
                solution=bool(is_solution),
                task=bool(is_task),
                points=float(points) if (is_grade or is_task) and points is not None else None,
            )
            self.nb.order.append(grade_id)
        return nb, resources


def student_version(source: NotebookNode, resources: dict[str, Any] | None = None,
                    capture: Any = None) -> tuple[NotebookNode, dict[str, Any]]:
    """The student version of ``source`` (a copy): nbgrader's
    ``GenerateAssignment.preprocessors``, in its order. SaveCells is replaced by
    ``capture`` (a preprocessor that records the master cells) when given; InstantiateTests
    is not run (callers refuse AUTOTEST templates). Raises whatever nbgrader raises on
    broken metadata or markers."""
    pipeline = [
        IncludeHeaderFooter(), LockCells(), ClearSolutions(), ClearOutput(),
        CheckCellMetadata(), ComputeChecksums(), *([capture] if capture else []),
        ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata(),
    ]
    nb, resources = copy.deepcopy(source), resources if resources is not None else {}
    for pp in pipeline:
        nb, resources = pp.preprocess(nb, resources)
    return nb, resources


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbgrader's exporters do (nbformat 4, minor version kept)."""
    with open(path, encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


def release_notebook(source: NotebookNode, name: str, assignment: str,
                     folder: Path) -> ReleaseNotebook:
    """One source notebook through nbgrader's pipeline: its student version and master
    cells. Raises ReleaseError saying what to fix."""
    if any(c.cell_type == "code" and AUTOTEST_DELIMITER in c.source for c in source.cells):
        raise ReleaseError(
            f"{name}.ipynb uses nbgrader AUTOTEST templates, which run code while the "
            "assignment is generated; run `nbgrader generate_assignment` on it first and "
            "release the instantiated tests."
        )
    rel = ReleaseNotebook(name=name, source=json.loads(nbformat.writes(source)),
                          student={}, kernelspec={})
    resources: dict[str, Any] = {
        "nbgrader": {"notebook": name, "assignment": assignment, "db_url": None},
        "metadata": {"path": str(folder), "name": name},
    }
    try:
        nb, _ = student_version(source, resources, capture=_CaptureMaster(rel))
    except Exception as e:  # noqa: BLE001 - nbgrader raises plain errors
        raise ReleaseError(f"{name}.ipynb: {e}") from e
    rel.student = json.loads(nbformat.writes(nb))
    return rel


def build_release(source_dir: Path, assignment: str | None = None) -> ReleaseBuild:
    """Build the student version of the notebooks in ``source_dir`` (nbgrader's pipeline)."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise ReleaseError(f"Source folder {source_dir} does not exist")
    assignment = assignment or source_dir.resolve().name
    paths = sorted(source_dir.glob("*.ipynb"))
    if not paths:
        raise ReleaseError(
            f"No notebooks in {source_dir}: put the assignment's source notebooks (*.ipynb) "
            "there."
        )
    notebooks: dict[str, ReleaseNotebook] = {}
    for path in paths:
        try:
            source = read_notebook(path)
        except Exception as e:  # noqa: BLE001 - nbformat raises many kinds
            raise ReleaseError(f"{path.name} is not a valid notebook: {e}") from e
        notebooks[path.stem] = release_notebook(source, path.stem, assignment, source_dir)
    return ReleaseBuild(assignment=assignment, notebooks=notebooks,
                        files=other_files(source_dir))
