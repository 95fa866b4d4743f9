"""A learner's work folder: ``~/courses/<course>/<assignment>/``.

Fetch writes the student version there and never replaces a file the learner has without
an explicit ``overwrite``; restoring one notebook keeps the learner's copy in
``~/courses/<course>/.backups/`` first. Submit collects the folder's notebooks.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from traitlets import Integer, Unicode
from traitlets.config import Configurable

from studio_contracts import slug

from .errors import (
    InvalidRequest,
    NotAnAssignmentNotebook,
    NotFetched,
    SubmissionRefused,
    WorkWouldBeOverwritten,
)


def check_slug(value: str, what: str) -> str:
    """Course, assignment and lesson names become folder names and grader paths: the
    project's one slug rule (studio_contracts.slug), refused as the panel's InvalidRequest."""
    try:
        return slug.check_slug(value, what)
    except slug.InvalidSlug as e:
        raise InvalidRequest(str(e)) from None


class SubmissionRules(Configurable):
    """What the server extension checks before it uploads a submission."""

    max_submission_bytes = Integer(
        20 * 1024 * 1024,
        help="Largest submission (all collected files together) this server uploads. Keep it "
        "at or below the grader's max_upload_bytes so learners hear about it before uploading.",
    ).tag(config=True)

    max_submission_files = Integer(
        50, help="Most files collected for one submission (the grader's max_upload_files)."
    ).tag(config=True)

    file_name_pattern = Unicode(
        r"^[A-Za-z0-9_][A-Za-z0-9_. ()+\-]*$",
        help="Each path segment of a collected file must match this (the grader's own "
        "file_name_pattern): no hidden files, shell-special or control characters.",
    ).tag(config=True)


@dataclass
class AssignmentFolder:
    """One fetched (or not yet fetched) assignment in the learner's courses folder."""

    courses_dir: Path
    course: str
    assignment: str

    @property
    def path(self) -> Path:
        return self.courses_dir / self.course / self.assignment

    @property
    def backups(self) -> Path:
        return self.courses_dir / self.course / ".backups" / self.assignment

    def exists(self) -> bool:
        return self.path.is_dir() and any(self.path.iterdir())

    def fetch(self, files: dict[str, bytes], overwrite: bool = False) -> dict:
        """Write the student version; refuses to replace differing files unless told."""
        target = self.path
        conflicts = []
        for rel, data in files.items():
            dest = _inside(target, rel)
            if dest.exists() and dest.read_bytes() != data:
                conflicts.append(rel)
        if conflicts and not overwrite:
            raise WorkWouldBeOverwritten(
                f"{self.course}/{self.assignment} is already fetched and these files differ "
                f"from the release: {', '.join(sorted(conflicts))}. Your work was kept. To get a "
                "fresh copy of one notebook use Restore; to replace them all, fetch again with "
                "overwrite (your current files are saved in "
                f"courses/{self.course}/.backups/{self.assignment}/).",
                conflicts=sorted(conflicts),
            )
        written, kept = [], []
        for rel, data in sorted(files.items()):
            dest = _inside(target, rel)
            if dest.exists() and dest.read_bytes() == data:
                kept.append(rel)
                continue
            if dest.exists():
                self._backup(rel, dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            written.append(rel)
        return {"path": self.relative(target), "written": written, "unchanged": kept,
                "backed_up": sorted(conflicts)}

    def restore(self, files: dict[str, bytes], notebook: str) -> dict:
        """Put back the pristine version of one notebook, keeping the learner's copy."""
        if notebook not in files or not notebook.endswith(".ipynb"):
            names = ", ".join(sorted(n for n in files if n.endswith(".ipynb")))
            raise NotAnAssignmentNotebook(
                f"{notebook!r} is not a notebook of {self.course}/{self.assignment}: "
                f"restore one of {names}"
            )
        dest = _inside(self.path, notebook)
        backup = None
        if dest.exists():
            backup = self._backup(notebook, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(files[notebook])
        return {"path": self.relative(dest), "backup": backup}

    def _backup(self, rel: str, src: Path) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.backups / stamp / rel
        n = 1
        while dest.exists():
            n += 1
            dest = self.backups / f"{stamp}-{n}" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(src.read_bytes())
        return self.relative(dest)

    def relative(self, p: Path) -> str:
        return str(p.relative_to(self.courses_dir.parent))

    def collect(self, rules: SubmissionRules) -> dict[str, bytes]:
        """The folder's notebooks, as the grader wants them; refuses what it would refuse."""
        if not self.path.is_dir():
            raise NotFetched(
                f"{self.course}/{self.assignment} is not in your courses folder: fetch it first"
            )
        segment = re.compile(rules.file_name_pattern)
        files: dict[str, bytes] = {}
        for p in sorted(self.path.rglob("*.ipynb")):
            rel_parts = p.relative_to(self.path).parts
            # JupyterLab's own checkpoints and hidden folders are never part of the work
            if any(part.startswith(".") for part in rel_parts):
                continue
            rel = "/".join(rel_parts)
            bad = [part for part in rel_parts if not segment.match(part)]
            if bad:
                raise SubmissionRefused(
                    f"the file name {rel!r} cannot be submitted ({bad[0]!r} has characters the "
                    "grader refuses): rename it with letters, digits, spaces, _ . - ( ) +"
                )
            data = p.read_bytes()
            try:
                nbformat.reads(data.decode("utf-8"), as_version=4)
            except Exception as e:  # noqa: BLE001 - any parse failure means the same to a learner
                raise SubmissionRefused(
                    f"{rel} is not a readable notebook ({type(e).__name__}): open it in "
                    "JupyterLab, save it, or restore the pristine copy"
                ) from None
            files[rel] = data
        if not files:
            raise SubmissionRefused(
                f"there are no notebooks in courses/{self.course}/{self.assignment}/: "
                "fetch the assignment again (or restore its notebooks) before submitting"
            )
        if len(files) > rules.max_submission_files:
            raise SubmissionRefused(
                f"{len(files)} notebooks found, at most {rules.max_submission_files} can be "
                "submitted: remove copies you do not need from the assignment folder"
            )
        total = sum(len(b) for b in files.values())
        if total > rules.max_submission_bytes:
            biggest = max(files, key=lambda k: len(files[k]))
            raise SubmissionRefused(
                f"the notebooks are {total} bytes together, at most {rules.max_submission_bytes} "
                f"can be submitted (largest: {biggest}): clear large outputs with "
                "Edit > Clear All Outputs, save, and submit again"
            )
        return files


def _inside(root: Path, rel: str) -> Path:
    """``root/rel``, refusing a release path that would leave the assignment folder."""
    dest = (root / rel).resolve()
    if not dest.is_relative_to(root.resolve()):
        raise InvalidRequest(f"release file {rel!r} points outside the assignment folder")
    return dest

