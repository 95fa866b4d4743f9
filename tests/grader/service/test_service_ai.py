"""The grader's AI client (grader.service.ai) against the local OpenAI-compatible server:
streaming with usage, scripted replies, and each failure as its named error."""

from __future__ import annotations

import time

import pytest
from fake_ai import FakeOpenAIServer

from grader.service.ai import (
    AIEndpoint,
    AIHTTPError,
    AIMalformedAnswer,
    AIOff,
    AITimeout,
    AIUnreachable,
    estimate_tokens,
)
from grader.service.config import GraderSettings

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "why?"}]


@pytest.fixture
def server():
    with FakeOpenAIServer() as s:
        yield s


def endpoint(server=None, **kw) -> AIEndpoint:
    settings = GraderSettings(openai_api_key=kw.pop("key", ""),
                              openai_base_url=server.base_url if server else kw.pop("url", ""),
                              openai_model="tiny-local", ai_timeout=kw.pop("timeout", 5.0))
    return AIEndpoint(settings)


async def test_stream_gives_pieces_then_usage(server):
    server.reply = "Look at the range: where does it start?"
    server.chunk_delay = 0.05
    stream = endpoint(server).stream(MESSAGES, context={"user": "ann"})
    seen, times = [], []
    start = time.monotonic()
    async for piece in stream:
        seen.append(piece)
        times.append(time.monotonic() - start)
    assert "".join(seen) == server.reply and len(seen) == 8
    # pieces arrive as they are written, not all at the end
    assert times[-1] - times[0] >= 0.25
    assert stream.usage.completion_tokens == 8 and stream.usage.prompt_tokens > 0
    assert not stream.usage.estimated
    body = server.requests[-1]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "tiny-local" and body["messages"] == MESSAGES


async def test_scripted_replies_then_the_default(server):
    server.replies = ["first", "second"]
    server.reply = "default"
    ai = endpoint(server)
    got = [(await ai.complete(MESSAGES)).text for _ in range(3)]
    assert got == ["first", "second", "default"]
    answer = await ai.complete(MESSAGES)
    assert answer.usage.prompt_tokens == 1 and answer.usage.completion_tokens == 1


async def test_complete_json(server):
    ai = endpoint(server)
    server.replies = [{"title": "Squares", "cells": []}, '```json\n{"a": 1}\n```', "[1, 2]",
                      "not json at all"]
    data, usage = await ai.complete_json(MESSAGES)
    assert data == {"title": "Squares", "cells": []} and usage.completion_tokens == 1
    assert server.requests[-1]["body"]["response_format"] == {"type": "json_object"}
    assert (await ai.complete_json(MESSAGES))[0] == {"a": 1}
    with pytest.raises(AIMalformedAnswer, match="not a JSON object"):
        await ai.complete_json(MESSAGES)
    with pytest.raises(AIMalformedAnswer, match="not the JSON"):
        await ai.complete_json(MESSAGES)


async def test_the_key_is_sent_as_bearer(server):
    await endpoint(server, key="sk-test-123").complete(MESSAGES)
    assert server.requests[-1]["auth"] == "Bearer sk-test-123"


@pytest.mark.parametrize("mode,error", [("error500", AIHTTPError), ("slow", AITimeout),
                                        ("malformed", AIMalformedAnswer),
                                        ("empty", AIMalformedAnswer)])
async def test_failures_are_named(server, mode, error, caplog):
    server.mode = mode
    server.delay = 3.0
    ai = endpoint(server, timeout=1.0)
    with pytest.raises(error) as info:
        await ai.complete(MESSAGES, context={"user": "ann", "course": "c1", "assignment": "a1"})
    assert "127.0.0.1" not in str(info.value)  # no endpoint detail for the learner
    with pytest.raises(error):
        async for _ in ai.stream(MESSAGES):
            pass
    record = [r for r in caplog.records if r.name == "grader.ai"][0]
    assert (record.user, record.course, record.assignment) == ("ann", "c1", "a1")


async def test_unreachable():
    ai = endpoint(url="http://127.0.0.1:9/v1", timeout=2.0)
    with pytest.raises(AIUnreachable, match="cannot be reached"):
        await ai.complete(MESSAGES)


async def test_off_without_key_or_url():
    ai = endpoint()
    assert not ai.enabled()
    assert "OPENAI_API_KEY" in ai.off_reason() and "OPENAI_BASE_URL" in ai.off_reason()
    with pytest.raises(AIOff):
        await ai.complete(MESSAGES)


def test_settings_come_from_the_standard_names(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://ai.test/v1")
    monkeypatch.setenv("OPENAI_MODEL", "local-model")
    monkeypatch.setenv("GRADER_AI_TIMEOUT", "7")
    s = GraderSettings()
    assert (s.openai_api_key, s.openai_base_url, s.openai_model, s.ai_timeout) == (
        "sk-env", "http://ai.test/v1", "local-model", 7.0)
    assert AIEndpoint(s).enabled()


def test_usage_is_estimated_without_usage():
    assert estimate_tokens("x" * 40) == 10
