"""Load the courses in courses/ into a running stack: the grader and the site's catalogue.

``./studio up`` runs this after the hub answers, so a new user finds both courses with
their assignments released. It is ``python -m grader course import courses/ --hub ...``
(grader/course_import.py does the work; the hub's studio-admin service releases): every release is checked in
the grading sandbox, what is already released is left alone, and when a CMS URL and its
shared secret are given (``--cms-url`` or LS_CMS_URL, LS_GRADE_EVENT_SECRET) the courses'
catalogue entries are pushed to the site too.

    python -m hub.demo import-courses --hub http://127.0.0.1:8000 --token ADMIN_TOKEN
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.courses.importer import ImportOptions, run_import
from grader.courses.validate import CourseError, discover_courses, load_courses

ROOT = Path(__file__).resolve().parent.parent


def _say(msg: str) -> None:
    print(f"[courses] {msg}", file=sys.stderr, flush=True)


def import_courses(hub: str, admin_token: str, courses_root: Path, instructor: str,
                   cms_url: str = "", cms_secret: str = "") -> int:
    """Both halves of ``course import`` for every course under ``courses_root``; the CMS
    half only when ``cms_url`` is given. Returns the command's exit code."""
    courses = load_courses(discover_courses(courses_root))
    opts = ImportOptions(hub_url=hub, admin_token=admin_token, instructor=instructor,
                         cms_url=cms_url, cms_secret=cms_secret, skip_cms=not cms_url)
    return run_import(courses, opts, _say, _say)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hub.demo")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import-courses", help="load courses/ into the grader (and the CMS)")
    p.add_argument("--hub", default=os.environ.get("STUDIO_HUB_URL", "http://127.0.0.1:8000"))
    p.add_argument("--token", default=os.environ.get("STUDIO_ADMIN_TOKEN", ""))
    p.add_argument("--courses", type=Path, default=ROOT / "courses")
    p.add_argument("--instructor", default="",
                   help="release as this hub user (default: as the studio-admin service, an "
                        "operator of the grader)")
    p.add_argument("--cms-url", default=os.environ.get("LS_CMS_URL", ""),
                   help="also push the catalogue to this site (needs LS_GRADE_EVENT_SECRET)")
    args = ap.parse_args(argv)
    try:
        return import_courses(args.hub, args.token, args.courses, args.instructor,
                              args.cms_url, os.environ.get("LS_GRADE_EVENT_SECRET", ""))
    except CourseError as e:
        print(f"studio: loading the courses failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
