"""nbgrader's exchange, backed by the grader service instead of a shared folder.

With these classes, ``nbgrader list``, ``release_assignment``, ``fetch_assignment``,
``submit``, ``collect``, ``release_feedback`` and ``fetch_feedback`` talk to the grader with
the caller's hub token (``$JUPYTERHUB_API_TOKEN``), so a multi-node hub needs no shared
filesystem. The learner image's ``nbgrader_config.py`` enables them (with
``learning_studio_lab.autograde``, so that ``nbgrader autograde`` of collected work takes
the grader's sandbox run instead of running learner code here); elsewhere::

    c.ExchangeFactory.list = "learning_studio_lab.exchange.GraderList"
    c.ExchangeFactory.release_assignment = "learning_studio_lab.exchange.GraderReleaseAssignment"
    c.ExchangeFactory.fetch_assignment = "learning_studio_lab.exchange.GraderFetchAssignment"
    c.ExchangeFactory.submit = "learning_studio_lab.exchange.GraderSubmit"
    c.ExchangeFactory.collect = "learning_studio_lab.exchange.GraderCollect"
    c.ExchangeFactory.release_feedback = "learning_studio_lab.exchange.GraderReleaseFeedback"
    c.ExchangeFactory.fetch_feedback = "learning_studio_lab.exchange.GraderFetchFeedback"

``release_assignment`` sends the *source* notebooks (``source/<assignment>/``): the grader
builds the student version itself and checks it in a sandbox, so ``generate_assignment``
is not needed first.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from nbgrader.exchange.abc import (
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseAssignment,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)
from traitlets import Integer, Unicode

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
                        score = (f"{sub['score']:g}/{sub.get('max_score') or 0:g}"
                                 if sub.get("score") is not None else "-")
                        self.log.info("%s %s %s %s %s %s", course, item["assignment"],
                                      sub.get("username"), sub.get("submitted_at"),
                                      sub.get("status"), score)
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


class GraderReleaseAssignment(GraderExchange, ExchangeReleaseAssignment):
    """``nbgrader release_assignment``: the source notebooks to the grader, which builds and
    checks the student version (a release whose check fails is refused, with the report)."""

    due_at = Unicode(
        "", help="Due date sent with the release (ISO 8601, like 2030-01-31T23:59:00Z); "
        "empty: none."
    ).tag(config=True)

    max_submissions = Integer(
        0, help="Most submissions per learner sent with the release; 0: no limit."
    ).tag(config=True)

    def init_src(self):
        self.src_path = Path(self.coursedir.format_path(
            self.coursedir.source_directory, ".", self.coursedir.assignment_id))
        if not self.src_path.is_dir():
            self.fail(f"Assignment not found: {self.src_path} (the source notebooks of "
                      f"{self.coursedir.assignment_id} go in source/<assignment>/)")

    def init_dest(self):
        self.course_id()

    def copy_files(self):
        files = {
            "/".join(p.relative_to(self.src_path).parts): p.read_bytes()
            for p in sorted(self.src_path.rglob("*"))
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(self.src_path).parts)
        }
        options = {}
        if self.due_at:
            options["due_at"] = self.due_at
        if self.max_submissions:
            options["max_submissions"] = self.max_submissions
        out = self.call(self.grader().publish_release(
            self.course_id(), self.coursedir.assignment_id, files, options))
        self.log.info("Released as: %s %s version %s (max score %s)", self.course_id(),
                      self.coursedir.assignment_id, out.get("version"), out.get("max_score"))


class GraderReleaseFeedback(GraderExchange, ExchangeReleaseFeedback):
    """``nbgrader release_feedback``: feedback/<student>/<assignment>/*.html (made by
    ``generate_feedback``) replaces the grader's feedback of that learner's submission."""

    def init_src(self):
        student = self.coursedir.student_id if self.coursedir.student_id else "*"
        self.src_glob = self.coursedir.format_path(
            self.coursedir.feedback_directory, student, self.coursedir.assignment_id)

    def init_dest(self):
        subs = self.call(self.grader().submissions(self.course_id(),
                                                   self.coursedir.assignment_id))
        self.by_student: dict[str, list[dict]] = {}
        for sub in subs:
            self.by_student.setdefault(sub["username"], []).append(sub)

    def copy_files(self):
        import glob

        grader = self.grader()
        exclude = set(filter(None, self.coursedir.student_id_exclude.split(",")))
        released = 0
        for folder in sorted(glob.glob(self.src_glob)):
            folder = Path(folder)
            student = folder.parent.name
            if student in exclude or not folder.is_dir():
                continue
            sub = self._submission(student, folder)
            if sub is None:
                self.log.warning("No graded submission of %s for %s: skipped", student,
                                 self.coursedir.assignment_id)
                continue
            for html in sorted(folder.glob("*.html")):
                self.call(grader.release_feedback(sub["id"], html.stem, html.read_text()))
                released += 1
                self.log.info("Releasing feedback for student '%s' on assignment '%s/%s/%s' "
                              "(submission %s)", student, self.course_id(),
                              self.coursedir.assignment_id, html.stem, sub["id"])
        if not released:
            self.log.warning("No feedback found in %s", self.src_glob)

    def _submission(self, student: str, folder: Path) -> dict | None:
        """The submission the feedback was made from: by its timestamp (collect wrote the
        grader's submitted_at there), else the learner's newest graded one."""
        graded = [s for s in self.by_student.get(student, []) if s["status"] == "graded"]
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            when = stamp.read_text().strip()
            for sub in graded:
                if sub["submitted_at"] == when:
                    return sub
        return graded[-1] if graded else None


class GraderFetchFeedback(GraderExchange, ExchangeFetchFeedback):
    """``nbgrader fetch_feedback``: my feedback into ./<assignment>/feedback/<timestamp>/."""

    path_includes_course = False

    def init_src(self):
        self.subs = [s for s in self.call(self.grader().submissions(
            self.course_id(), self.coursedir.assignment_id)) if s.get("feedback_notebooks")]

    def init_dest(self):
        self.dest_path = self.work_root() / self.coursedir.assignment_id / "feedback"

    def copy_files(self):
        grader = self.grader()
        if not self.subs:
            self.log.warning("No feedback for %s yet: it appears once a submission is graded",
                             self.coursedir.assignment_id)
        for sub in self.subs:
            folder = self.dest_path / sub["submitted_at"]
            for notebook in sub["feedback_notebooks"]:
                html = self.call(grader.feedback(sub["id"], notebook))
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{notebook}.html").write_bytes(html)
                self.log.info("Fetched feedback of %s attempt %s into %s", notebook,
                              sub["attempt"], os.path.relpath(folder))
