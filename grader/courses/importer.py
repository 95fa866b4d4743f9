"""``course import``: load courses into the grader and their catalogue entries into the CMS.

Two halves, each of which can be skipped:

1. **Grader** (its REST API, as an instructor or admin with a hub token): create the course
   if it is missing, then release every assignment of course.yml that is not released yet.
   Each release is checked by the grader in its sandbox (the solution passes, the student
   version fails). What is already released is left alone, so a second run only adds what
   is new. The token is either given (``--grader-url`` + ``--token``) or made at the hub
   for an instructor with the hub's admin token (``--hub`` + ``--admin-token``), as
   ``./studio up`` does.
2. **Site**: the courses' catalogue entries (``grader.courses.manifest.catalogue_entry``,
   with the due dates the grader's releases fixed) are POSTed to the site's
   ``/courses/sync/``, signed with the shared secret STUDIO_SIGNING_SECRET the way the site
   verifies every signed request (studio_contracts.signing).

The grader half runs first and completes even when the CMS is down; the command then says
which half failed and prints the command that retries only that half.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.courses.client import (
    CatalogueSyncError,
    CourseImportError,
    GraderCourses,
    grader_api_from_hub,
    instructor_token,
    push_catalogue,
    push_lessons,
)
from grader.courses.manifest import Course, catalogue_entry
from studio_contracts.signing import SECRET_ENV

Say = Callable[[str], None]


@dataclass
class GraderImport:
    """What one course's grader half did."""

    course: str
    created: bool = False
    released: list[str] = field(default_factory=list)
    already_released: list[str] = field(default_factory=list)
    #: newest release of every assignment, by slug (due dates for the catalogue)
    releases: dict[str, dict] = field(default_factory=dict)
    lessons: int = 0


def import_into_grader(course: Course, grader: GraderCourses, say: Say,
                       now: dt.datetime | None = None) -> GraderImport:
    """Create the course and release each assignment not released yet (in manifest order)."""
    result = GraderImport(course.slug, created=grader.ensure_course(course))
    say(f"[{course.slug}] course {'created' if result.created else 'exists'} in the grader")
    result.releases = grader.releases(course.slug)
    todo = [a for a in course.assignments if a.slug not in result.releases]
    result.already_released = [a.slug for a in course.assignments if a.slug in result.releases]
    if result.already_released:
        say(f"[{course.slug}] already released, left as they are: "
            + ", ".join(result.already_released))
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    for i, assignment in enumerate(todo, 1):
        due = now + dt.timedelta(days=assignment.due_offset_days)
        fields: dict[str, Any] = {
            "title": assignment.title,
            "due_at": due.isoformat().replace("+00:00", "Z"),
        }
        if assignment.max_submissions:
            fields["max_submissions"] = assignment.max_submissions
        say(f"[{course.slug}] releasing {assignment.slug} ({i}/{len(todo)}; the grader checks "
            "it in a sandbox)…")
        t0 = time.monotonic()
        out = grader.release(course, assignment.slug, fields)
        result.released.append(assignment.slug)
        result.releases[assignment.slug] = {**out, "assignment": assignment.slug}
        say(f"[{course.slug}] released {assignment.slug} version {out.get('version')} "
            f"(max score {out.get('max_score')}) in {time.monotonic() - t0:.1f} s")
    if course.lessons:
        # Lessons are stored again each time (a changed lesson arrives); learners' panels
        # list them and fetch them from the grader.
        result.lessons = push_lessons(grader.session, grader.api, course.root, course.slug,
                                      course.lessons)
        say(f"[{course.slug}] stored {result.lessons} lesson(s) in the grader")
    return result


# --------------------------------------------------------------------------- the CMS


def catalogue_payload(courses: list[Course], grader_imports: dict[str, GraderImport],
                      instructors: list[str]) -> dict[str, Any]:
    """The JSON the CMS's /courses/sync/ takes, with due dates from the grader's releases."""
    entries = []
    for course in courses:
        entry = catalogue_entry(course)
        imported = grader_imports.get(course.slug)
        if imported is not None:
            for item in entry["assignments"]:
                due = imported.releases.get(item["id"], {}).get("due_at")
                if due:
                    item["due"] = due
        if instructors:
            entry["instructors"] = list(instructors)
        entries.append(entry)
    return {"courses": entries}


# --------------------------------------------------------------------------- the command


@dataclass
class ImportOptions:
    """Where the two halves go; see ``python -m grader course import --help``."""

    grader_url: str = ""
    token: str = ""
    hub_url: str = ""
    admin_token: str = ""
    instructor: str = ""
    skip_grader: bool = False
    cms_url: str = ""
    cms_secret: str = ""
    skip_cms: bool = False


def _check_options(opts: ImportOptions) -> None:
    """Refuse, before anything is sent, options that cannot work."""
    if opts.skip_grader and opts.skip_cms:
        raise CourseImportError("--skip-grader and --skip-cms together leave nothing to do")
    if not opts.skip_grader:
        if opts.grader_url and not opts.token:
            raise CourseImportError(
                "--grader-url needs --token (or GRADER_API_TOKEN): a hub token of an admin or "
                "an instructor allowed to create courses"
            )
        if not opts.grader_url:
            if not (opts.hub_url and opts.admin_token):
                raise CourseImportError(
                    "say where the grader is: --grader-url URL --token TOKEN (its API, "
                    "…/services/grader/api, and a hub token), or --hub URL --admin-token TOKEN "
                    "[--instructor NAME]; or --skip-grader to update only the CMS catalogue"
                )
    if not opts.skip_cms:
        if not opts.cms_url:
            raise CourseImportError(
                "say where the site is: --cms-url URL (or STUDIO_SITE_URL), e.g. "
                "http://127.0.0.1:8010; or --skip-cms to load only the grader"
            )
        if not opts.cms_secret:
            raise CourseImportError(
                f"--cms-url needs the shared secret: --cms-secret or {SECRET_ENV} (the same "
                "value the site has)"
            )


def _retry_command(courses: list[Course], *flags: str) -> str:
    paths = " ".join(str(c.root) for c in courses)
    return " ".join(["python -m grader course import", paths, *flags])


def run_import(courses: list[Course], opts: ImportOptions, say: Say, out: Say) -> int:
    """Both halves for ``courses``; progress through ``say``, the outcome through ``out``.

    Exit codes: 0 all done; 1 bad options or the grader half failed for some course (the
    others are done; run again, it is idempotent); 3 the grader half is done but the CMS did
    not take the catalogue.
    """
    _check_options(opts)
    imported: dict[str, GraderImport] = {}
    failed: list[tuple[Course, str]] = []
    if not opts.skip_grader:
        if opts.grader_url:
            api, token = opts.grader_url, opts.token
        else:
            api = grader_api_from_hub(opts.hub_url, opts.admin_token)
            # Without --instructor the admin token itself calls the grader: the stack's
            # studio-admin service is one of the grader's operator services, so courses
            # load before anyone has signed in (with single sign-on, hub users exist only
            # from their first login).
            token = (instructor_token(opts.hub_url, opts.admin_token, opts.instructor)
                     if opts.instructor else opts.admin_token)
        grader = GraderCourses(api, token)
        for course in courses:
            try:
                imported[course.slug] = import_into_grader(course, grader, say)
            except CourseImportError as e:
                failed.append((course, str(e)))
                say(f"[{course.slug}] grader import stopped; the reason is in the summary")
                if "does not answer" in str(e):
                    break  # the next course would fail the same way
        for result in imported.values():
            out(f"grader: {result.course}: "
                + (f"released {', '.join(result.released)}" if result.released
                   else "up to date (nothing new to release)"))
        for course, why in failed:
            out(f"grader: {course.slug}: FAILED: {why}")
    to_publish = [c for c in courses if opts.skip_grader or c.slug in imported]
    cms_failed = False
    if not opts.skip_cms:
        skipped = [c.slug for c in courses if c not in to_publish]
        if skipped:
            out(f"cms: not pushed, because their grader import failed: {', '.join(skipped)}")
        if to_publish:
            instructors = [opts.instructor] if opts.instructor else []
            payload = catalogue_payload(to_publish, imported, instructors)
            say(f"pushing {len(to_publish)} catalogue entr{'y' if len(to_publish) == 1 else 'ies'} "
                f"to the CMS at {opts.cms_url}…")
            try:
                report = push_catalogue(opts.cms_url, opts.cms_secret, payload)
            except CatalogueSyncError as e:
                cms_failed = True
                done = "the courses are loaded in the grader; " if imported else ""
                out(f"cms: FAILED: {e}")
                out(f"cms: {done}to push only the catalogue once the CMS is fixed, run "
                    f"(with {SECRET_ENV} set):\n    "
                    + _retry_command(to_publish, "--skip-grader", "--cms-url", opts.cms_url))
            else:
                out(f"cms: catalogue created {', '.join(report.get('created', [])) or '-'}; "
                    f"updated {', '.join(report.get('updated', [])) or '-'}")
                unknown = report.get("unknown_instructors") or []
                if unknown:
                    out(f"cms: no site account for instructor(s) {', '.join(unknown)}: they "
                        "sign up on the site, then run the import again")
    if failed:
        out("grader: fix what is named above and run the same command again; what was "
            "released is kept and only the rest is released")
        return 1
    return 3 if cms_failed else 0

