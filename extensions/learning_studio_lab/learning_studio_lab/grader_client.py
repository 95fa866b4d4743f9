"""The grader service as seen from a learner's (or instructor's) JupyterLab server.

The server calls the grader with its own hub token ($JUPYTERHUB_API_TOKEN), which the hub
lets carry ``access:services!service=grader``; the browser never sees that token and
never talks to the grader directly.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import quote, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Float, Unicode, default
from traitlets.config import Configurable

from .errors import GraderNotConfigured, GraderRefused, GraderUnavailable


class GraderClient(Configurable):
    """Calls the grader service's REST API (``<grader_url>api/...``)."""

    grader_url = Unicode(
        help="""Base URL of the grader service, ending in '/services/grader/'.
        Default: env STUDIO_GRADER_URL; else the hub's host (from JUPYTERHUB_API_URL) with
        JUPYTERHUB_BASE_URL + 'services/grader/'. In a container, set STUDIO_GRADER_URL to an
        address the container can reach (for example http://hub:10101/services/grader/).""",
    ).tag(config=True)

    @default("grader_url")
    def _default_grader_url(self) -> str:
        if os.environ.get("STUDIO_GRADER_URL"):
            return os.environ["STUDIO_GRADER_URL"]
        api = os.environ.get("JUPYTERHUB_API_URL", "")
        if not api:
            return ""
        parsed = urlparse(api)
        base = os.environ.get("JUPYTERHUB_BASE_URL", "/")
        return f"{parsed.scheme}://{parsed.netloc}{base.rstrip('/')}/services/grader/"

    api_token = Unicode(
        help="Token sent to the grader. Default: env JUPYTERHUB_API_TOKEN (this server's token).",
    ).tag(config=True)

    @default("api_token")
    def _default_api_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    request_timeout = Float(
        30.0, help="Seconds to wait for one grader answer before reporting it unavailable."
    ).tag(config=True)

    tutor_timeout = Float(
        240.0, help="""Seconds one tutor answer may stream for (the grader waits on the model,
        and may write the answer a second time when the first came too close to the
        solution).""",
    ).tag(config=True)

    draft_timeout = Float(
        180.0, help="""Seconds to wait for the grader to answer a request for an AI draft
        (it waits for the model, up to the grader's GRADER_AI_TIMEOUT, then checks it).""",
    ).tag(config=True)

    def url(self, path: str) -> str:
        if not self.grader_url:
            raise GraderNotConfigured(
                "this server does not know where the grader service is: set STUDIO_GRADER_URL "
                "(or run it under JupyterHub, which sets JUPYTERHUB_API_URL)"
            )
        return self.grader_url.rstrip("/") + "/api/" + path.lstrip("/")

    async def request(
        self, method: str, path: str, body: Any = None, raw: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """One grader call; JSON in and out unless ``raw`` (then ``(bytes, headers)``)."""
        timeout = timeout or self.request_timeout
        url = self.url(path)
        headers = {"Authorization": f"token {self.api_token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        req = HTTPRequest(
            url, method=method, headers=headers, body=data,
            request_timeout=timeout, connect_timeout=min(10.0, timeout),
            follow_redirects=False,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            if e.response is None or e.code == 599:
                raise GraderUnavailable(
                    f"the grader service at {self.grader_url} did not answer ({e}); your work is "
                    "safe in your folder: try again in a minute, or tell your instructor"
                ) from None
            raise _refusal(e.code, e.response.body, e.response.headers.get("Retry-After")) \
                from None
        except OSError as e:
            raise GraderUnavailable(
                f"the grader service at {self.grader_url} cannot be reached ({e}); your work is "
                "safe in your folder: try again in a minute, or tell your instructor"
            ) from None
        if raw:
            return resp.body, resp.headers
        return json.loads(resp.body or b"null")

    # ---- the learner API, one method per call ------------------------------------------

    async def courses(self) -> list[dict]:
        return await self.request("GET", "courses")

    async def assignments(self, course: str) -> list[dict]:
        return await self.request("GET", f"courses/{q(course)}/assignments")

    async def release(self, course: str, assignment: str) -> dict:
        """The student version, with its files decoded to bytes."""
        out = await self.request("GET", f"courses/{q(course)}/assignments/{q(assignment)}/release")
        out["files"] = {k: base64.b64decode(v) for k, v in out.get("files", {}).items()}
        return out

    async def submit(self, course: str, assignment: str, files: dict[str, bytes]) -> dict:
        body = {"files": {k: base64.b64encode(v).decode() for k, v in files.items()}}
        return await self.request(
            "POST", f"courses/{q(course)}/assignments/{q(assignment)}/submissions", body
        )

    async def submissions(self, course: str, assignment: str) -> list[dict]:
        return await self.request(
            "GET", f"courses/{q(course)}/assignments/{q(assignment)}/submissions"
        )

    async def submission(self, submission_id: int) -> dict:
        return await self.request("GET", f"submissions/{int(submission_id)}")

    async def feedback(self, submission_id: int, notebook: str) -> bytes:
        body, _ = await self.request(
            "GET", f"submissions/{int(submission_id)}/feedback/{q(notebook)}", raw=True
        )
        return body

    async def hints(self, course: str, assignment: str, notebook: str, cell: str) -> dict:
        """One cell's hints from the student version (not the whole release)."""
        query = f"?notebook={q(notebook)}&cell={q(cell)}"
        return await self.request(
            "GET", f"courses/{q(course)}/assignments/{q(assignment)}/hints{query}"
        )

    async def lessons(self, course: str) -> list[dict]:
        return await self.request("GET", f"courses/{q(course)}/lessons")

    async def lesson(self, course: str, lesson: str) -> dict:
        """One lesson with its files decoded to bytes."""
        out = await self.request("GET", f"courses/{q(course)}/lessons/{q(lesson)}")
        out["files"] = {k: base64.b64decode(v) for k, v in out.get("files", {}).items()}
        return out

    # ---- instructor calls -------------------------------------------------------------

    async def publish_release(
        self, course: str, assignment: str, files: dict[str, bytes], options: dict
    ) -> dict:
        body = {
            "files": {k: base64.b64encode(v).decode() for k, v in files.items()},
            **options,
        }
        return await self.request(
            "POST", f"courses/{q(course)}/assignments/{q(assignment)}/release", body
        )

    async def statistics(self, course: str, assignment: str) -> dict:
        return await self.request(
            "GET", f"courses/{q(course)}/assignments/{q(assignment)}/statistics"
        )

    async def storage(self, course: str) -> dict:
        return await self.request("GET", f"courses/{q(course)}/storage")

    async def grades_csv(self, course: str, assignment: str) -> bytes:
        body, _ = await self.request(
            "GET", f"courses/{q(course)}/grades.csv?assignment={q(assignment)}", raw=True
        )
        return body

    async def release_feedback(self, submission_id: int, notebook: str, html: str) -> dict:
        return await self.request(
            "PUT", f"submissions/{int(submission_id)}/feedback/{q(notebook)}", {"html": html}
        )

    async def regrade(self, submission_id: int) -> dict:
        return await self.request("POST", f"submissions/{int(submission_id)}/regrade", {})

    async def manual_grade(
        self, submission_id: int, notebook: str, cell_id: str, body: dict
    ) -> dict:
        return await self.request(
            "PUT", f"submissions/{int(submission_id)}/grades/{q(notebook)}/{q(cell_id)}", body
        )


    # ---- the AI tutor (grader.service.apihandlers.tutor) -----------------------------

    async def tutor_status(self, course: str, assignment: str) -> dict:
        """Is the tutor on for this assignment for the caller, and if not, why."""
        return await self.request("GET", f"courses/{q(course)}/assignments/{q(assignment)}/tutor")

    async def tutor(
        self, course: str, assignment: str, body: dict, on_chunk, cancelled
    ) -> None:
        """Ask the tutor; the grader's Server-Sent Events go to ``on_chunk(bytes)`` as they
        arrive. A refusal before the stream starts (policy off, a limit, no key, a bad
        request) raises GraderRefused with the grader's message; ``cancelled()`` turning
        true (the browser went away) stops reading, which the grader records as such."""
        url = self.url(f"courses/{q(course)}/assignments/{q(assignment)}/tutor")
        status: dict = {}
        refused = bytearray()

        def on_header(line: str) -> None:
            if line.startswith("HTTP/"):
                parts = line.split()
                if len(parts) > 1 and parts[1].isdigit():
                    status["code"] = int(parts[1])
            elif line.lower().startswith("retry-after:"):
                status["retry_after"] = line.split(":", 1)[1].strip()

        def on_body(chunk: bytes) -> None:
            if cancelled():
                raise TutorCancelled()
            if status.get("code") == 200:
                on_chunk(chunk)
            elif len(refused) < 65536:
                refused.extend(chunk)

        req = HTTPRequest(
            url, method="POST", body=json.dumps(body),
            headers={"Authorization": f"token {self.api_token}",
                     "Content-Type": "application/json", "Accept": "text/event-stream"},
            request_timeout=self.tutor_timeout, connect_timeout=10.0,
            follow_redirects=False, header_callback=on_header, streaming_callback=on_body,
        )
        try:
            await AsyncHTTPClient().fetch(req)
        except TutorCancelled:
            return
        except HTTPClientError as e:
            if cancelled():
                return
            if e.code == 599 or "code" not in status:
                raise GraderUnavailable(
                    f"the grader service at {self.grader_url} did not answer ({e}); try the "
                    "tutor again in a minute"
                ) from None
            raise _refusal(e.code, bytes(refused), status.get("retry_after")) from None
        except OSError as e:
            raise GraderUnavailable(
                f"the grader service at {self.grader_url} cannot be reached ({e}); try the "
                "tutor again in a minute"
            ) from None

    # ---- AI drafts (instructors of the course; grader.service.drafts) ------------------

    async def create_draft(self, course: str, body: dict) -> dict:
        """Ask the grader for an AI draft; the stored draft with its notebook."""
        return await self.request("POST", f"courses/{q(course)}/drafts", body,
                                  timeout=self.draft_timeout)

    async def drafts(self, course: str) -> list[dict]:
        return await self.request("GET", f"courses/{q(course)}/drafts")

    async def draft(self, course: str, draft_id: int) -> dict:
        return await self.request("GET", f"courses/{q(course)}/drafts/{int(draft_id)}")


class TutorCancelled(Exception):
    """The learner closed the page mid-answer: stop reading the grader's stream."""


def q(segment: str) -> str:
    return quote(segment, safe="")


def _refusal(status: int, body: bytes | None, retry_after: str | None = None) -> GraderRefused:
    wait = _seconds(retry_after)
    try:
        err = json.loads(body or b"{}")["error"]
        return GraderRefused(status, err.get("code", f"HTTP{status}"), err.get("message", ""),
                             retry_after=wait)
    except (ValueError, KeyError, TypeError):
        text = (body or b"").decode(errors="replace")[:300]
        return GraderRefused(status, f"HTTP{status}", f"the grader answered {status}: {text}",
                             retry_after=wait)


def _seconds(retry_after: str | None) -> int | None:
    """Retry-After in seconds (the grader sends seconds; an HTTP date is not expected)."""
    try:
        return max(1, int(retry_after)) if retry_after else None
    except ValueError:
        return None
