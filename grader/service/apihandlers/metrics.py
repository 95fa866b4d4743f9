"""GET /metrics: the grader's Prometheus metrics, for the metrics token or an operator.

Who may read them: a caller with ``Authorization: Bearer <GraderSettings.metrics_token>``
(a Prometheus server; the stack gives its own the token in data/studio.env), or a hub
token of an operator (a hub admin, or a service in operator_services) with the grader's
access scope. Learners and instructors may not: queue depths and failure counts of every
course are the operator's business.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re

from jupyterhub.services.auth import HubOAuthenticated
from tornado import web

from grader.service.auth import person_from_model

# The classic text format, which every Prometheus reads (Debian bookworm's 2.42 as well).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BEARER = re.compile(r"^\s*(?:bearer|token)\s+(\S+)\s*$", re.IGNORECASE)


class MetricsHandler(HubOAuthenticated, web.RequestHandler):
    @property
    def hub_auth(self):
        return self.settings["hub_auth"]

    def get_login_url(self):
        raise web.HTTPError(403)

    def _refuse(self, message: str) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": {"code": "Forbidden", "message": message}}))

    def _has_metrics_token(self) -> bool:
        want = self.settings["metrics_token"]
        m = _BEARER.match(self.request.headers.get("Authorization", ""))
        return bool(want and m and hmac.compare_digest(m.group(1).encode(), want.encode()))

    async def _is_operator(self) -> bool:
        if self.hub_auth is None:
            return False
        model = await self.hub_auth.get_user(self, sync=False)
        if not model or not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            return False
        return self.settings["gradebook"].permissions.is_operator(person_from_model(model))

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        if not (self._has_metrics_token() or await self._is_operator()):
            return self._refuse(
                "the grader's metrics need the metrics token (GraderSettings.metrics_token, "
                "env GRADER_METRICS_TOKEN) as 'Authorization: Bearer <token>', or the hub "
                "token of an operator (a hub admin); see docs/grader-operator.md")
        metrics = self.settings["metrics"]
        if metrics is None:  # an application made without GraderApp.initialize()
            raise web.HTTPError(404)
        metrics.set_pool(self.settings.get("sandbox_pool"),
                         self.settings["gradebook"].settings.worker_count)
        body = await asyncio.to_thread(metrics.exposition)
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(body)
