"""AI drafting through the real `openai` client against tests/cms/fake_openai.py."""

from __future__ import annotations

import pytest
from django.test import Client
from studio_site.blog.models import BlogPage

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

@pytest.fixture
def editor() -> Client:
    client = Client()
    client.login(username="edith", password=DEMO_PASSWORD)
    return client


def test_ai_off_says_how_to_turn_it_on(editor: Client) -> None:
    page = editor.get("/admin/ai/").content.decode()
    assert "AI is off" in page and "OPENAI_API_KEY" in page
    response = editor.post("/admin/ai/draft-post/", {"topic": "loops"}, follow=True)
    assert "AI drafting is off" in response.content.decode()
    assert BlogPage.objects.count() == 2


def test_draft_post_is_an_unpublished_page(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"title": "Why tests matter", "intro": "Tests catch mistakes.",
                     "paragraphs": ["<p>Write a test first.</p>",
                                    "<p>Then <script>alert(1)</script>code.</p>"]}
    response = editor.post("/admin/ai/draft-post/", {"topic": "testing"})
    post = BlogPage.objects.get(title="Why tests matter")
    assert response.status_code == 302 and response["Location"] == f"/admin/pages/{post.pk}/edit/"
    assert not post.live and post.has_unpublished_changes
    assert "<script>" not in str(post.body)
    assert Client().get(post.url or "/blog/why-tests-matter/").status_code == 404
    sent = fake_ai.requests[-1]
    assert sent["auth"] == "Bearer sk-test" and sent["body"]["model"] == "test-model"
    assert "testing" in sent["body"]["messages"][1]["content"]
    assert sent["body"]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("mode, message", [
    ("error500", "answered with an error (HTTP 500)"),
    ("slow", "did not answer within 1 s"),
])
def test_assistant_page_failures_give_clear_errors(editor: Client, fake_ai, mode, message) -> None:
    fake_ai.mode = mode
    fake_ai.delay = 3.0
    response = editor.post("/admin/ai/draft-post/", {"topic": "loops"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "Nothing was changed" in html
    assert BlogPage.objects.count() == 2


def test_non_json_answer_when_json_expected(editor: Client, fake_ai) -> None:
    fake_ai.reply = "Sure! Here is your post: ..."
    response = editor.post("/admin/ai/draft-post/", {"topic": "x"}, follow=True)
    assert "not the JSON that was asked for" in response.content.decode()
    assert BlogPage.objects.count() == 2


def test_unreachable_endpoint(editor: Client, settings) -> None:
    settings.AI_API_KEY = "sk-test"
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    settings.AI_TIMEOUT_SECONDS = 2
    response = editor.post("/admin/ai/draft-post/", {"topic": "x"}, follow=True)
    assert "cannot be reached" in response.content.decode()


def test_learner_cannot_use_ai(fake_ai) -> None:
    client = Client()
    client.login(username="alan", password=DEMO_PASSWORD)
    response = client.post("/admin/ai/draft-post/", {"topic": "x"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not fake_ai.requests
