"""Where an AI draft goes in an instructor's server, laid out as authoring expects.

An exercise draft is an nbgrader source notebook: it goes to
``~/courses/<course>/source/<assignment>/<name>.ipynb``, the source folder the Release
form releases from (and whose release check then runs on it). A lesson draft goes to
``~/courses/<course>/lessons/<name>.ipynb``, as lessons are laid out in a course folder.
A draft never replaces a file that is already there: the instructor may have edited it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidRequest, StudioError
from .workspace import check_slug


class DraftExists(StudioError):
    """A file is already where the draft would go; nothing was asked or written."""

    status = 409


@dataclass
class DraftFolder:
    courses_dir: Path
    course: str

    def target(self, kind: str, assignment: str, name: str) -> Path:
        check_slug(self.course, "course")
        if kind not in ("exercise", "lesson"):
            raise InvalidRequest(f'kind must be "exercise" or "lesson", not {kind!r}')
        check_slug(assignment, "assignment" if kind == "exercise" else "lesson")
        stem = (name or assignment).removesuffix(".ipynb")
        check_slug(stem, "notebook name")
        course_dir = self.courses_dir / self.course
        if kind == "exercise":
            return course_dir / "source" / assignment / f"{stem}.ipynb"
        return course_dir / "lessons" / f"{stem}.ipynb"

    def relative(self, path: Path) -> str:
        """The path as JupyterLab names it (from the server's root folder)."""
        return "/".join(path.relative_to(self.courses_dir.parent).parts)

    def check_free(self, path: Path) -> None:
        if path.exists():
            raise DraftExists(
                f"{self.relative(path)} already exists: give another notebook name, or "
                "open and edit the one you have (nothing was asked of the AI)"
            )

    def write(self, draft: dict) -> dict:
        """Write the grader's draft (with its notebook) if nothing is there yet."""
        path = self.target(draft["kind"], draft["assignment"], draft["name"])
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(draft["notebook"], indent=1, ensure_ascii=False) + "\n"
        try:
            with open(path, "x", encoding="utf-8") as f:  # never replace edited work
                f.write(text)
            written = True
        except FileExistsError:
            written = False
        return {"path": self.relative(path), "written": written}
