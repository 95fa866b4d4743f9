"""JSON endpoints behind the AI controls inside the Wagtail page editor.

The editor's rich-text fields ("Draft with AI", "Improve selection", and on tutorials
"Suggest a code example") and the tutorial's "Summarise this tutorial" button post JSON here
(with the admin's CSRF token). The result goes back into the editor as unsaved content:
nothing is stored here, so it is kept only when the editor saves a draft and is live only when
a person publishes.

Errors are JSON {"error": "..."} with a message the editor can act on; the editor shows it in
place and keeps working.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST
from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter
from wagtail.models import Page

from studio_site.base.blocks import ArticleStreamBlock

from . import code_examples, drafting
from .client import HOW_TO_TURN_ON, AIDraftingError, AIOff, ai_enabled

log = logging.getLogger(__name__)

MAX_PROMPT = 2000
MAX_SELECTION = 12000
MAX_TUTORIAL_TEXT = 60000


class EditorRequestError(Exception):
    """The editor's request cannot be served; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def editor_features() -> list[str]:
    """The rich-text features of the blocks the AI writes into (blog posts and tutorials), so
    the editor gets exactly the formatting its field allows."""

    features = ArticleStreamBlock.base_blocks["paragraph"].features or []
    return [f for f in features if f != "ai"]


def as_editor_content(html: str) -> dict:
    """Wagtail's own HTML -> Draft.js conversion, the same one a saved page goes through."""
    return json.loads(ContentstateConverter(editor_features()).from_database_format(html))


def editor_config() -> dict:
    """What the editor's AI controls need to know; read on every editor page load."""
    from django.urls import reverse

    return {
        "on": ai_enabled(),
        "howTo": HOW_TO_TURN_ON,
        "timeoutSeconds": settings.AI_TIMEOUT_SECONDS,
        "urls": {
            "draft": reverse("ai:editor_draft"),
            "improve": reverse("ai:editor_improve"),
            "summarise": reverse("ai:editor_summarise"),
            "codeExample": reverse("ai:editor_code_example"),
        },
    }


def _payload(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EditorRequestError("The request is not JSON. Reload the editor and try again.") \
            from error
    if not isinstance(data, dict):
        raise EditorRequestError("The request is not a JSON object.")
    return data


def _text(data: dict, key: str, limit: int, *, required: str = "") -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise EditorRequestError(f"'{key}' must be text.")
    value = value.strip()
    if required and not value:
        raise EditorRequestError(required)
    if len(value) > limit:
        raise EditorRequestError(
            f"The {key} is {len(value)} characters long; the AI takes at most {limit}. "
            "Shorten it and try again."
        )
    return value


def _page_id(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise EditorRequestError(f"'{key}' must be a page number.") from error


def _page_in_hand(request: HttpRequest, data: dict) -> tuple[Page | None, str]:
    """The page being edited (or the parent of the one being created), after checking that
    this user may write there. Returns the saved page, if any, and a log context."""
    page_id, parent_id = _page_id(data, "page_id"), _page_id(data, "parent_id")
    if page_id is None and parent_id is None:
        raise EditorRequestError("Say which page this is for (page_id or parent_id).")
    target = Page.objects.filter(pk=page_id if page_id is not None else parent_id).first()
    if target is None:
        raise EditorRequestError("That page does not exist (any more). Reload the editor.", 404)
    permissions = target.permissions_for_user(request.user)
    allowed = permissions.can_edit() if page_id is not None else permissions.can_add_subpage()
    if not allowed:
        raise EditorRequestError("You cannot edit this page, so you cannot use AI on it.", 403)
    if page_id is not None:
        return target.specific, f"page={target.pk}"
    return None, f"parent={target.pk}"


def _answer(request: HttpRequest, work) -> JsonResponse:
    """Run one AI action and turn every failure into a JSON error the editor shows."""
    try:
        return JsonResponse(work(_payload(request)))
    except EditorRequestError as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    except AIOff as error:
        return JsonResponse({"error": str(error), "off": True}, status=503)
    except AIDraftingError as error:
        return JsonResponse({"error": str(error)}, status=502)


@require_POST
def draft(request: HttpRequest) -> JsonResponse:
    """{prompt, page_id|parent_id, title?} -> {html, contentstate} to insert at the cursor."""

    def work(data: dict) -> dict:
        _, context = _page_in_hand(request, data)
        prompt = _text(data, "prompt", MAX_PROMPT,
                       required="Say what the AI should write (the prompt is empty).")
        title = _text(data, "title", 255)
        html = drafting.draft_text(prompt, request.user, page_title=title, context=context)
        log.info("AI drafted text for the editor user=%s %s", request.user, context)
        return {"html": html, "contentstate": as_editor_content(html)}

    return _answer(request, work)


@require_POST
def improve(request: HttpRequest) -> JsonResponse:
    """{text, instructions?, page_id|parent_id} -> {html, contentstate} to replace the
    selection with."""

    def work(data: dict) -> dict:
        _, context = _page_in_hand(request, data)
        text = _text(data, "text", MAX_SELECTION,
                     required="Select the text to improve first, then press Improve selection.")
        instructions = _text(data, "instructions", MAX_PROMPT)
        html = drafting.improve_text(text, request.user, instructions=instructions,
                                     context=context)
        log.info("AI improved a selection user=%s %s", request.user, context)
        return {"html": html, "contentstate": as_editor_content(html)}

    return _answer(request, work)


@require_POST
def summarise(request: HttpRequest) -> JsonResponse:
    """{text, page_id|parent_id} -> {summary}. The text is what is in the editor now (saved
    or not); with none, the page's latest saved draft is summarised."""

    def work(data: dict) -> dict:
        page, context = _page_in_hand(request, data)
        text = _text(data, "text", MAX_TUTORIAL_TEXT)
        if not text and page is not None:
            text = drafting.page_text(page.get_latest_revision_as_object())
        if not text.strip():
            raise EditorRequestError("The tutorial has no text yet: write some, then summarise.")
        summary = drafting.summarise_text(text, request.user, context=context)
        log.info("AI summarised a tutorial user=%s %s", request.user, context)
        return {"summary": summary}

    return _answer(request, work)


@require_POST
def code_example(request: HttpRequest) -> JsonResponse:
    """{topic, section?, title?, page_id|parent_id} -> {code, language}: a runnable Python
    example (checked to parse) for the editor to insert as a code block after the section."""

    def work(data: dict) -> dict:
        _, context = _page_in_hand(request, data)
        topic = _text(data, "topic", MAX_SELECTION,
                      required="Write or select the text the example is for, then press "
                               "Suggest a code example.")
        section = _text(data, "section", 255)
        title = _text(data, "title", 255)
        code = code_examples.draft_code_example(topic, request.user, page_title=title,
                                                section=section, context=context)
        log.info("AI drafted a code example user=%s %s lines=%d", request.user, context,
                 code.count("\n"))
        return {"code": code, "language": "python"}

    return _answer(request, work)
