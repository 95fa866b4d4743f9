"""REST routes of the server extension under ``<base_url>learning-studio/``.

The browser calls only these; they call the grader with the server's own token. Every
failure answers ``{"error": {"code", "message"}}`` with a named code.
"""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import tornado
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join

from .drafts import DraftFolder
from .errors import InvalidRequest, StudioError
from .grader_client import GraderClient
from .home import HomeUsage
from .lessons import LessonLibrary
from .workspace import AssignmentFolder, SubmissionRules, check_slug

NAMESPACE = "learning-studio"


class StudioHandler(APIHandler):
    """Shared plumbing: settings, named errors as JSON, the learner's courses folder."""

    @property
    def grader(self) -> GraderClient:
        return self.settings["learning_studio"]["grader"]

    @property
    def lessons(self) -> LessonLibrary:
        return self.settings["learning_studio"]["lessons"]

    @property
    def rules(self) -> SubmissionRules:
        return self.settings["learning_studio"]["rules"]

    @property
    def courses_dir(self) -> Path:
        return self.settings["learning_studio"]["courses_dir"]

    def folder(self, course: str, assignment: str) -> AssignmentFolder:
        return AssignmentFolder(
            self.courses_dir, check_slug(course, "course"), check_slug(assignment, "assignment")
        )

    def who(self) -> str:
        """``[user=... course=... assignment=...]`` for log lines, as the grader writes them."""
        user = os.environ.get("JUPYTERHUB_USER") or getattr(self.current_user, "username", "")
        parts = [f"user={user}"]
        args = self.path_args or []
        if "/courses/" in self.request.path and args:
            parts.append(f"course={args[0]}")
            if "/assignments/" in self.request.path and len(args) > 1:
                parts.append(f"assignment={args[1]}")
        return "[" + " ".join(parts) + "]"

    def body(self) -> dict:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise InvalidRequest("the request body is not JSON") from None
        if not isinstance(data, dict):
            raise InvalidRequest("the request body must be a JSON object")
        return data

    def reply(self, data, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, StudioError):
            self.set_status(exc.status)
            body = {"error": {"code": exc.code, "message": exc.message, **exc.details}}
            if exc.details.get("retry_after"):
                # the grader's 429: the browser learns when to submit again
                self.set_header("Retry-After", str(exc.details["retry_after"]))
            self.log.warning(
                "learning-studio %s %s: %s: %s %s", self.request.method, self.request.path,
                exc.code, exc.message, self.who(),
            )
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body))
            return
        super().write_error(status_code, **kwargs)


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def learner_status(item: dict, fetched: bool) -> dict:
    """The panel's one-word status of an assignment, its score and whether it is late."""
    latest = item.get("latest_submission") or {}
    grader_status = latest.get("status")
    if grader_status == "graded":
        status = "graded"
    elif grader_status == "failed":
        status = "failed"
    elif grader_status in ("grading", "submitted"):
        status = "submitted"
    else:
        status = "fetched" if fetched else "new"
    due = _parse(item.get("due_at"))
    submitted = _parse(latest.get("submitted_at"))
    if submitted is not None:
        late = bool(latest.get("seconds_late")) or (due is not None and submitted > due)
    else:
        late = bool(item.get("past_due")) or (due is not None and datetime.now(UTC) > due)
    return {
        "status": status,
        "late": late,
        "score": latest.get("score") if status == "graded" else None,
        "max_score": item.get("max_score"),
    }


class CoursesHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self):
        """My courses, each with its assignments (status, score, due) and lessons."""
        out = []
        for course in await self.grader.courses():
            slug = course["slug"]
            assignments = []
            for item in await self.grader.assignments(slug):
                folder = AssignmentFolder(self.courses_dir, slug, item["assignment"])
                assignments.append({
                    "slug": item["assignment"],
                    "title": item.get("title") or item["assignment"],
                    "due_at": item.get("due_at"),
                    "notebooks": item.get("notebooks", []),
                    "max_submissions": item.get("max_submissions"),
                    "submissions_used": item.get("submissions_used", 0),
                    "version": item.get("version"),
                    "path": folder.relative(folder.path),
                    "latest_submission": item.get("latest_submission"),
                    **learner_status(item, folder.exists()),
                })
            out.append({
                "slug": slug,
                "title": course.get("title") or slug,
                "roles": course.get("roles", []),
                "assignments": assignments,
                "lessons": await self.lessons.lessons(self.grader, slug),
            })
        self.reply({"courses": out})


class FetchHandler(StudioHandler):
    @tornado.web.authenticated
    async def post(self, course, assignment):
        """Fetch the student version; ``{"overwrite": true}`` or ``{"restore": "x.ipynb"}``."""
        body = self.body()
        folder = self.folder(course, assignment)
        release = await self.grader.release(course, assignment)
        if body.get("restore"):
            out = folder.restore(release["files"], str(body["restore"]))
        else:
            out = folder.fetch(release["files"], overwrite=bool(body.get("overwrite")))
        out["notebooks"] = release.get("notebooks", [])
        out["version"] = release.get("version")
        self.log.info("learning-studio fetched %s/%s: %s %s", course, assignment,
                      out["written"] if "written" in out else out["path"], self.who())
        self.reply(out)


class SubmitHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course, assignment):
        """My submissions of this assignment, newest last."""
        self.folder(course, assignment)
        self.reply({"submissions": await self.grader.submissions(course, assignment)})

    @tornado.web.authenticated
    async def post(self, course, assignment):
        """Upload the assignment folder's notebooks as a new submission."""
        folder = self.folder(course, assignment)
        files = folder.collect(self.rules)
        sub = await self.grader.submit(course, assignment, files)
        self.log.info(
            "learning-studio submitted %s/%s attempt %s (%d notebooks) %s",
            course, assignment, sub.get("attempt"), len(files), self.who(),
        )
        sub["files"] = sorted(files)
        self.reply(sub, 201)


class SubmissionHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, submission_id):
        """One submission with per-cell scores (poll it until status is graded or failed)."""
        self.reply(await self.grader.submission(int(submission_id)))


class FeedbackHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, submission_id, notebook):
        """The feedback notebook's HTML; learner output inside, so served sandboxed."""
        html = await self.grader.feedback(int(submission_id), notebook)
        # an opaque origin: scripts in the learner's output cannot use this server's cookies
        self.set_header("Content-Security-Policy", "sandbox")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(html)


class RegradeHandler(StudioHandler):
    @tornado.web.authenticated
    async def post(self, submission_id):
        """Instructor: grade a submission again (the grader checks the role)."""
        self.reply(await self.grader.regrade(int(submission_id)), 202)


class ManualGradeHandler(StudioHandler):
    @tornado.web.authenticated
    async def put(self, submission_id, notebook, cell_id):
        """Instructor: score and comment one manually graded cell."""
        body = self.body()
        unknown = set(body) - {"score", "comment"}
        if unknown or not body:
            raise InvalidRequest('send {"score": <number or null>, "comment": "..."}')
        self.reply(await self.grader.manual_grade(int(submission_id), notebook, cell_id, body))


class HintsHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course, assignment):
        """The hints of one cell, asked of the grader (the learner's copy may have lost them)."""
        notebook = self.get_query_argument("notebook", "")
        cell = self.get_query_argument("cell", "")
        if not notebook or not cell:
            raise InvalidRequest("give ?notebook=<name.ipynb>&cell=<grade_id or cell id>")
        self.folder(course, assignment)
        out = await self.grader.hints(course, assignment, notebook, cell)
        self.reply({"notebook": notebook, "cell": cell, "hints": out.get("hints", [])})


class TutorHandler(StudioHandler):
    """The AI tutor: GET says whether it is on for this assignment (and why not); POST
    asks it about one exercise cell and streams the grader's answer (Server-Sent Events:
    start, delta, reset, done, error) to the browser as it arrives. The request body is
    the grader's (grader.service.tutor.parse_request); the grader checks it, and builds
    the prompt from its own copy of the exercise, never from this body alone."""

    _gone = False  # the browser closed the connection (a handler serves one request)

    @tornado.web.authenticated
    async def get(self, course, assignment):
        self.folder(course, assignment)
        self.reply(await self.grader.tutor_status(course, assignment))

    @tornado.web.authenticated
    async def post(self, course, assignment):
        self.folder(course, assignment)
        body = self.body()
        started = False

        def forward(chunk: bytes) -> None:
            nonlocal started
            if not started:
                started = True
                self.set_status(200)
                self.set_header("Content-Type", "text/event-stream; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                self.set_header("X-Accel-Buffering", "no")
            self.write(chunk)
            self.flush()

        await self.grader.tutor(course, assignment, body, forward, lambda: self._gone)
        if self._gone:
            self.log.info("learning-studio tutor: the learner closed the page mid-answer %s",
                          self.who())
            return
        self.finish()

    def on_connection_close(self) -> None:
        self._gone = True
        super().on_connection_close()


class LessonHandler(StudioHandler):
    @tornado.web.authenticated
    async def post(self, course, lesson):
        """Fetch a lesson into ~/courses/<course>/lessons/ (once) and say where it is."""
        check_slug(course, "course")
        check_slug(lesson, "lesson")
        out = await self.lessons.open(self.grader, course, lesson, self.courses_dir)
        self.log.info("learning-studio opened lesson %s/%s from the %s %s", course, lesson,
                      out["source"], self.who())
        self.reply(out)


class OpenLessonPage(JupyterHandler):
    """The site's "Open in JupyterLab" link lands here (through the hub's user-redirect):
    fetch the lesson into ~/courses/<course>/ as the panel does, then show it in JupyterLab.
    A link a browser follows, so a page (not an API call): fetching a lesson only adds
    files the learner does not have yet, so there is nothing to forge."""

    @tornado.web.authenticated
    async def get(self, course, lesson):
        studio = self.settings["learning_studio"]
        try:
            check_slug(course, "course")
            check_slug(lesson, "lesson")
            out = await studio["lessons"].open(studio["grader"], course, lesson,
                                               studio["courses_dir"])
        except StudioError as e:
            self.log.warning("learning-studio cannot open lesson %s/%s: %s [user=%s course=%s]",
                             course, lesson, e, os.environ.get("JUPYTERHUB_USER", ""), course)
            self.set_status(e.status)
            self.finish(f"<!doctype html><title>Cannot open the lesson</title>"
                        f"<h1>Cannot open the lesson</h1><p>{html.escape(str(e))}</p>"
                        f"<p><a href='{self.base_url}lab'>Open JupyterLab</a> and use the "
                        "Courses panel, or ask your instructor.</p>")
            return
        self.redirect(url_path_join(self.base_url, "lab", "tree",
                                    *[quote(part) for part in out["path"].split("/")]))


class StatisticsHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course, assignment):
        """Instructor: score histogram and per-question success rates (from the grader)."""
        self.folder(course, assignment)
        self.reply(await self.grader.statistics(course, assignment))


class StorageHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course):
        """Instructor: what the grader stores for the course, by kind and assignment."""
        self.reply(await self.grader.storage(check_slug(course, "course")))


class GradesCSVHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course, assignment):
        """Instructor: the assignment's grades as CSV, downloaded as a file."""
        self.folder(course, assignment)
        data = await self.grader.grades_csv(course, assignment)
        self.set_header("Content-Disposition",
                        f'attachment; filename="{course}-{assignment}-grades.csv"')
        # APIHandler would call it JSON
        self.finish(data, set_content_type="text/csv; charset=utf-8")


class ReleaseHandler(StudioHandler):
    @tornado.web.authenticated
    async def post(self, course, assignment):
        """Instructor: release an assignment from a source folder in this server."""
        body = self.body()
        check_slug(course, "course")
        check_slug(assignment, "assignment")
        source = str(body.get("source", ""))
        root = self.courses_dir.parent.resolve()
        folder = (root / source).resolve()
        if not source or not folder.is_relative_to(root) or not folder.is_dir():
            raise InvalidRequest(
                f"source {source!r} is not a folder in your server: give the path of the "
                "folder holding the source notebooks, like courses/intro/source/ps1"
            )
        files = {
            "/".join(p.relative_to(folder).parts): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        }
        options = {k: body[k] for k in ("due_at", "max_submissions", "late_policy",
                                        "late_penalty_per_hour", "title", "check")
                   if body.get(k) not in (None, "")}
        self.reply(await self.grader.publish_release(course, assignment, files, options), 201)


class DraftsHandler(StudioHandler):
    @tornado.web.authenticated
    async def get(self, course):
        """Instructor: the course's AI drafts (from the grader), each with where it goes
        in this server and whether it is there."""
        drafts = DraftFolder(self.courses_dir, check_slug(course, "course"))
        out = []
        for draft in await self.grader.drafts(course):
            path = drafts.target(draft["kind"], draft["assignment"], draft["name"])
            out.append({**draft, "path": drafts.relative(path), "written": path.exists()})
        self.reply(out)

    @tornado.web.authenticated
    async def post(self, course):
        """Instructor: ask the grader for an AI draft (exercise or lesson) and write it into
        the course folder: 201 {draft..., "path"}. Refused before the AI is asked if a file
        is already where it would go."""
        body = self.body()
        kind = str(body.get("kind") or "exercise")
        assignment = str(body.get("assignment") or body.get("lesson") or "")
        drafts = DraftFolder(self.courses_dir, check_slug(course, "course"))
        path = drafts.target(kind, assignment, str(body.get("name") or ""))
        drafts.check_free(path)
        draft = await self.grader.create_draft(course, {**body, "kind": kind})
        out = drafts.write(draft)
        self.log.info("learning-studio AI %s draft %s written to %s %s", kind, draft["id"],
                      out["path"], self.who())
        draft.pop("notebook", None)
        self.reply({**draft, **out}, 201)


class OpenDraftHandler(StudioHandler):
    @tornado.web.authenticated
    async def post(self, course, draft_id):
        """Instructor: write a stored draft (one drafted on the site, say) into the course
        folder, unless a file is already there; {"path", "written"}."""
        drafts = DraftFolder(self.courses_dir, check_slug(course, "course"))
        draft = await self.grader.draft(course, int(draft_id))
        out = drafts.write(draft)
        self.log.info("learning-studio AI draft %s opened at %s (written: %s) %s", draft_id,
                      out["path"], out["written"], self.who())
        self.reply(out)


class HomeHandler(APIHandler):
    """The learner's home folder: bytes used and its limit (the quota, where one is set;
    else the size of the file system it is on)."""

    @tornado.web.authenticated
    def get(self):
        self.finish(json.dumps(HomeUsage.of(self.settings["learning_studio"]["home_dir"])
                               .as_json()))


def setup_handlers(web_app, settings: dict) -> None:
    base = url_path_join(web_app.settings["base_url"], NAMESPACE)
    seg = r"([^/]+)"
    web_app.settings["learning_studio"] = settings
    web_app.add_handlers(".*$", [
        (url_path_join(base, "courses"), CoursesHandler),
        (url_path_join(base, "home"), HomeHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/fetch"), FetchHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/submissions"), SubmitHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/hints"), HintsHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/tutor"), TutorHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/release"), ReleaseHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/statistics"), StatisticsHandler),
        (url_path_join(base, f"courses/{seg}/assignments/{seg}/grades.csv"), GradesCSVHandler),
        (url_path_join(base, f"courses/{seg}/storage"), StorageHandler),
        (url_path_join(base, f"courses/{seg}/drafts"), DraftsHandler),
        (url_path_join(base, rf"courses/{seg}/drafts/(\d+)/open"), OpenDraftHandler),
        (url_path_join(base, f"courses/{seg}/lessons/{seg}"), LessonHandler),
        (url_path_join(base, f"open/{seg}/{seg}"), OpenLessonPage),
        (url_path_join(base, r"submissions/(\d+)"), SubmissionHandler),
        (url_path_join(base, r"submissions/(\d+)/feedback/([^/]+)"), FeedbackHandler),
        (url_path_join(base, r"submissions/(\d+)/regrade"), RegradeHandler),
        (url_path_join(base, r"submissions/(\d+)/grades/([^/]+)/([^/]+)"), ManualGradeHandler),
    ])
