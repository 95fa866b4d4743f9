"""Notebooks drafted by AI for a course's instructors (grader.service.drafts)."""

from __future__ import annotations

from grader.service.apihandlers.base import GraderAPIHandler


class DraftsHandler(GraderAPIHandler):
    async def get(self, course):
        """Instructors: the course's drafts, newest first (without their notebooks)."""
        self.write_json(await self.run(self.gradebook.drafts.listing, self.person, course))

    async def post(self, course):
        """Instructors: ask the model for an exercise (nbgrader source notebook) or a
        lesson; 201 with the stored draft and its notebook, or an error and nothing stored."""
        out = await self.gradebook.drafts.draft(self.person, course, self.json_body())
        self.write_json(out, 201)


class DraftHandler(GraderAPIHandler):
    async def get(self, course, draft_id):
        """Instructors: one draft with its notebook (solutions and hidden tests included)."""
        self.write_json(
            await self.run(self.gradebook.drafts.get, self.person, course, int(draft_id)))

    async def delete(self, course, draft_id):
        await self.run(self.gradebook.drafts.delete, self.person, course, int(draft_id))
        self.set_status(204)
        self.finish()
