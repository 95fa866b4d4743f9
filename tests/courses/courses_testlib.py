"""Helpers shared by the course tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[2]
COURSES = REPO / "courses"
#: Sandboxes the course tests start carry this container name prefix; cleanup removes by it.
SANDBOX_PREFIX = "ls-coursetest-"


def remove_test_sandboxes() -> None:
    """Remove the containers the course tests (and the grader services they start) left."""
    import docker

    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"name": SANDBOX_PREFIX}):
        if container.name.startswith(SANDBOX_PREFIX):
            container.remove(force=True)


def course_dirs() -> list[Path]:
    return sorted(p.parent for p in COURSES.glob("*/course.yml"))


class CourseCopy:
    """A throw-away copy of part of a real course, for breaking on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def manifest_path(self) -> Path:
        return self.root / "course.yml"

    def manifest(self) -> dict:
        return yaml.safe_load(self.manifest_path.read_text())

    def write_manifest(self, data: dict) -> None:
        self.manifest_path.write_text(yaml.safe_dump(data, sort_keys=False))

    def notebook_path(self, assignment: str) -> Path:
        return self.root / "source" / assignment / f"{assignment}.ipynb"

    def notebook(self, assignment: str) -> nbformat.NotebookNode:
        return nbformat.read(self.notebook_path(assignment), as_version=4)

    def save(self, assignment: str, nb: nbformat.NotebookNode) -> None:
        nbformat.write(nb, self.notebook_path(assignment))

    def cell(self, nb: nbformat.NotebookNode, grade_id: str):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return cell
        raise KeyError(grade_id)


def code_notebook(*sources: str):
    """A python3 notebook of code cells, for the runners' tests."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    return nb


def notebook_outputs(nb):
    return [o for cell in nb.cells for o in cell.outputs]
