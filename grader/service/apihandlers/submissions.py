"""Submitting, reading one's submissions and feedback, and instructor grading actions."""

from __future__ import annotations

from grader.service.apihandlers.base import GraderAPIHandler, encode_files
from grader.service.errors import InvalidRequest
from grader.service.results import UNCHANGED

# Feedback HTML contains the learner's own cell outputs (learner-controlled HTML and
# script). "sandbox" gives it an opaque origin: it cannot read the grader's cookies or call
# the API as whoever opens it, and it cannot load anything from elsewhere.
FEEDBACK_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
)


class SubmissionsHandler(GraderAPIHandler):
    async def get(self, course, assignment):
        username = self.get_query_argument("username", None)
        self.write_json(
            await self.run(
                self.gradebook.submissions.listing, self.person, course, assignment, username
            )
        )

    async def post(self, course, assignment):
        files, _ = self.uploaded()
        out = await self.run(self.gradebook.submissions.submit, self.person, course, assignment, files)
        self.write_json(out, 201)


class RegradeAssignmentHandler(GraderAPIHandler):
    async def post(self, course, assignment):
        ids = await self.run(self.gradebook.submissions.regrade, self.person, course, assignment)
        self.write_json({"queued": ids}, 202)


class SubmissionHandler(GraderAPIHandler):
    async def get(self, submission_id):
        self.write_json(await self.run(self.gradebook.submissions.get, self.person, int(submission_id)))


class SubmissionFilesHandler(GraderAPIHandler):
    async def get(self, submission_id):
        files = await self.run(self.gradebook.submissions.files, self.person, int(submission_id))
        self.write_json({"files": encode_files(files)})


class FeedbackHandler(GraderAPIHandler):
    async def get(self, submission_id, notebook):
        html = await self.run(
            self.gradebook.submissions.feedback, self.person, int(submission_id), notebook
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", FEEDBACK_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(html)

    async def put(self, submission_id, notebook):
        """Instructor: release feedback HTML of their own for one notebook ({"html": ...})."""
        html = self.json_body().get("html")
        if not isinstance(html, str) or not html:
            raise InvalidRequest('send {"html": "<the feedback notebook as HTML>"}')
        self.write_json(await self.run(
            self.gradebook.results.release_feedback, self.person, int(submission_id), notebook, html))


class GradedNotebookHandler(GraderAPIHandler):
    async def get(self, submission_id, notebook):
        data = await self.run(
            self.gradebook.results.graded_notebook, self.person, int(submission_id), notebook
        )
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.set_header("Content-Disposition", f'attachment; filename="{notebook}.ipynb"')
        self.finish(data)


class RegradeSubmissionHandler(GraderAPIHandler):
    async def post(self, submission_id):
        sub = await self.run(self.gradebook.submissions.get, self.person, int(submission_id))
        ids = await self.run(
            self.gradebook.submissions.regrade, self.person, sub["course"], None, [int(submission_id)]
        )
        self.write_json({"queued": ids}, 202)


class ManualGradeHandler(GraderAPIHandler):
    async def put(self, submission_id, notebook, cell_id):
        body = self.json_body()
        if "score" not in body and "comment" not in body:
            raise InvalidRequest('send {"score": <number or null>, "comment": "..."}')
        score = body.get("score", UNCHANGED)
        if score not in (None, UNCHANGED) and not isinstance(score, int | float):
            raise InvalidRequest("score must be a number or null")
        out = await self.run(
            self.gradebook.results.set_manual_score,
            self.person,
            int(submission_id),
            notebook,
            cell_id,
            score,
            body.get("comment"),
        )
        self.write_json(out)
