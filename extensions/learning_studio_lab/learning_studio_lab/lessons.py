"""The lessons of a course: readable notebooks, served by the grader service.

The grader keeps each course's lessons (course.yml's ``lessons``, stored when the course
is imported). Opening one writes it (and its data files) into
``~/courses/<course>/lessons/`` once, so the learner's notes in it are never replaced.
A course whose grader has no lessons (an older grader, or a course created only through
the API) falls back to the manifests baked into the learner image.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from traitlets import Unicode, default
from traitlets.config import Configurable

from .errors import GraderRefused, InvalidRequest, LessonNotFound
from .grader_client import GraderClient


class LessonLibrary(Configurable):
    """Lessons from the grader, with the course manifests in the image as a fallback."""

    library_dir = Unicode(
        help="Folder with one sub-folder per course (course.yml and lessons/), as in the "
        "repository's courses/: the fallback for courses whose grader has no lessons. "
        "Default: env STUDIO_COURSE_LIBRARY, else <sys.prefix>/share/learning-studio/courses "
        "(where the learner image puts them).",
    ).tag(config=True)

    @default("library_dir")
    def _default_library_dir(self) -> str:
        import sys

        return os.environ.get(
            "STUDIO_COURSE_LIBRARY",
            os.path.join(sys.prefix, "share", "learning-studio", "courses"),
        )

    # ---- the baked-in fallback ----------------------------------------------------------

    def manifest(self, course: str) -> dict | None:
        path = Path(self.library_dir) / course / "course.yml"
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)

    def baked_lessons(self, course: str) -> list[dict]:
        data = self.manifest(course) or {}
        return [
            {"slug": item["slug"], "title": item.get("title", item["slug"]),
             "path": item["path"], "source": "image"}
            for item in data.get("lessons", [])
        ]

    # ---- what the panel calls -----------------------------------------------------------

    async def lessons(self, grader: GraderClient, course: str) -> list[dict]:
        """The grader's lessons of the course; the image's when the grader has none."""
        try:
            stored = await grader.lessons(course)
        except GraderRefused as e:
            if e.status != 404:
                raise
            stored = []  # a grader without the lessons endpoint
        if stored:
            return [{"slug": x["slug"], "title": x.get("title") or x["slug"],
                     "path": x["path"], "source": "grader"} for x in stored]
        return self.baked_lessons(course)

    async def open(
        self, grader: GraderClient, course: str, lesson_slug: str, courses_dir: Path
    ) -> dict:
        """Write the lesson into ~/courses/<course>/ (files the learner has are kept)."""
        try:
            item = await grader.lesson(course, lesson_slug)
            files, source = item["files"], "grader"
        except GraderRefused as e:
            if e.status != 404:
                raise
            item, files, source = self._baked(course, lesson_slug), None, "image"
        dest_root = courses_dir / course
        if files is None:
            src_root = Path(self.library_dir) / course
            files = {rel: (src_root / rel).read_bytes()
                     for rel in [item["path"], *item.get("files", [])]}
        copied = []
        for rel, data in sorted(files.items()):
            dest = (dest_root / rel).resolve()
            if not dest.is_relative_to(dest_root.resolve()):
                raise InvalidRequest(f"lesson file {rel!r} points outside the course folder")
            if not dest.exists():  # a lesson once opened is the learner's own copy
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                copied.append(rel)
        return {"path": str((dest_root / item["path"]).relative_to(courses_dir.parent)),
                "copied": copied, "source": source}

    def _baked(self, course: str, lesson_slug: str) -> dict:
        data = self.manifest(course) or {}
        item = next((x for x in data.get("lessons", []) if x.get("slug") == lesson_slug), None)
        if item is None:
            raise LessonNotFound(
                f"course {course} has no lesson {lesson_slug!r}: pick one from the Courses panel"
            )
        return item

