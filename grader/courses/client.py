"""Clients of a running stack, for ``grader course import``: the hub (to find the grader
and make tokens), the grader's REST API (courses, releases, lessons) and the site's signed
catalogue endpoint. They speak HTTP only; nothing here touches the grader's database.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import requests

from grader.courses.manifest import Course, CourseError
from studio_contracts.signing import SECRET_ENV, signed_headers

#: Release requests wait for the grader's sandbox check of every notebook.
RELEASE_TIMEOUT = 900.0


class CourseImportError(CourseError):
    """A course could not be loaded into the grader; the message says what and how to retry."""


class CatalogueSyncError(CourseImportError):
    """The site did not take the catalogue; the grader half is unaffected."""


def _error_text(r: requests.Response) -> str:
    """The message of a grader ({"error": {"message"}}) or CMS ({"error": "..."}) error."""
    try:
        body = r.json()
    except ValueError:
        return r.text.strip()[:500] or r.reason
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err or body)[:500]


# --------------------------------------------------------------------------- the hub


def grader_api_from_hub(hub_url: str, admin_token: str) -> str:
    """The grader's API base URL, as the hub lists its ``grader`` service."""
    hub_url = hub_url.rstrip("/")
    try:
        r = requests.get(f"{hub_url}/hub/api/services/grader",
                         headers={"Authorization": f"token {admin_token}"}, timeout=30)
    except requests.RequestException as e:
        raise CourseImportError(f"the hub at {hub_url} does not answer ({e}); is it running?") from e
    if r.status_code in (401, 403):
        raise CourseImportError(
            f"the hub at {hub_url} refused the admin token ({r.status_code}): use the hub's "
            "admin API token (STUDIO_ADMIN_TOKEN in data/studio.env)"
        )
    if r.status_code != 200:
        raise CourseImportError(
            f"the hub at {hub_url} lists no grader service ({r.status_code}): register the "
            "grader in the hub's services (hub/setup.py does)"
        )
    # Where the hub itself reaches the service: the proxy may put services on their own
    # subdomain (subdomain_host), the service's own address works from this machine.
    return r.json()["url"].rstrip("/") + "/services/grader/api"


def instructor_token(hub_url: str, admin_token: str, user: str) -> str:
    """A short-lived hub token of ``user``, who must be allowed to release (instructor)."""
    hub_url = hub_url.rstrip("/")
    r = requests.post(f"{hub_url}/hub/api/users/{user}/tokens",
                      headers={"Authorization": f"token {admin_token}"},
                      json={"note": "course import", "expires_in": 3600}, timeout=30)
    if r.status_code == 404:
        raise CourseImportError(
            f"the hub has no user {user!r}: create them (an instructor) or name another with "
            "--instructor"
        )
    if r.status_code != 201:
        raise CourseImportError(
            f"the hub did not make a token for {user!r} ({r.status_code}: {_error_text(r)})"
        )
    return r.json()["token"]


# --------------------------------------------------------------------------- the grader


class GraderCourses:
    """The parts of the grader's REST API an import uses, with one person's hub token."""

    def __init__(self, api: str, token: str, timeout: float = 30.0) -> None:
        self.api = api.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        try:
            r = self.session.request(method, f"{self.api}/{path}", **kwargs)
        except requests.RequestException as e:
            raise CourseImportError(
                f"the grader at {self.api} does not answer ({e.__class__.__name__}: {e}); "
                "is it running, and is --grader-url its API (…/services/grader/api)?"
            ) from e
        if r.status_code in (401, 403):
            raise CourseImportError(
                f"the grader refused {method} {path} ({r.status_code}: {_error_text(r)}): the "
                "token must belong to an admin or the course's instructor, with the scope "
                "access:services!service=grader"
            )
        return r

    def ensure_course(self, course: Course) -> bool:
        """Create the course; False if it already existed."""
        r = self._request("POST", "courses", json={"slug": course.slug, "title": course.title})
        if r.status_code == 409:
            return False
        if r.status_code != 201:
            raise CourseImportError(
                f"{course.slug}: creating the course failed ({r.status_code}: {_error_text(r)})"
            )
        return True

    def releases(self, course_slug: str) -> dict[str, dict]:
        """The course's released assignments by slug (their newest release)."""
        r = self._request("GET", f"courses/{course_slug}/assignments")
        if r.status_code != 200:
            raise CourseImportError(
                f"{course_slug}: listing the released assignments failed ({r.status_code}: "
                f"{_error_text(r)})"
            )
        return {a["assignment"]: a for a in r.json()}

    def release(self, course: Course, assignment_slug: str, fields: dict[str, Any]) -> dict:
        """Release one assignment from its source folder; the grader checks it in a sandbox."""
        folder = course.assignment_dir(assignment_slug)
        files = {
            p.relative_to(folder).as_posix(): base64.b64encode(p.read_bytes()).decode()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
            and not any(part.startswith(".") or part == "__pycache__"
                        for part in p.relative_to(folder).parts)
        }
        r = self._request(
            "POST", f"courses/{course.slug}/assignments/{assignment_slug}/release",
            json={"files": files, **fields}, timeout=RELEASE_TIMEOUT,
        )
        if r.status_code != 201:
            raise CourseImportError(
                f"{course.slug}/{assignment_slug}: the grader refused the release "
                f"({r.status_code}: {_error_text(r)}). Fix it (python -m grader course "
                f"validate {course.root} shows the same checks), then run the import again: "
                "released assignments are kept"
            )
        return r.json()


def push_lessons(session: requests.Session, api: str, course_root: Path, course_slug: str,
                 lessons: Any) -> int:
    """Store a course folder's lessons through the grader's API (what a course import does).

    ``session`` is a ``requests.Session`` carrying an instructor's or operator's token,
    ``api`` the grader's API URL (``…/services/grader/api``), ``lessons`` the manifest's
    lessons (``course.yml`` dicts or ``grader.courses.manifest.Lesson``). Each is stored again, so a
    changed lesson arrives; returns how many were stored.
    """
    count = 0
    for position, lesson in enumerate(lessons):
        item = lesson if isinstance(lesson, dict) else vars(lesson)
        names = [item["path"], *item.get("files", ())]
        body = {
            "title": item.get("title") or item["slug"],
            "path": item["path"],
            "position": position,
            "files": {n: base64.b64encode((course_root / n).read_bytes()).decode()
                      for n in names},
        }
        r = session.put(f"{api.rstrip('/')}/courses/{course_slug}/lessons/{item['slug']}",
                        json=body, timeout=60)
        if r.status_code != 200:
            raise CourseImportError(
                f"{course_slug}: storing lesson {item['slug']} failed ({r.status_code}): "
                f"{r.text[:300]}"
            )
        count += 1
    return count


def push_catalogue(cms_url: str, secret: str, payload: dict[str, Any],
                   timeout: float = 60.0) -> dict[str, Any]:
    """POST the catalogue to the CMS; returns its report ({"created": [...], "updated": [...]})."""
    url = cms_url.rstrip("/") + "/courses/sync/"
    body = json.dumps(payload).encode()
    try:
        r = requests.post(url, data=body, timeout=timeout, headers={
            "Content-Type": "application/json", **signed_headers(secret, body)})
    except requests.RequestException as e:
        raise CatalogueSyncError(
            f"the CMS at {cms_url} does not answer ({e.__class__.__name__}); is the site running "
            "and is --cms-url its address?"
        ) from e
    if r.status_code == 200:
        return r.json()
    why = _error_text(r)
    if r.status_code in (401, 403):
        raise CatalogueSyncError(
            f"the CMS refused the signature ({r.status_code}: {why}): --cms-secret (or "
            f"{SECRET_ENV}) must equal the site's {SECRET_ENV}"
        )
    if r.status_code == 503:
        raise CatalogueSyncError(f"the CMS has catalogue sync turned off ({why})")
    if r.status_code == 404:
        raise CatalogueSyncError(
            f"{url} does not exist ({r.status_code}): is --cms-url the Learning Studio site?"
        )
    raise CatalogueSyncError(f"the CMS rejected the catalogue ({r.status_code}: {why})")
