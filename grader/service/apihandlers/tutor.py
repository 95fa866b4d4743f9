"""The AI tutor's routes (what they answer: docs/instructor-guide.md, the OpenAPI document).

POST .../assignments/<a>/tutor streams the answer as Server-Sent Events (start, delta,
reset, done, error). Each piece of the model's answer goes through the leak check's gate
(grader.service.leakcheck.ReplyGate) before it is written: prose line by line, code
blocks whole. A reply too close to the solution is withdrawn (`reset`) and written again
once under a stricter instruction; if that one is too close as well, it is withheld.

Errors before the stream starts are JSON with a top-level "message" (and the grader's
usual "error": {"code", "message"}).
"""

from __future__ import annotations

import json
import logging

from tornado.iostream import StreamClosedError

from grader.service.ai import AIEndpoint, AIUnavailable, Usage
from grader.service.apihandlers.base import GraderAPIHandler
from grader.service.errors import InvalidRequest, TutorUnavailable
from grader.service.leakcheck import LeakFound, ReplyGate
from grader.service.tutor import RESET_MESSAGE, WITHHELD_MESSAGE, TutorTurn

log = logging.getLogger("grader.tutor")


class TutorAPIHandler(GraderAPIHandler):
    @property
    def ai(self) -> AIEndpoint:
        return self.settings["ai"]

    def error_body(self, status_code: int, **kwargs) -> dict:
        body = super().error_body(status_code, **kwargs)
        body["message"] = body["error"]["message"]
        return body


class TutorHandler(TutorAPIHandler):
    async def get(self, course, assignment):
        """Is the tutor on for this assignment, and if not, why."""
        self.write_json(await self.run(self.gradebook.tutor.status, self.person, course,
                                       assignment, self.ai.off_reason()))

    async def post(self, course, assignment):
        turn = await self.run(self.gradebook.tutor.begin, self.person, course, assignment,
                              self.json_body(), self.ai.off_reason())
        await Answering(self, turn).run()


class Answering:
    """One streamed answer: the model's pieces through the gate to the learner."""

    def __init__(self, handler: TutorHandler, turn: TutorTurn) -> None:
        self.handler = handler
        self.turn = turn
        self.settings = handler.gradebook.settings
        self.metrics = handler.settings.get("metrics")
        self.started = False
        self.usage = Usage()

    async def begin_stream(self) -> None:
        """The 200, the headers and the start event, once: before them, errors are JSON."""
        if self.started:
            return
        self.started = True
        h = self.handler
        h.set_status(200)
        h.set_header("Content-Type", "text/event-stream; charset=utf-8")
        h.set_header("Cache-Control", "no-store")
        h.set_header("X-Accel-Buffering", "no")  # a buffering proxy would hold it all
        await self._write("start", {"conversation": self.turn.conversation_id})

    async def event(self, name: str, data: dict) -> None:
        await self.begin_stream()
        await self._write(name, data)

    async def _write(self, name: str, data: dict) -> None:
        self.handler.write(f"event: {name}\ndata: {json.dumps(data)}\n\n")
        await self.handler.flush()

    async def run(self) -> None:
        outcome, shown, withheld, message = "error", "", False, None
        try:
            for attempt in (0, 1):
                try:
                    shown = await self.attempt(self.turn.messages if attempt == 0
                                               else self.turn.strict_messages)
                    outcome = "answered" if attempt == 0 else "regenerated"
                    break
                except LeakFound as leak:
                    log.warning("tutor reply %d too close to the solution (%s: %s)%s",
                                self.turn.request_id, leak.violation.kind,
                                leak.violation.detail,
                                "; regenerating" if attempt == 0 else "; withheld",
                                extra=self.turn.log_context)
                    self.count("leak_" + leak.violation.kind)
                    if attempt == 0:
                        await self.event("reset", {"message": RESET_MESSAGE})
                    else:
                        await self.event("reset", {"message": WITHHELD_MESSAGE})
                        outcome, shown, withheld, message = ("withheld", WITHHELD_MESSAGE,
                                                             True, WITHHELD_MESSAGE)
            await self.record(outcome, shown, withheld)
            await self.event("done", {"withheld": withheld, "message": message,
                                      "remaining_today": self.turn.remaining_today,
                                      "usage": self.usage.as_dict()})
        except AIUnavailable as error:
            await self.record("error", "")
            if not self.started:
                raise TutorUnavailable(str(error)) from error
            await self._safe_event("error", {"message": str(error)})
        except StreamClosedError:
            log.info("tutor request %d: the learner went away", self.turn.request_id,
                     extra=self.turn.log_context)
            await self.record("cancelled", "")
        except Exception:
            log.exception("tutor request %d failed", self.turn.request_id,
                          extra=self.turn.log_context)
            await self.record("error", "")
            if not self.started:
                raise
            await self._safe_event("error", {"message": "The tutor failed; try again later."})
        if self.started:
            self.handler.finish()

    async def attempt(self, messages: list[dict]) -> str:
        """One answer through the gate; returns what was shown. Raises LeakFound."""
        stream = self.handler.ai.stream(messages, context=self.turn.log_context,
                                        max_tokens=self.settings.tutor_max_answer_tokens)
        pieces = stream.__aiter__()
        gate = ReplyGate(self.turn.guard)
        try:
            async for piece in pieces:
                await self.begin_stream()  # at the first piece: an endpoint down is a JSON 503
                text = gate.feed(piece)
                if text:
                    await self.event("delta", {"text": text})
            text = gate.finish()
            if text:
                await self.event("delta", {"text": text})
            return "".join(gate.shown)
        finally:
            await pieces.aclose()
            spent = stream.spent()
            self.usage.prompt_tokens += spent.prompt_tokens
            self.usage.completion_tokens += spent.completion_tokens

    async def record(self, outcome: str, answer: str, withheld: bool = False) -> None:
        self.count(outcome)
        if self.metrics is not None:
            self.metrics.tutor_tokens.labels("prompt").inc(self.usage.prompt_tokens)
            self.metrics.tutor_tokens.labels("completion").inc(self.usage.completion_tokens)
        try:
            await self.handler.run(
                self.handler.gradebook.tutor.finish, self.turn, answer=answer, outcome=outcome,
                prompt_tokens=self.usage.prompt_tokens,
                completion_tokens=self.usage.completion_tokens, withheld=withheld)
        except Exception:
            log.exception("tutor request %d: its usage could not be recorded",
                          self.turn.request_id, extra=self.turn.log_context)

    def count(self, what: str) -> None:
        if self.metrics is not None:
            self.metrics.tutor_event(what)

    async def _safe_event(self, name: str, data: dict) -> None:
        try:
            await self.event(name, data)
        except StreamClosedError:
            pass


class TutorConversationsHandler(TutorAPIHandler):
    async def get(self, course, assignment):
        """The caller's own conversations about this assignment (?user=<learner>: an
        instructor reads a learner's)."""
        self.write_json(await self.run(self.gradebook.tutor.conversations, self.person, course,
                                       assignment, self.get_query_argument("user", None)))


class TutorConversationHandler(TutorAPIHandler):
    async def get(self, course, conversation_id):
        self.write_json(await self.run(self.gradebook.tutor.conversation, self.person, course,
                                       int(conversation_id)))


class TutorUsageHandler(TutorAPIHandler):
    async def get(self, course):
        """?days=<n> (default 30): requests, tokens, cost, what was asked per exercise."""
        try:
            days = int(self.get_query_argument("days", "30"))
        except ValueError:
            raise InvalidRequest("days must be a whole number of days, like ?days=7") from None
        if not 1 <= days <= 366:
            raise InvalidRequest("days must be between 1 and 366")
        self.write_json(await self.run(self.gradebook.tutor.usage, self.person, course, days))


class TutorPolicyHandler(TutorAPIHandler):
    async def get(self, course):
        self.write_json(await self.run(self.gradebook.tutor.policies, self.person, course))

    async def put(self, course):
        body = self.json_body()
        if "policy" not in body:
            raise InvalidRequest('give {"policy": "off"|"hints"|"explain"|"open", '
                                 '"assignment": "<name>" or null for the course default}')
        self.write_json(await self.run(self.gradebook.tutor.set_policy, self.person, course,
                                       body.get("policy"), body.get("assignment")))
