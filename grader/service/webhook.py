"""Grade events to the site: signed JSON POSTs, retried until delivered.

Events are rows (WebhookDelivery) written in the same transaction as the grade, so a
grade is never stored without its event and a crash loses no event. A sender loop posts
them; any 2xx marks one delivered, anything else is retried with doubling backoff up to
webhook_max_attempts. The body is the grade event of studio_contracts.events (checked
against its schema when it is queued) and is signed with studio_contracts.signing, so the
site refuses forged and replayed events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

from sqlalchemy import select, update
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from grader.service.config import GraderSettings
from grader.service.orm import WebhookDelivery, utcnow
from studio_contracts.signing import SECRET_ENV, signed_headers

log = logging.getLogger("grader.service.webhook")


class CMSNotifier:
    def __init__(self, settings: GraderSettings, sessions):
        self.settings = settings
        self.sessions = sessions
        if settings.webhook_url and not settings.webhook_secret:
            raise ValueError(
                "GraderSettings.webhook_url is set but webhook_secret is empty: set "
                f"{SECRET_ENV} to the secret the site has"
            )

    def _due(self, limit: int = 20) -> list[tuple[int, str, dict, int]]:
        with self.sessions() as s:
            rows = s.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.event,
                    WebhookDelivery.payload,
                    WebhookDelivery.attempts,
                )
                .where(
                    WebhookDelivery.state == "pending",
                    WebhookDelivery.next_attempt_at <= utcnow(),
                )
                .order_by(WebhookDelivery.id)
                .limit(limit)
            ).all()
            return [tuple(r) for r in rows]

    def _record(self, delivery_id: int, attempts: int, error: str | None) -> None:
        values: dict = {"attempts": attempts + 1}
        if error is None:
            values["state"] = "delivered"
            values["last_error"] = ""
        else:
            values["last_error"] = error[:2000]
            if attempts + 1 >= self.settings.webhook_max_attempts:
                values["state"] = "dropped"
            else:
                values["next_attempt_at"] = utcnow() + dt.timedelta(seconds=min(2**attempts, 600))
        with self.sessions.begin() as s:
            # conditional on the attempt count: two grader processes never both record one try
            s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempts)
                .values(**values)
            )

    async def deliver_due(self) -> int:
        """Send every due event once; returns how many were delivered."""
        if not self.settings.webhook_url:
            return 0
        client = AsyncHTTPClient()
        delivered = 0
        for delivery_id, event, payload, attempts in await asyncio.to_thread(self._due):
            body = json.dumps({"delivery_id": delivery_id, **payload}, sort_keys=True).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Studio-Event": event,
                "X-Studio-Delivery": str(delivery_id),
                **signed_headers(self.settings.webhook_secret, body),
            }
            req = HTTPRequest(
                self.settings.webhook_url,
                method="POST",
                body=body,
                headers=headers,
                request_timeout=self.settings.webhook_timeout,
            )
            error = None
            try:
                await client.fetch(req)
            except HTTPClientError as e:
                error = f"HTTP {e.code}"
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            if error:
                log.warning(
                    "webhook %s for %s/%s (user %s) failed: %s",
                    event, payload.get("course"), payload.get("assignment"),
                    payload.get("username"), error,
                )
            else:
                delivered += 1
            await asyncio.to_thread(self._record, delivery_id, attempts, error)
        return delivered

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("webhook sender error, continuing")
            try:
                await asyncio.wait_for(stop.wait(), poll)
            except TimeoutError:
                pass
