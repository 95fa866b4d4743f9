"""A course on disk: ``courses/<slug>/course.yml`` (described by ``courses/schema.json``),
lesson notebooks under ``lessons/`` and nbgrader source notebooks under
``source/<assignment>/``; and the catalogue entry the site shows for it.

Reading a manifest needs no nbgrader and no Docker: ``course import`` runs where only the
manifest and the grader's API are at hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

MANIFEST_NAME = "course.yml"
#: course.yml's schema: ``courses/schema.json`` in the source tree, packaged beside this
#: module in the wheel (pyproject.toml force-includes it).
_SCHEMA_CANDIDATES = (
    Path(__file__).with_name("schema.json"),
    Path(__file__).resolve().parents[2] / "courses" / "schema.json",
)
DEFAULT_SCHEMA_PATH = next((p for p in _SCHEMA_CANDIDATES if p.is_file()), _SCHEMA_CANDIDATES[-1])

# --------------------------------------------------------------------------- errors


class CourseError(Exception):
    """A course cannot be used as it is; the message says what to change."""


class ManifestError(CourseError):
    """course.yml is missing, is not YAML, or does not match courses/schema.json."""


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Lesson:
    """A readable notebook, in the order a learner should read it."""

    slug: str
    title: str
    path: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """A graded nbgrader assignment: the source notebooks in ``source/<slug>/``."""

    slug: str
    title: str
    points: float
    due_offset_days: int
    max_submissions: int | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Course:
    """A course folder and its manifest."""

    root: Path
    slug: str
    title: str
    summary: str
    audience: str
    network: str
    lessons: tuple[Lesson, ...]
    assignments: tuple[Assignment, ...]

    def assignment_dir(self, assignment: Assignment | str) -> Path:
        slug = assignment if isinstance(assignment, str) else assignment.slug
        return self.root / "source" / slug

    def source_notebooks(self, assignment: Assignment | str) -> list[Path]:
        """The assignment's source notebooks, sorted (nbgrader grades every .ipynb there)."""
        folder = self.assignment_dir(assignment)
        return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))

    def assignment(self, slug: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.slug == slug:
                return assignment
        known = ", ".join(a.slug for a in self.assignments)
        raise CourseError(f"course {self.slug!r} has no assignment {slug!r} (it has: {known})")


def load_schema(schema_path: Path | None = None) -> dict[str, Any]:
    path = Path(schema_path or DEFAULT_SCHEMA_PATH)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise CourseError(f"course manifest schema not found at {path}") from e


def manifest_errors(data: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``data`` breaks the schema, as 'where: what' lines (empty if valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = _json_path(error.absolute_path) or "(top level)"
        messages.append(f"{where}: {error.message}")
    return messages


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_course(path: Path | str, schema_path: Path | None = None) -> Course:
    """Read and check ``<path>/course.yml``; raise ManifestError saying what to fix."""
    root = Path(path).resolve()
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        raise ManifestError(
            f"{root}: no {MANIFEST_NAME} found. Every course folder needs a manifest; "
            "see docs/courses-instructor.md for the fields."
        )
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ManifestError(f"{manifest}: not valid YAML: {e}") from e
    errors = manifest_errors(data, load_schema(schema_path))
    if errors:
        listed = "\n  ".join(errors)
        raise ManifestError(
            f"{manifest} does not match courses/schema.json:\n  {listed}\n"
            "Fix these fields (docs/courses-instructor.md describes each one)."
        )
    if data["slug"] != root.name:
        raise ManifestError(
            f"{manifest}: slug {data['slug']!r} differs from the folder name {root.name!r}; "
            "rename one so they match (the slug is the course's id everywhere)."
        )
    for kind in ("lessons", "assignments"):
        seen: set[str] = set()
        for item in data[kind]:
            if item["slug"] in seen:
                raise ManifestError(
                    f"{manifest}: {kind} slug {item['slug']!r} appears twice; slugs must be unique."
                )
            seen.add(item["slug"])
    return Course(
        root=root,
        slug=data["slug"],
        title=data["title"],
        summary=data["summary"].strip(),
        audience=data["audience"].strip(),
        network=data.get("network", "closed"),
        lessons=tuple(
            Lesson(
                slug=item["slug"],
                title=item["title"],
                path=item["path"],
                files=tuple(item.get("files", ())),
            )
            for item in data["lessons"]
        ),
        assignments=tuple(
            Assignment(
                slug=item["slug"],
                title=item["title"],
                points=item["points"],
                due_offset_days=item["due_offset_days"],
                max_submissions=item.get("max_submissions"),
                files=tuple(item.get("files", ())),
            )
            for item in data["assignments"]
        ),
    )


def load_courses(folders: Iterable[Path | str], schema_path: Path | None = None) -> list[Course]:
    """Load several course folders for a command that sends them somewhere (``course
    import``): every manifest is checked, and every assignment must have its source folder
    with a notebook, before anything is sent. Raises CourseError naming the first problem."""
    courses = []
    for folder in folders:
        course = load_course(folder, schema_path)
        for assignment in course.assignments:
            if not course.source_notebooks(assignment):
                raise CourseError(
                    f"{course.assignment_dir(assignment)}: assignment {assignment.slug!r} of "
                    f"course {course.slug!r} has no source notebook (*.ipynb) there; add it or "
                    "remove the assignment from course.yml"
                )
        courses.append(course)
    return courses


def discover_courses(courses_root: Path | str) -> list[Path]:
    """Course folders under ``courses_root``: those with a course.yml, sorted by name."""
    return sorted(p.parent for p in Path(courses_root).glob(f"*/{MANIFEST_NAME}"))


def catalogue_entry(course: Course) -> dict[str, Any]:
    """One course's public description, in the shape the CMS's catalogue sync reads.

    The CMS (cms/studio_site/catalogue/sync.py) matches courses, lessons and assignments by
    ``id`` and shows ``max_score`` and ``due``; the manifest's own field names (``slug``,
    ``points``, ``due_offset_days``...) are kept beside them for other readers. ``due`` is
    added by ``course import`` from the grader's release, which fixes the actual date.
    """
    description = course.summary
    if course.audience:
        description += f"\n\nWho it is for: {course.audience}"
    return {
        "id": course.slug,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "description": description,
        "audience": course.audience,
        "network": course.network,
        "lessons": [
            {"id": lesson.slug, "slug": lesson.slug, "title": lesson.title, "path": lesson.path}
            for lesson in course.lessons
        ],
        "assignments": [
            {
                "id": a.slug,
                "slug": a.slug,
                "title": a.title,
                "max_score": a.points,
                "points": a.points,
                "due_offset_days": a.due_offset_days,
                "max_submissions": a.max_submissions,
            }
            for a in course.assignments
        ],
    }


def catalogue(courses_root: Path | str, schema_path: Path | None = None) -> dict[str, Any]:
    """The course catalogue the CMS imports (its /courses/sync/ endpoint or the
    ``sync_catalogue`` command): every course's public description."""
    return {
        "courses": [
            catalogue_entry(load_course(folder, schema_path))
            for folder in discover_courses(courses_root)
        ]
    }
