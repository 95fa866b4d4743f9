"""Keep course pages in step with the grader's courses.

Input (a file, a URL, or a signed POST to /courses/sync/), JSON::

    {"courses": [
      {"id": "intro-python", "title": "Introduction to Python",
       "summary": "one line", "description": "<p>HTML or plain text</p>",
       "lessons": [{"id": "01-basics", "title": "Basics", "path": "lessons/01-basics.ipynb"}],
       "assignments": [{"id": "ps1", "title": "Problem set 1", "max_score": 10,
                        "due": "2026-12-01T17:00:00Z"}],
       "instructors": ["ada"]}
    ]}

`instructors` (optional) are usernames on this site; each becomes an instructor of the
course (hub group `instructors:<course>`). Names without an account are reported, not fatal.

Courses are matched by id: new ones get a page under /courses/, existing ones are updated
(title, summary, description, lessons, assignments) and republished. Courses missing from
the input are left alone (an editor unpublishes them).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.request import urlopen

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.text import slugify

from studio_contracts.slug import InvalidSlug, check_slug
from studio_site.base.sanitise import clean_html

from .models import Assignment, CatalogueIndexPage, CoursePage, Lesson

log = logging.getLogger(__name__)


class CatalogueError(ValueError):
    """The catalogue JSON does not have the documented shape; the message says where."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unknown_instructors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"created {len(self.created)} ({', '.join(self.created) or '-'}), "
                f"updated {len(self.updated)} ({', '.join(self.updated) or '-'})")
        if self.unknown_instructors:
            text += ("; no account for instructors: " + ", ".join(self.unknown_instructors)
                     + " (they sign up, then sync again)")
        return text


def load_source(source: str, timeout: float = 10.0) -> dict:
    """Read catalogue JSON from a path or an http(s) URL."""
    try:
        if source.startswith(("http://", "https://")):
            with urlopen(source, timeout=timeout) as response:  # noqa: S310 (operator URL)
                raw = response.read()
        else:
            with open(source, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        raise CatalogueError(f"cannot read the catalogue from {source}: {error}") from error
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise CatalogueError(f"{source} is not JSON: {error}") from error


def _require_id(item: dict, where: str) -> str:
    """Course, lesson and assignment ids follow the one slug rule (studio_contracts.slug)."""
    try:
        return check_slug(item.get("id"), f"{where}: 'id'")
    except InvalidSlug as error:
        raise CatalogueError(str(error)) from None


def validate(data: dict) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("courses"), list):
        raise CatalogueError("the catalogue must be an object with a 'courses' list")
    courses = []
    for i, course in enumerate(data["courses"]):
        where = f"courses[{i}]"
        if not isinstance(course, dict):
            raise CatalogueError(f"{where} must be an object")
        course_id = _require_id(course, where)
        if not isinstance(course.get("title"), str) or not course["title"].strip():
            raise CatalogueError(f"{where} ({course_id}): 'title' is required")
        for kind in ("lessons", "assignments"):
            items = course.get(kind, [])
            if not isinstance(items, list):
                raise CatalogueError(f"{where} ({course_id}): '{kind}' must be a list")
            for j, item in enumerate(items):
                if not isinstance(item, dict):
                    raise CatalogueError(f"{where}.{kind}[{j}] must be an object")
                _require_id(item, f"{where}.{kind}[{j}]")
                if kind == "assignments":
                    score = item.get("max_score", 0)
                    if not isinstance(score, int | float) or score < 0:
                        raise CatalogueError(
                            f"{where}.{kind}[{j}]: 'max_score' must be a number >= 0"
                        )
                    if item.get("due") and parse_datetime(str(item["due"])) is None:
                        raise CatalogueError(
                            f"{where}.{kind}[{j}]: 'due' must be an ISO 8601 date-time"
                        )
        instructors = course.get("instructors", [])
        if not isinstance(instructors, list) or not all(isinstance(n, str) for n in instructors):
            raise CatalogueError(f"{where} ({course_id}): 'instructors' must be a list of usernames")
        courses.append(course)
    return courses


def _description_html(text: str) -> str:
    if "<" in text:
        return clean_html(text)
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def _ensure_instructors(page: CoursePage, usernames: list[str], report: SyncReport) -> None:
    from django.contrib.auth import get_user_model

    from .models import Enrolment

    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    for name in usernames:
        user = users.get(name)
        if user is None:
            report.unknown_instructors.append(f"{name} ({page.course_id})")
            continue
        Enrolment.objects.update_or_create(
            user=user, course=page, role=Enrolment.INSTRUCTOR, defaults={"active": True}
        )


@transaction.atomic
def sync_catalogue(data: dict) -> SyncReport:
    courses = validate(data)
    index = CatalogueIndexPage.objects.first()
    if index is None:
        raise CatalogueError(
            "there is no course catalogue page yet: run `manage.py seed_demo --structure-only` "
            "or add a 'Catalogue index page' under the home page in the admin"
        )
    report = SyncReport()
    for course in courses:
        page = CoursePage.objects.filter(course_id=course["id"]).first()
        created = page is None
        if created:
            page = CoursePage(course_id=course["id"], slug=slugify(course["id"]) or course["id"])
        page.title = course["title"].strip()[:255]
        page.summary = str(course.get("summary", ""))[:300]
        page.description = _description_html(str(course.get("description", "")))
        page.synced_at = timezone.now()
        page.lessons = [
            Lesson(lesson_id=item["id"], title=str(item.get("title") or item["id"])[:200],
                   path=str(item.get("path", ""))[:300], sort_order=n)
            for n, item in enumerate(course.get("lessons", []))
        ]
        page.assignments = [
            Assignment(
                assignment_id=item["id"], title=str(item.get("title") or item["id"])[:200],
                max_score=float(item.get("max_score", 0)),
                due=parse_datetime(str(item["due"])) if item.get("due") else None,
                sort_order=n,
            )
            for n, item in enumerate(course.get("assignments", []))
        ]
        if created:
            index.add_child(instance=page)
            report.created.append(course["id"])
        else:
            report.updated.append(course["id"])
        page.save_revision().publish()
        _ensure_instructors(page, course.get("instructors", []), report)
    log.info("catalogue sync: %s", report)
    return report
