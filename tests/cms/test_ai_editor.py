"""The AI controls inside the page editor: their JSON endpoints (editor_api.py) through the
real `openai` client against tests/cms/fake_openai.py, and what the editor page carries."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from studio_site.accounts.models import User
from studio_site.blog.models import BlogIndexPage, BlogPage
from studio_site.tutorials.models import TutorialIndexPage, TutorialPage
from wagtail.models import Page

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

DRAFT = "/admin/ai/editor/draft/"
IMPROVE = "/admin/ai/editor/improve/"
SUMMARISE = "/admin/ai/editor/summarise/"


def logged_in(username: str, **client_options) -> Client:
    client = Client(**client_options)
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.fixture
def editor() -> Client:
    return logged_in("edith")


def post_json(client: Client, url: str, payload: dict, **headers):
    return client.post(url, json.dumps(payload), content_type="application/json",
                       HTTP_X_REQUESTED_WITH="XMLHttpRequest", **headers)


def editor_config(html: str) -> dict:
    match = re.search(r'<script id="ls-ai-config" type="application/json">(.*?)</script>', html)
    assert match, "the page editor carries no AI settings"
    return json.loads(match.group(1))


def post_1() -> BlogPage:
    return BlogPage.objects.get(slug="post-1")


# --- what the editor page carries ---------------------------------------------------------

def test_editor_has_the_ai_bar_and_says_ai_is_off(editor: Client) -> None:
    html = editor.get(f"/admin/pages/{post_1().pk}/edit/").content.decode()
    config = editor_config(html)
    assert config["on"] is False and "OPENAI_API_KEY" in config["howTo"]
    assert "OPENAI_BASE_URL" in config["howTo"] and "OPENAI_MODEL" in config["howTo"]
    # The rich-text blocks' Draftail editors list the "ai" control and load its script.
    assert "ai/draftail-ai.js" in html and "ai/ai-request.js" in html
    assert '"controls": [{"type": "ai"}]' in unescape(html), "no ai control in the editor"
    assert "AI is off" in html  # the panel says so too


def test_ai_off_endpoint_says_how_to_turn_it_on(editor: Client) -> None:
    response = post_json(editor, DRAFT, {"page_id": post_1().pk, "prompt": "loops"})
    assert response.status_code == 503
    assert response.json()["off"] is True
    assert "OPENAI_API_KEY" in response.json()["error"]


def test_editor_config_when_on(editor: Client, fake_ai) -> None:
    tutorial = TutorialPage.objects.get()
    html = editor.get(f"/admin/pages/{tutorial.pk}/edit/").content.decode()
    config = editor_config(html)
    assert config["on"] is True
    assert config["urls"] == {"draft": DRAFT, "improve": IMPROVE, "summarise": SUMMARISE,
                              "codeExample": "/admin/ai/editor/code-example/"}
    assert "data-ls-ai-summarise-button" in html and "Summarise this tutorial" in html
    post = editor.get(f"/admin/pages/{post_1().pk}/edit/").content.decode()
    assert "data-ls-ai-summarise-button" not in post  # summaries are a tutorial's


def test_new_page_editor_has_the_ai_bar(editor: Client, fake_ai) -> None:
    index = BlogIndexPage.objects.get()
    html = editor.get(f"/admin/pages/add/blog/blogpage/{index.pk}/").content.decode()
    assert editor_config(html)["on"] is True and "ai/draftail-ai.js" in html


# --- the endpoints --------------------------------------------------------------------------

def test_draft_returns_editor_content_and_changes_nothing(editor: Client, fake_ai) -> None:
    post = post_1()
    revisions = post.revisions.count()
    fake_ai.reply = {"paragraphs": ["<h2>Why loops</h2>", "<p>Loops <b>repeat</b> work.</p>",
                                    '<p onclick="steal()">Hi<script>steal()</script></p>']}
    response = post_json(editor, DRAFT, {"page_id": post.pk, "prompt": "explain loops",
                                         "title": "Loops"})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert "<script" not in answer["html"] and "onclick" not in answer["html"]
    blocks = answer["contentstate"]["blocks"]
    assert [b["type"] for b in blocks] == ["header-two", "unstyled", "unstyled"]
    assert blocks[1]["text"] == "Loops repeat work."
    assert blocks[1]["inlineStyleRanges"] == [{"offset": 6, "length": 6, "style": "BOLD"}]
    sent = fake_ai.requests[-1]
    assert sent["auth"] == "Bearer sk-test" and sent["body"]["model"] == "test-model"
    assert "explain loops" in sent["body"]["messages"][1]["content"]
    assert "Loops" in sent["body"]["messages"][1]["content"]
    # The result only goes back to the editor: no revision, the live page as it was.
    assert post.revisions.count() == revisions
    assert Page.objects.get(pk=post.pk).live


def test_draft_for_a_page_not_saved_yet(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"paragraphs": ["<p>Hello.</p>"]}
    index = BlogIndexPage.objects.get()
    response = post_json(editor, DRAFT, {"parent_id": index.pk, "prompt": "greet"})
    assert response.status_code == 200 and response.json()["html"] == "<p>Hello.</p>"


def test_improve_sends_the_selection(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"paragraphs": ["<p>A loop runs the same code for each item.</p>"]}
    response = post_json(editor, IMPROVE, {"page_id": post_1().pk, "text": "loop do thing each",
                                           "instructions": "simpler"})
    assert response.status_code == 200
    assert response.json()["contentstate"]["blocks"][0]["text"].startswith("A loop runs")
    content = fake_ai.requests[-1]["body"]["messages"][1]["content"]
    assert "loop do thing each" in content and "simpler" in content


def test_improve_without_a_selection_is_a_clear_error(editor: Client, fake_ai) -> None:
    response = post_json(editor, IMPROVE, {"page_id": post_1().pk, "text": "  "})
    assert response.status_code == 400
    assert "Select the text to improve first" in response.json()["error"]
    assert not fake_ai.requests


def test_summarise_what_is_in_the_editor(editor: Client, fake_ai) -> None:
    tutorial = TutorialPage.objects.get()
    revisions = tutorial.revisions.count()
    fake_ai.reply = "Loops repeat work for each item of a list."
    response = post_json(editor, SUMMARISE, {"page_id": tutorial.pk,
                                             "text": "Unsaved text about for loops."})
    assert response.json() == {"summary": "Loops repeat work for each item of a list."}
    assert "Unsaved text about for loops." in fake_ai.requests[-1]["body"]["messages"][1]["content"]
    tutorial.refresh_from_db()
    assert tutorial.summary == "" and tutorial.revisions.count() == revisions


def test_summarise_with_no_text_uses_the_saved_draft(editor: Client, fake_ai) -> None:
    tutorial = TutorialPage.objects.get()
    fake_ai.reply = "A summary."
    assert post_json(editor, SUMMARISE, {"page_id": tutorial.pk}).status_code == 200
    assert "total = 0" in fake_ai.requests[-1]["body"]["messages"][1]["content"]


@pytest.mark.parametrize("payload, status, message", [
    ({"prompt": "x"}, 400, "Say which page"),
    ({"page_id": 999999, "prompt": "x"}, 404, "does not exist"),
    ({"page_id": "seven", "prompt": "x"}, 400, "must be a page number"),
    ({"page_id": "POST1", "prompt": ""}, 400, "prompt is empty"),
    ({"page_id": "POST1", "prompt": "x" * 2001}, 400, "at most 2000"),
    ({"page_id": "POST1", "prompt": ["x"]}, 400, "must be text"),
])
def test_bad_requests_are_named(editor: Client, fake_ai, payload, status, message) -> None:
    payload = {k: (post_1().pk if v == "POST1" else v) for k, v in payload.items()}
    response = post_json(editor, DRAFT, payload)
    assert response.status_code == status and message in response.json()["error"]
    assert not fake_ai.requests


def test_not_json_is_a_clear_error(editor: Client, fake_ai) -> None:
    response = editor.post(DRAFT, "{nope", content_type="application/json",
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


def test_get_is_not_allowed(editor: Client, fake_ai) -> None:
    assert editor.get(DRAFT).status_code == 405


# --- who may use it -------------------------------------------------------------------------

def test_learner_gets_403_and_the_ai_is_not_called(fake_ai) -> None:
    alan = logged_in("alan")
    response = post_json(alan, DRAFT, {"page_id": post_1().pk, "prompt": "x"})
    assert response.status_code == 403
    assert not fake_ai.requests


def test_anonymous_gets_no_ai(fake_ai) -> None:
    response = post_json(Client(), DRAFT, {"page_id": post_1().pk, "prompt": "x"})
    assert response.status_code == 403
    assert not fake_ai.requests


def test_admin_user_who_cannot_edit_the_page_is_refused(fake_ai) -> None:
    """Reaching the admin is not enough: the user must be able to edit that page."""
    group = Group.objects.create(name="Admin visitors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user = User.objects.create_user("visitor", "visitor@studio.localhost", DEMO_PASSWORD)
    user.groups.add(group)
    client = logged_in("visitor")
    response = post_json(client, DRAFT, {"page_id": post_1().pk, "prompt": "x"})
    assert response.status_code == 403 and "cannot edit this page" in response.json()["error"]
    index = TutorialIndexPage.objects.get()
    response = post_json(client, DRAFT, {"parent_id": index.pk, "prompt": "x"})
    assert response.status_code == 403
    assert not fake_ai.requests


def test_csrf_is_enforced(fake_ai) -> None:
    client = logged_in("edith", enforce_csrf_checks=True)
    fake_ai.reply = {"paragraphs": ["<p>ok</p>"]}
    payload = {"page_id": post_1().pk, "prompt": "x"}
    assert post_json(client, DRAFT, payload).status_code == 403
    assert not fake_ai.requests
    # With the token the editor page gives to its scripts (wagtailConfig.CSRF_TOKEN), it works.
    html = client.get(f"/admin/pages/{post_1().pk}/edit/").content.decode()
    token = re.search(r'"CSRF_TOKEN": *"([^"]+)"', html).group(1)
    assert post_json(client, DRAFT, payload, HTTP_X_CSRFTOKEN=token).status_code == 200


# --- a failing or slow endpoint -------------------------------------------------------------

@pytest.mark.parametrize("mode, message", [
    ("error500", "answered with an error (HTTP 500)"),
    ("slow", "did not answer within 1 s"),
    ("malformed", "not a valid completion"),
    ("empty", "empty answer"),
])
def test_endpoint_failures_give_clear_errors(editor: Client, fake_ai, mode, message) -> None:
    fake_ai.mode = mode
    fake_ai.delay = 3.0
    post = post_1()
    revisions = post.revisions.count()
    response = post_json(editor, IMPROVE, {"page_id": post.pk, "text": "some text"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert message in error and "Nothing was changed" in error
    assert post.revisions.count() == revisions
    # The editor still opens after the failure.
    assert editor.get(f"/admin/pages/{post.pk}/edit/").status_code == 200


def test_answer_without_paragraphs_is_a_clear_error(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"text": "not what was asked"}
    response = post_json(editor, DRAFT, {"page_id": post_1().pk, "prompt": "x"})
    assert response.status_code == 502 and "no 'paragraphs' list" in response.json()["error"]


def test_unreachable_endpoint(editor: Client, settings) -> None:
    settings.AI_API_KEY = "sk-test"
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    settings.AI_TIMEOUT_SECONDS = 2
    response = post_json(editor, SUMMARISE, {"page_id": TutorialPage.objects.get().pk,
                                             "text": "x"})
    assert response.status_code == 502 and "cannot be reached" in response.json()["error"]
