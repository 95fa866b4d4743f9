"""The base of every REST handler: hub authentication, JSON in and out, named errors."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging

from jupyterhub.services.auth import HubOAuthenticated
from tornado import web

from grader.engine.sandbox import SandboxUnavailable
from grader.service.auth import person_from_model
from grader.service.errors import Forbidden, GraderError, InvalidRequest
from grader.service.gradebook import Gradebook
from grader.service.permissions import Person

log = logging.getLogger("grader.api")


class GraderAPIHandler(HubOAuthenticated, web.RequestHandler):
    """Every request must carry a hub token (or the hub's OAuth cookie, for GETs)."""

    person: Person
    public = False  # True: no hub identity needed (health, OpenAPI document)

    @property
    def hub_auth(self):
        return self.settings["hub_auth"]

    @property
    def gradebook(self) -> Gradebook:
        return self.settings["gradebook"]

    def get_login_url(self):
        # An API never redirects to a login page: a missing token is a 403 with a reason.
        raise web.HTTPError(403)

    def check_xsrf_cookie(self):
        # Writes are only accepted with a token (checked in prepare), so no XSRF applies.
        return

    async def prepare(self) -> None:
        self.set_header("Cache-Control", "no-store")
        if self.public:
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            raise Forbidden(
                "no valid JupyterHub token: send 'Authorization: token <token>' with your "
                "server's $JUPYTERHUB_API_TOKEN or a token from the hub's token page"
            )
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            raise Forbidden(
                f"the token of {model.get('name')} lacks the scope "
                f"{' or '.join(sorted(self.hub_auth.access_scopes))}: ask the hub admin to "
                "grant it (see docs/grader-operator.md)"
            )
        token_auth = getattr(self, "_token_authenticated", False)
        if self.request.method not in ("GET", "HEAD") and not token_auth:
            raise Forbidden("changes need a token in the Authorization header, not a cookie")
        self.person = person_from_model(model)

    async def run(self, fn, *args, **kwargs):
        """Call the (blocking, database) gradebook off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def write_json(self, data, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, default=_jsonable))

    def json_body(self) -> dict:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise InvalidRequest("request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidRequest("request body must be a JSON object")
        return data

    def uploaded(self) -> tuple[dict[str, bytes], dict]:
        """Files and fields of a multipart form, or of JSON {"files": {path: base64}, ...}."""
        ctype = self.request.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            data = self.json_body()
            raw = data.pop("files", None)
            if not isinstance(raw, dict):
                raise InvalidRequest('JSON uploads need "files": {"path": "<base64>"}')
            files = {}
            for name, b64 in raw.items():
                try:
                    files[name] = base64.b64decode(b64, validate=True)
                except (binascii.Error, TypeError):
                    raise InvalidRequest(f"file {name!r} is not valid base64") from None
            return files, data
        files = {}
        for field_files in self.request.files.values():
            for f in field_files:
                if f.filename in files:
                    raise InvalidRequest(f"file {f.filename!r} is uploaded twice: rename one")
                files[f.filename] = f.body
        fields = {k: self.get_body_argument(k) for k in self.request.body_arguments}
        return files, fields

    def write_error(self, status_code: int, **kwargs) -> None:
        body = self.error_body(status_code, **kwargs)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body))

    def error_body(self, status_code: int, **kwargs) -> dict:
        """{"error": {"code", "message"}}; sets the status (and Retry-After) it implies."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, GraderError):
            self.set_status(exc.status)
            body = {"error": {"code": exc.code, "message": exc.message}}
            if getattr(exc, "report", None):
                body["error"]["report"] = exc.report
            if getattr(exc, "retry_after", None):
                self.set_header("Retry-After", str(exc.retry_after))
        elif isinstance(exc, SandboxUnavailable):
            self.set_status(503)
            body = {"error": {"code": "SandboxUnavailable", "message": str(exc)}}
        else:
            message = self._reason
            if isinstance(exc, web.HTTPError) and exc.log_message:
                message = exc.log_message % exc.args if exc.args else exc.log_message
            body = {"error": {"code": f"HTTP{status_code}", "message": message}}
        return body

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, GraderError | SandboxUnavailable):
            person = getattr(self, "person", None)
            log.warning(
                "%s %s -> %s: %s",
                self.request.method,
                self.request.path,
                getattr(value, "code", type(value).__name__),
                str(value),
                extra={"user": person.name if person else None,
                       "course": self.path_kwargs.get("course"),
                       "assignment": self.path_kwargs.get("assignment")},
            )
            return
        super().log_exception(typ, value, tb)


def encode_files(files: dict[str, bytes]) -> dict[str, str]:
    return {name: base64.b64encode(data).decode() for name, data in files.items()}


def _jsonable(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
