"""The grader's client of an OpenAI-compatible endpoint (the real `openai` package).

Settings (grader.service.config.GraderSettings): openai_api_key, openai_base_url,
openai_model (env OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL: the names the site uses;
the hub passes them to the grader) and ai_timeout (env GRADER_AI_TIMEOUT). With neither a
key nor a base URL AI is off, and `AIEndpoint.off_reason()` says how to turn it on.

Failures are named exceptions whose message is a sentence for the person waiting (no key,
URL or server detail): AITimeout, AIHTTPError, AIUnreachable, AIMalformedAnswer, all
AIUnavailable (503 for an API caller). The detail goes to the log, with the user, course
and assignment given as `context`.

    ai = AIEndpoint(settings)
    answer = await ai.complete(messages, context={"user": ..., "course": ..., "assignment": ...})
    answer.text, answer.usage.prompt_tokens
    data, usage = await ai.complete_json(messages)   # response_format json_object

    stream = ai.stream(messages, context=...)
    async for piece in stream:      # text pieces as the model writes them
        ...
    stream.usage                    # filled once the stream has ended
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import openai

from grader.service.config import GraderSettings

__all__ = ["AIEndpoint", "AIHTTPError", "AIMalformedAnswer", "AIOff", "AITimeout",
           "AIUnavailable", "AIUnreachable", "Answer", "AnswerStream", "HOW_TO_TURN_ON",
           "Usage"]

log = logging.getLogger("grader.ai")

HOW_TO_TURN_ON = ("no AI endpoint is configured (operator: set OPENAI_API_KEY or "
                  "OPENAI_BASE_URL, and optionally OPENAI_MODEL, for the grader)")


class AIOff(Exception):
    """No endpoint is configured."""

    def __init__(self) -> None:
        super().__init__(f"AI is off: {HOW_TO_TURN_ON}")


class AIUnavailable(Exception):
    """The endpoint did not give a usable answer; the message says so for the person waiting."""


class AITimeout(AIUnavailable):
    pass


class AIHTTPError(AIUnavailable):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class AIUnreachable(AIUnavailable):
    pass


class AIMalformedAnswer(AIUnavailable):
    pass


@dataclass
class Usage:
    """Tokens of one request. estimated: the endpoint sent no usage (some local servers
    do not), so the counts are guessed from the text (about 4 characters a token)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class Answer:
    text: str
    usage: Usage = field(default_factory=Usage)


def estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def _prompt_chars(messages: list[dict]) -> str:
    return "".join(str(m.get("content") or "") for m in messages)


class AIEndpoint:
    """One configured OpenAI-compatible endpoint."""

    def __init__(self, settings: GraderSettings) -> None:
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None

    def enabled(self) -> bool:
        return bool(self.settings.openai_api_key or self.settings.openai_base_url)

    def off_reason(self) -> str:
        """A sentence saying why AI is off ("" when it is on)."""
        return "" if self.enabled() else f"The AI tutor is off: {HOW_TO_TURN_ON}."

    @property
    def model(self) -> str:
        return self.settings.openai_model or "gpt-4o-mini"

    def client(self) -> openai.AsyncOpenAI:
        if not self.enabled():
            raise AIOff()
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self.settings.openai_api_key or "not-needed",
                base_url=self.settings.openai_base_url or None,
                # read timeout: also the longest pause between two pieces of a stream
                timeout=self.settings.ai_timeout,
                # one attempt: a person is waiting; a retry doubles the wait on a slow endpoint
                max_retries=0,
            )
        return self._client

    async def complete(self, messages: list[dict], *, context: dict | None = None,
                       temperature: float = 0.3, max_tokens: int | None = None,
                       want_json: bool = False) -> Answer:
        """One chat completion: its text and usage."""
        client = self.client()
        kwargs: dict = {}
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        if want_json:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = await asyncio.wait_for(
                client.chat.completions.create(model=self.model, messages=messages,
                                               temperature=temperature, **kwargs),
                self.settings.ai_timeout)
        except Exception as error:  # noqa: BLE001 - translated into named errors
            raise self._translate(error, context) from error
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as error:
            log.warning("AI endpoint sent no choices", extra=context or {})
            raise AIMalformedAnswer("The AI endpoint sent an empty answer.") from error
        if not isinstance(text, str) or not text.strip():
            log.warning("AI endpoint sent an empty answer", extra=context or {})
            raise AIMalformedAnswer("The AI endpoint sent an empty answer.")
        usage = getattr(response, "usage", None)
        if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
            used = Usage(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
        else:
            used = Usage(estimate_tokens(_prompt_chars(messages)), estimate_tokens(text), True)
        return Answer(text, used)

    async def complete_json(self, messages: list[dict], *, context: dict | None = None,
                            temperature: float = 0.3, max_tokens: int | None = None
                            ) -> tuple[dict, Usage]:
        """A completion asked for as a JSON object (response_format json_object): the
        object and the usage. AIMalformedAnswer if it is not one."""
        answer = await self.complete(messages, context=context, temperature=temperature,
                                     max_tokens=max_tokens, want_json=True)
        text = answer.text.strip()
        if text.startswith("```"):  # models like to fence JSON even when asked not to
            text = text.strip("`")
            text = text[text.find("{"):]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            log.warning("AI answer is not JSON: %.200r", text, extra=context or {})
            raise AIMalformedAnswer("The AI answer was not the JSON that was asked for; try "
                                    "again.") from error
        if not isinstance(data, dict):
            raise AIMalformedAnswer("The AI answer was not a JSON object; try again.")
        return data, answer.usage

    def stream(self, messages: list[dict], *, context: dict | None = None,
               temperature: float = 0.3, max_tokens: int | None = None) -> AnswerStream:
        """A streamed chat completion: iterate it for text pieces; then read .usage."""
        return AnswerStream(self, messages, context or {}, temperature, max_tokens)

    def _translate(self, error: BaseException, context: dict | None) -> AIUnavailable:
        extra = context or {}
        timeout = self.settings.ai_timeout
        if isinstance(error, AIUnavailable):
            return error
        if isinstance(error, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
            log.warning("AI endpoint timeout (%gs)", timeout, extra=extra)
            return AITimeout(f"The AI endpoint did not answer within {timeout:g} s; try again "
                             "later.")
        if isinstance(error, openai.APIStatusError):
            log.warning("AI endpoint answered HTTP %s: %s", error.status_code, error.message,
                        extra=extra)
            return AIHTTPError(f"The AI endpoint answered with an error (HTTP "
                               f"{error.status_code}); try again later.", error.status_code)
        if isinstance(error, openai.APIConnectionError | httpx.TransportError):
            log.warning("AI endpoint unreachable: %s", error, extra=extra)
            return AIUnreachable("The AI endpoint cannot be reached; try again later.")
        if isinstance(error, openai.APIError | ValueError | json.JSONDecodeError | TypeError
                      | AttributeError | KeyError):
            # the server sent something that is not the API's JSON
            log.warning("AI endpoint sent a malformed answer: %r", error, extra=extra)
            return AIMalformedAnswer("The AI endpoint sent an answer that is not a valid "
                                     "completion.")
        raise error


class AnswerStream:
    """The pieces of one streamed completion, then its usage (asked for with
    stream_options.include_usage; estimated from the text if the endpoint sends none)."""

    def __init__(self, endpoint: AIEndpoint, messages: list[dict], context: dict,
                 temperature: float, max_tokens: int | None) -> None:
        self.endpoint = endpoint
        self.messages = messages
        self.context = context
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.usage = Usage()
        self.text = ""

    def spent(self) -> Usage:
        """The usage so far: the endpoint's, or estimated (a stream stopped early)."""
        if self.usage.prompt_tokens or self.usage.completion_tokens:
            return self.usage
        return Usage(estimate_tokens(_prompt_chars(self.messages)), estimate_tokens(self.text),
                     True)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        client = self.endpoint.client()
        kwargs: dict = {}
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        got_usage = False
        stream = None
        try:
            stream = await client.chat.completions.create(
                model=self.endpoint.model, messages=self.messages,
                temperature=self.temperature, stream=True,
                stream_options={"include_usage": True}, **kwargs)
            async for chunk in stream:
                usage = getattr(chunk, "usage", None)
                if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
                    self.usage = Usage(int(usage.prompt_tokens or 0),
                                       int(usage.completion_tokens or 0))
                    got_usage = True
                for choice in chunk.choices or []:
                    piece = getattr(choice.delta, "content", None) if choice.delta else None
                    if piece:
                        self.text += piece
                        yield piece
        except (GeneratorExit, asyncio.CancelledError):
            raise
        except Exception as error:  # noqa: BLE001 - translated into named errors
            raise self.endpoint._translate(error, self.context) from error
        finally:
            if stream is not None:
                await stream.close()
        if not self.text.strip():
            log.warning("AI endpoint streamed an empty answer", extra=self.context)
            raise AIMalformedAnswer("The AI endpoint sent an empty answer.")
        if not got_usage:
            self.usage = Usage(estimate_tokens(_prompt_chars(self.messages)),
                               estimate_tokens(self.text), True)
