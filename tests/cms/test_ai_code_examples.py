"""'Suggest a code example' in the tutorial editor: its JSON endpoint through the real `openai`
client against tests/cms/fake_openai.py, the ast.parse check, who may use it, AI off and
failures. The insertion into the editor and the draft revision are in
test_ai_editor_browser.py."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from studio_site.accounts.models import User
from studio_site.blog.models import BlogPage
from studio_site.tutorials.models import TutorialIndexPage, TutorialPage
from wagtail.models import Page

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

CODE_EXAMPLE = "/admin/ai/editor/code-example/"
EXAMPLE = ("# Add up the numbers of a list with a for loop\n"
           "numbers = [3, 1, 4]\ntotal = 0\nfor n in numbers:\n    total += n\nprint(total)")


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.fixture
def editor() -> Client:
    return logged_in("edith")


def ask(client: Client, payload: dict):
    return client.post(CODE_EXAMPLE, json.dumps(payload), content_type="application/json",
                       HTTP_X_REQUESTED_WITH="XMLHttpRequest")


def tutorial() -> TutorialPage:
    return TutorialPage.objects.get()


def test_tutorial_editor_offers_it_and_a_blog_post_does_not(editor: Client, fake_ai) -> None:
    html = editor.get(f"/admin/pages/{tutorial().pk}/edit/").content.decode()
    config = json.loads(re.search(
        r'<script id="ls-ai-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["urls"]["codeExample"] == CODE_EXAMPLE
    assert "data-ls-ai-tutorial" in html and "Suggest a code example" in html
    post = BlogPage.objects.get(slug="post-1")
    assert "data-ls-ai-tutorial" not in editor.get(f"/admin/pages/{post.pk}/edit/").content.decode()


def test_code_example_is_checked_and_changes_nothing(editor: Client, fake_ai) -> None:
    page = tutorial()
    revisions = page.revisions.count()
    fake_ai.reply = {"code": EXAMPLE}
    response = ask(editor, {"page_id": page.pk, "topic": "A for loop adds up a list.",
                            "section": "Adding things up", "title": "Lists and loops"})
    assert response.status_code == 200, response.content
    assert response.json() == {"code": EXAMPLE + "\n", "language": "python"}
    sent = fake_ai.requests[-1]
    assert sent["body"]["model"] == "test-model" and sent["auth"] == "Bearer sk-test"
    assert sent["body"]["response_format"] == {"type": "json_object"}
    prompt = sent["body"]["messages"][1]["content"]
    assert "A for loop adds up a list." in prompt and "Adding things up" in prompt
    assert "Lists and loops" in prompt
    assert "runnable Python 3" in sent["body"]["messages"][0]["content"]
    # Nothing is stored: the example goes into the editor, saved only when the editor saves.
    assert page.revisions.count() == revisions
    page.refresh_from_db()
    assert page.live and not page.has_unpublished_changes


def test_for_a_tutorial_not_saved_yet(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"code": "print('hello')"}
    response = ask(editor, {"parent_id": TutorialIndexPage.objects.get().pk, "topic": "print"})
    assert response.status_code == 200 and response.json()["code"] == "print('hello')\n"


def test_a_fenced_answer_is_unwrapped(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"code": f"```python\n{EXAMPLE}\n```"}
    response = ask(editor, {"page_id": tutorial().pk, "topic": "loops"})
    assert response.json()["code"] == EXAMPLE + "\n"


@pytest.mark.parametrize("code, where", [
    ("for n in [1, 2, 3]\n    print(n)", "line 1"),
    ("print('ok')\ndef broken(:\n    pass", "line 2"),
])
def test_code_that_does_not_parse_is_not_offered(editor: Client, fake_ai, code, where) -> None:
    fake_ai.reply = {"code": code}
    response = ask(editor, {"page_id": tutorial().pk, "topic": "loops"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert "not valid Python" in error and where in error and "Nothing was inserted" in error
    assert "code" not in response.json()


@pytest.mark.parametrize("reply, message", [
    ({"example": "print(1)"}, "no 'code' text"),
    ({"code": ""}, "no 'code' text"),
    ({"code": "print(1)\n" * 1000}, "more than a tutorial example should be"),
    ("not json at all", "not the JSON that was asked for"),
])
def test_unusable_answers_are_clear_errors(editor: Client, fake_ai, reply, message) -> None:
    fake_ai.reply = reply
    response = ask(editor, {"page_id": tutorial().pk, "topic": "loops"})
    assert response.status_code == 502 and message in response.json()["error"]


def test_no_topic_is_a_clear_error_and_asks_nothing(editor: Client, fake_ai) -> None:
    response = ask(editor, {"page_id": tutorial().pk, "topic": "   "})
    assert response.status_code == 400
    assert "Write or select the text the example is for" in response.json()["error"]
    assert not fake_ai.requests


@pytest.mark.parametrize("mode, message", [
    ("error500", "answered with an error (HTTP 500)"),
    ("slow", "did not answer within 1 s"),
    ("malformed", "not a valid completion"),
    ("empty", "empty answer"),
])
def test_endpoint_failures(editor: Client, fake_ai, mode, message) -> None:
    fake_ai.mode, fake_ai.delay = mode, 3.0
    response = ask(editor, {"page_id": tutorial().pk, "topic": "loops"})
    assert response.status_code == 502
    assert message in response.json()["error"] and "Nothing was changed" in response.json()["error"]


def test_ai_off_says_how_to_turn_it_on(editor: Client) -> None:
    response = ask(editor, {"page_id": tutorial().pk, "topic": "loops"})
    assert response.status_code == 503 and response.json()["off"] is True
    assert "OPENAI_API_KEY" in response.json()["error"]


def test_only_people_who_may_edit_the_tutorial(fake_ai) -> None:
    payload = {"page_id": tutorial().pk, "topic": "loops"}
    assert ask(logged_in("alan"), payload).status_code in (302, 403)  # a learner
    assert ask(Client(), payload).status_code in (302, 403)  # nobody signed in
    group = Group.objects.create(name="Admin visitors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    visitor = User.objects.create_user("visitor", "visitor@studio.localhost", DEMO_PASSWORD)
    visitor.groups.add(group)
    response = ask(logged_in("visitor"), payload)
    assert response.status_code == 403 and "cannot edit this page" in response.json()["error"]
    assert not fake_ai.requests
    assert Page.objects.get(pk=payload["page_id"]).live
