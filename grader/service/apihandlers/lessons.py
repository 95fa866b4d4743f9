"""Lessons of a course (readable notebooks) and the hints of one exercise cell."""

from __future__ import annotations

from grader.service.apihandlers.base import GraderAPIHandler, encode_files
from grader.service.errors import InvalidRequest


class LessonsHandler(GraderAPIHandler):
    async def get(self, course):
        """The course's lessons in reading order: slug, title, path, files."""
        self.write_json(await self.run(self.gradebook.lessons.listing, self.person, course))


class LessonHandler(GraderAPIHandler):
    async def get(self, course, lesson):
        """One lesson with its files (base64), for a learner's server to write out."""
        out = await self.run(self.gradebook.lessons.lesson, self.person, course, lesson)
        out["files"] = encode_files(out["files"])
        self.write_json(out)

    async def put(self, course, lesson):
        """Instructor: create or replace a lesson (JSON with base64 files, or multipart)."""
        files, fields = self.uploaded()
        position = fields.get("position")
        if position not in (None, ""):
            try:
                position = int(position)
            except (TypeError, ValueError):
                raise InvalidRequest(f"position must be a whole number, not {position!r}") from None
        else:
            position = None
        out = await self.run(
            self.gradebook.lessons.store, self.person, course, lesson, files,
            path=str(fields.get("path") or ""), title=str(fields.get("title") or ""),
            position=position,
        )
        self.write_json(out)

    async def delete(self, course, lesson):
        await self.run(self.gradebook.lessons.delete, self.person, course, lesson)
        self.set_status(204)
        self.finish()


class HintsHandler(GraderAPIHandler):
    async def get(self, course, assignment):
        """?notebook=<name.ipynb>&cell=<grade_id or cell id>: that cell's hints."""
        notebook = self.get_query_argument("notebook", "")
        cell = self.get_query_argument("cell", "")
        if not notebook or not cell:
            raise InvalidRequest("give ?notebook=<name.ipynb>&cell=<grade_id or cell id>")
        self.write_json(await self.run(
            self.gradebook.releases.hints, self.person, course, assignment, notebook, cell))
