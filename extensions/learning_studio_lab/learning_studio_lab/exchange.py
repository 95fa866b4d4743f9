"""nbgrader's exchange, backed by the grader service instead of a shared folder.

With these classes, ``nbgrader list``, ``fetch_assignment``, ``submit`` and ``collect``
talk to the grader with the caller's hub token (``$JUPYTERHUB_API_TOKEN``), so a
multi-node hub needs no shared filesystem. Enable them in ``nbgrader_config.py``::

    c.ExchangeFactory.list = "learning_studio_lab.exchange.GraderList"
    c.ExchangeFactory.fetch_assignment = "learning_studio_lab.exchange.GraderFetchAssignment"
    c.ExchangeFactory.submit = "learning_studio_lab.exchange.GraderSubmit"
    c.ExchangeFactory.collect = "learning_studio_lab.exchange.GraderCollect"

Releasing stays with the grader (``python -m grader release`` or the JupyterLab form),
because the grader builds the student version and checks it in a sandbox.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from nbgrader.exchange.abc import (
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeList,
    ExchangeSubmit,
)

from .errors import StudioError
from .grader_client import GraderClient
from .workspace import AssignmentFolder, SubmissionRules


class GraderExchange:
    """What the four commands share: the grader client and named failures."""

    def grader(self) -> GraderClient:
        return GraderClient(parent=self)

    def call(self, coro):
        try:
            return asyncio.run(coro)
        except StudioError as e:
            self.fail(f"{e.code}: {e.message}")

    def course_id(self) -> str:
        course = self.coursedir.course_id
        if not course:
            self.fail("say which course: --course=<course>")
        return course

    def work_root(self) -> Path:
        root = Path(self.assignment_dir)
        if getattr(self, "path_includes_course", False):
            root = root / self.coursedir.course_id
        return root


class GraderList(GraderExchange, ExchangeList):
    """``nbgrader list``: released assignments; ``--inbound``: everyone's submissions."""

    path_includes_course = False

    def init_src(self):
        pass

    def init_dest(self):
        pass

    def copy_files(self):
        pass

    def list_files(self):
        grader = self.grader()
        courses = [self.coursedir.course_id] if self.coursedir.course_id else [
            c["slug"] for c in self.call(grader.courses())
        ]
        out = []
        for course in courses:
            for item in self.call(grader.assignments(course)):
                info = {"course_id": course, "assignment_id": item["assignment"],
                        "status": "released", "due_at": item.get("due_at"),
                        "notebooks": [{"notebook_id": n} for n in item.get("notebooks", [])]}
                if self.inbound:
                    subs = self.call(grader.submissions(course, item["assignment"]))
                    for sub in subs:
                        out.append({**info, "status": "submitted",
                                    "student_id": sub.get("username"),
                                    "timestamp": sub.get("submitted_at"),
                                    "score": sub.get("score")})
                        self.log.info("%s %s %s %s", course, item["assignment"],
                                      sub.get("username"), sub.get("submitted_at"))
                    continue
                local = Path(self.assignment_dir) / item["assignment"]
                if local.is_dir():
                    info["status"] = "fetched"
                    info["path"] = str(local)
                if item.get("latest_submission"):
                    info["status"] = "submitted"
                out.append(info)
                self.log.info("%s %s (%s)", course, item["assignment"], info["status"])
        return out

    def remove_files(self):
        self.fail("the grader keeps every release; ask the grader's operator to retire one")


class GraderFetchAssignment(GraderExchange, ExchangeFetchAssignment):
    """``nbgrader fetch_assignment``: the student version into ./<assignment>/."""

    path_includes_course = False

    def init_src(self):
        self.release = self.call(self.grader().release(
            self.course_id(), self.coursedir.assignment_id))

    def init_dest(self):
        self.dest_path = self.work_root() / self.coursedir.assignment_id
        if self.dest_path.is_dir() and not self.replace_missing_files:
            self.fail("You already have a copy of the assignment in this directory: "
                      f"{self.coursedir.assignment_id} (use --replace to add missing files)")

    def copy_files(self):
        for rel, data in sorted(self.release["files"].items()):
            dest = (self.dest_path / rel).resolve()
            if not dest.is_relative_to(self.dest_path.resolve()):
                self.fail(f"release file {rel!r} points outside the assignment folder")
            if dest.exists():
                continue  # never replace the learner's work
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            self.log.info("Fetched %s", dest)


class GraderSubmit(GraderExchange, ExchangeSubmit):
    """``nbgrader submit``: the folder's notebooks as a new submission."""

    path_includes_course = False

    def init_src(self):
        self.src_path = self.work_root() / self.coursedir.assignment_id
        if not self.src_path.is_dir():
            self.fail(f"Assignment not found: {self.src_path}")

    def init_dest(self):
        pass

    def copy_files(self):
        folder = AssignmentFolder(self.src_path.parent.parent, self.src_path.parent.name,
                                  self.src_path.name)
        try:
            files = folder.collect(SubmissionRules(parent=self))
        except StudioError as e:
            self.fail(f"{e.code}: {e.message}")
        sub = self.call(self.grader().submit(self.course_id(), self.coursedir.assignment_id,
                                             files))
        self.log.info("Submitted as: %s %s attempt %s (%s)", self.course_id(),
                      self.coursedir.assignment_id, sub.get("attempt"), sub.get("submitted_at"))


class GraderCollect(GraderExchange, ExchangeCollect):
    """``nbgrader collect``: each learner's newest submission into submitted/<id>/<a>/."""

    def init_src(self):
        subs = self.call(self.grader().submissions(self.course_id(),
                                                   self.coursedir.assignment_id))
        newest: dict[str, dict] = {}
        for sub in subs:
            if self.coursedir.student_id not in ("*", "", sub["username"]):
                continue
            newest[sub["username"]] = sub  # attempts come in order: the last one wins
        self.newest = newest

    def init_dest(self):
        pass

    def copy_files(self):
        grader = self.grader()
        for student, sub in sorted(self.newest.items()):
            dest = Path(self.coursedir.format_path(
                self.coursedir.submitted_directory, student, self.coursedir.assignment_id))
            if dest.exists() and not self.update:
                self.log.info("Skipping %s (already collected; use --update)", student)
                continue
            body = self.call(grader.request("GET", f"submissions/{int(sub['id'])}/files"))
            dest.mkdir(parents=True, exist_ok=True)
            for rel, data in body["files"].items():
                target = (dest / rel).resolve()
                if not target.is_relative_to(dest.resolve()):
                    self.fail(f"submission file {rel!r} points outside {dest}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(data))
            (dest / "timestamp.txt").write_text(sub["submitted_at"])
            self.log.info("Collected %s attempt %s into %s", student, sub["attempt"],
                          os.path.relpath(dest))
