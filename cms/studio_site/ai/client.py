"""Talking to an OpenAI-compatible endpoint through the real `openai` client.

Settings: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL (the older LS_AI_* names are
deprecated aliases), OPENAI_VISION_MODEL (for images; default OPENAI_MODEL) and LS_AI_TIMEOUT.
With neither a key nor a base URL the features are off and say so.
"""

from __future__ import annotations

import json
import logging

import openai
from django.conf import settings

from studio_site.base.ai_editor import HOW_TO_TURN_ON, ai_enabled

__all__ = ["HOW_TO_TURN_ON", "AIDraftingError", "AIOff", "ai_enabled", "complete",
           "complete_json", "vision_model"]

log = logging.getLogger(__name__)


class AIOff(Exception):
    """No endpoint is configured."""

    def __init__(self) -> None:
        super().__init__(HOW_TO_TURN_ON)


class AIDraftingError(Exception):
    """The endpoint failed, was too slow or answered something unusable; nothing was changed."""


def vision_model() -> str:
    """The model asked about images: OPENAI_VISION_MODEL, else OPENAI_MODEL."""
    return settings.AI_VISION_MODEL or settings.AI_MODEL


def _client() -> openai.OpenAI:
    if not ai_enabled():
        raise AIOff()
    return openai.OpenAI(
        api_key=settings.AI_API_KEY or "not-needed",
        base_url=settings.AI_BASE_URL or None,
        timeout=settings.AI_TIMEOUT_SECONDS,
        # One attempt: the editor is waiting; a retry doubles the wait on a slow endpoint.
        max_retries=0,
    )


def complete(system: str, prompt: str | list[dict], *, want_json: bool = False,
             context: str = "", model: str = "", max_tokens: int | None = None) -> str:
    """One chat completion; returns the text of the first choice. `prompt` is the user's
    message: text, or a list of content parts (text and image_url parts for a vision model).
    `model` overrides OPENAI_MODEL."""
    client = _client()
    kwargs = {}
    if want_json:
        kwargs["response_format"] = {"type": "json_object"}
    if max_tokens:
        kwargs["max_tokens"] = max_tokens
    try:
        response = client.chat.completions.create(
            model=model or settings.AI_MODEL,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            temperature=0.4,
            **kwargs,
        )
    except openai.APITimeoutError as error:
        log.warning("AI timeout %s", context)
        raise AIDraftingError(
            f"The AI endpoint did not answer within {settings.AI_TIMEOUT_SECONDS:g} s. "
            "Nothing was changed; try again later or raise LS_AI_TIMEOUT."
        ) from error
    except openai.APIStatusError as error:
        log.warning("AI endpoint status %s %s", error.status_code, context)
        raise AIDraftingError(
            f"The AI endpoint answered with an error (HTTP {error.status_code}). "
            "Nothing was changed; try again later or check OPENAI_BASE_URL / OPENAI_API_KEY."
        ) from error
    except openai.APIConnectionError as error:
        log.warning("AI endpoint unreachable %s: %s", context, error)
        raise AIDraftingError(
            "The AI endpoint cannot be reached. Nothing was changed; check OPENAI_BASE_URL."
        ) from error
    except (openai.APIError, ValueError, json.JSONDecodeError) as error:
        # ValueError/JSONDecodeError: the server sent something that is not the API's JSON.
        log.warning("AI endpoint bad answer %s: %s", context, error)
        raise AIDraftingError(
            "The AI endpoint sent an answer that is not a valid completion. Nothing was changed."
        ) from error
    try:
        text = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError) as error:
        raise AIDraftingError("The AI endpoint sent an empty answer. Nothing was changed.") from error
    if not isinstance(text, str) or not text.strip():
        raise AIDraftingError("The AI endpoint sent an empty answer. Nothing was changed.")
    return text


def complete_json(system: str, prompt: str, *, context: str = "") -> dict:
    text = complete(system, prompt, want_json=True, context=context).strip()
    if text.startswith("```"):  # models like to fence JSON even when asked not to
        text = text.strip("`")
        text = text[text.find("{"):]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AIDraftingError(
            "The AI answer was not the JSON that was asked for. Nothing was changed; try again."
        ) from error
    if not isinstance(data, dict):
        raise AIDraftingError("The AI answer was not a JSON object. Nothing was changed.")
    return data
