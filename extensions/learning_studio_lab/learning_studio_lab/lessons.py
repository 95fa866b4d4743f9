"""The lessons of a course: readable notebooks shipped in the learner image.

The grader keeps graded assignments; lessons are plain notebooks that come with the
course content (``<library>/<course>/course.yml`` + ``lessons/``). Opening one copies it
(and its data files) into ``~/courses/<course>/lessons/`` once, so the learner's notes in
it are never replaced.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from traitlets import Unicode, default
from traitlets.config import Configurable

from .errors import NotAnAssignmentNotebook


class LessonLibrary(Configurable):
    """Where the course manifests and lesson notebooks live inside the learner's server."""

    library_dir = Unicode(
        help="Folder with one sub-folder per course (course.yml and lessons/), as in the "
        "repository's courses/. Default: env STUDIO_COURSE_LIBRARY, else "
        "<sys.prefix>/share/learning-studio/courses (where the learner image puts them).",
    ).tag(config=True)

    @default("library_dir")
    def _default_library_dir(self) -> str:
        import sys

        return os.environ.get(
            "STUDIO_COURSE_LIBRARY",
            os.path.join(sys.prefix, "share", "learning-studio", "courses"),
        )

    def manifest(self, course: str) -> dict | None:
        path = Path(self.library_dir) / course / "course.yml"
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)

    def lessons(self, course: str) -> list[dict]:
        data = self.manifest(course) or {}
        return [
            {"slug": item["slug"], "title": item.get("title", item["slug"]),
             "path": item["path"]}
            for item in data.get("lessons", [])
        ]

    def open(self, course: str, lesson_slug: str, courses_dir: Path) -> dict:
        data = self.manifest(course) or {}
        item = next((x for x in data.get("lessons", []) if x.get("slug") == lesson_slug), None)
        if item is None:
            raise NotAnAssignmentNotebook(
                f"course {course} has no lesson {lesson_slug!r}: pick one from the Courses panel"
            )
        src_root = Path(self.library_dir) / course
        dest_root = courses_dir / course
        copied = []
        for rel in [item["path"], *item.get("files", [])]:
            src, dest = src_root / rel, dest_root / rel
            if not dest.exists():  # a lesson once opened is the learner's own copy
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                copied.append(rel)
        return {"path": str((dest_root / item["path"]).relative_to(courses_dir.parent)),
                "copied": copied}
