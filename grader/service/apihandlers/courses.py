"""Courses, enrolments, assignments and releases."""

from __future__ import annotations

from tornado import web

from grader.service.apihandlers.base import GraderAPIHandler, encode_files
from grader.service.errors import InvalidRequest


class HealthHandler(GraderAPIHandler):
    public = True

    def get(self):
        self.write_json({"status": "ok", "service": self.gradebook.settings.service_name})


class MeHandler(GraderAPIHandler):
    async def get(self):
        courses = await self.run(self.gradebook.courses.for_person, self.person)
        self.write_json(
            {"name": self.person.name, "admin": self.person.admin, "courses": courses}
        )


class CoursesHandler(GraderAPIHandler):
    async def get(self):
        self.write_json(await self.run(self.gradebook.courses.for_person, self.person))

    async def post(self):
        body = self.json_body()
        out = await self.run(
            self.gradebook.courses.create, self.person, body.get("slug"), body.get("title", "")
        )
        self.write_json(out, 201)


class EnrollmentsHandler(GraderAPIHandler):
    async def post(self, course):
        body = self.json_body()
        out = await self.run(
            self.gradebook.courses.enroll,
            self.person,
            course,
            body.get("username"),
            body.get("role", "learner"),
        )
        self.write_json(out, 201)


class AssignmentsHandler(GraderAPIHandler):
    async def get(self, course):
        self.write_json(await self.run(self.gradebook.releases.for_person, self.person, course))


class ReleaseHandler(GraderAPIHandler):
    async def get(self, course, assignment):
        """The student version: what a learner fetches into their work folder."""
        out = await self.run(self.gradebook.releases.student_release, self.person, course, assignment)
        out["files"] = encode_files(out["files"])
        self.write_json(out)

    async def post(self, course, assignment):
        """A new release version from the instructor's source files (multipart or JSON)."""
        files, fields = self.uploaded()
        check = fields.get("check")
        if check is not None and str(check).lower() not in ("true", "false", "1", "0"):
            raise InvalidRequest("check must be true or false")
        out = await self.gradebook.releases.publish(
            self.settings.get("sandbox_pool"),
            self.person,
            course,
            assignment,
            files,
            fields,
            check=None if check is None else str(check).lower() in ("true", "1"),
        )
        self.write_json(out, 201)


class SourceHandler(GraderAPIHandler):
    async def get(self, course, assignment):
        out = await self.run(self.gradebook.releases.source_release, self.person, course, assignment)
        out["files"] = encode_files(out["files"])
        self.write_json(out)


class StatisticsHandler(GraderAPIHandler):
    async def get(self, course, assignment):
        self.write_json(
            await self.run(self.gradebook.reports.statistics, self.person, course, assignment)
        )


class GradesCSVHandler(GraderAPIHandler):
    async def get(self, course):
        assignment = self.get_query_argument("assignment", None)
        text = await self.run(self.gradebook.reports.export_csv, self.person, course, assignment)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header(
            "Content-Disposition", f'attachment; filename="{course}-grades.csv"'
        )
        self.finish(text)


class StorageHandler(GraderAPIHandler):
    async def get(self, course):
        """Instructors: what the course stores, by kind and assignment, and for how long."""
        self.write_json(await self.run(self.gradebook.storage.course_usage, self.person, course))


class QueueHandler(GraderAPIHandler):
    async def get(self):
        courses = await self.run(self.gradebook.courses.for_person, self.person)
        if not (self.person.admin or any("instructor" in c["roles"] for c in courses)):
            raise web.HTTPError(403, "only instructors and admins see the grading queue")
        self.write_json(await self.run(self.gradebook.reports.queue_status, self.person))
