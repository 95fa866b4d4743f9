"""Load the courses in courses/ into a running stack's grader, as the demo instructor.

``./studio up`` runs this after the hub answers, so a new user finds both courses with
their assignments released. Releasing checks every assignment in the grading sandbox;
what is already released is left alone, so a second run only adds what is new.

    python -m hub.demo import-courses --hub http://127.0.0.1:8000 --token ADMIN_TOKEN
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent


class CourseImportError(Exception):
    """A course could not be loaded into the grader; the message says which and why."""


def _say(msg: str) -> None:
    print(f"[courses] {msg}", file=sys.stderr, flush=True)


def grader_api(hub: str, admin_token: str) -> str:
    r = requests.get(f"{hub}/hub/api/services/grader",
                     headers={"Authorization": f"token {admin_token}"}, timeout=30)
    if r.status_code != 200:
        raise CourseImportError(f"the hub does not list a grader service ({r.status_code})")
    return r.json()["url"].rstrip("/") + "/services/grader/api"


def instructor_token(hub: str, admin_token: str, user: str) -> str:
    r = requests.post(f"{hub}/hub/api/users/{user}/tokens",
                      headers={"Authorization": f"token {admin_token}"},
                      json={"note": "course import", "expires_in": 3600}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def import_course(api: str, token: str, course_dir: Path) -> int:
    """Create the course and release each assignment not released yet; return how many."""
    manifest = yaml.safe_load((course_dir / "course.yml").read_text())
    slug = manifest["slug"]
    h = {"Authorization": f"token {token}"}
    r = requests.post(f"{api}/courses", headers=h, timeout=30,
                      json={"slug": slug, "title": manifest["title"]})
    if r.status_code not in (200, 201, 409):
        raise CourseImportError(f"{slug}: creating the course failed: {r.status_code} {r.text}")
    r = requests.get(f"{api}/courses/{slug}/assignments", headers=h, timeout=30)
    r.raise_for_status()
    have = {a["assignment"] for a in r.json()}
    todo = [a for a in manifest.get("assignments", []) if a["slug"] not in have]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for i, a in enumerate(todo, 1):
        source = course_dir / "source" / a["slug"]
        files = [("files", (str(p.relative_to(source)), p.read_bytes()))
                 for p in sorted(source.rglob("*"))
                 if p.is_file() and ".ipynb_checkpoints" not in p.parts]
        fields = {"title": a.get("title", a["slug"])}
        if a.get("due_offset_days") is not None:
            due = now + dt.timedelta(days=a["due_offset_days"])
            fields["due_at"] = due.isoformat().replace("+00:00", "Z")
        if a.get("max_submissions"):
            fields["max_submissions"] = str(a["max_submissions"])
        r = requests.post(f"{api}/courses/{slug}/assignments/{a['slug']}/release", headers=h,
                          files=files, data=fields, timeout=600)
        if r.status_code not in (200, 201):
            raise CourseImportError(
                f"{slug}/{a['slug']}: the release was refused ({r.status_code}): {r.text[:500]}")
        _say(f"{slug}: released {a['slug']} ({i}/{len(todo)}, checked in the sandbox)")
    return len(todo)


def import_courses(hub: str, admin_token: str, courses_root: Path, instructor: str) -> None:
    api = grader_api(hub, admin_token)
    token = instructor_token(hub, admin_token, instructor)
    for course_dir in sorted(p.parent for p in courses_root.glob("*/course.yml")):
        n = import_course(api, token, course_dir)
        _say(f"{course_dir.name}: {'up to date' if n == 0 else f'{n} assignment(s) released'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hub.demo")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import-courses", help="load courses/ into the grader")
    p.add_argument("--hub", default=os.environ.get("STUDIO_HUB_URL", "http://127.0.0.1:8000"))
    p.add_argument("--token", default=os.environ.get("STUDIO_ADMIN_TOKEN", ""))
    p.add_argument("--courses", type=Path, default=ROOT / "courses")
    p.add_argument("--instructor", default="ada")
    args = ap.parse_args(argv)
    try:
        import_courses(args.hub, args.token, args.courses, args.instructor)
    except (CourseImportError, requests.RequestException) as e:
        print(f"studio: loading the courses failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
