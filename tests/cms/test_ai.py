"""AI drafting through the real `openai` client against tests/cms/fake_openai.py."""

from __future__ import annotations

import pytest
from django.test import Client
from studio_site.ai.models import ExerciseDraft
from studio_site.blog.models import BlogPage

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

EXERCISE = {
    "title": "Sum of squares",
    "instructions": "Write `sum_squares(n)` returning 1² + ... + n².",
    "starter_code": "def sum_squares(n):",
    "solution_code": "def sum_squares(n):\n    return sum(k * k for k in range(1, n + 1))",
    "tests": [{"code": "assert sum_squares(1) == 1", "points": 1},
              {"code": "assert sum_squares(3) == 14", "points": 2}],
    "hints": ["range(1, n + 1) counts from 1 to n.", "k * k is k squared."],
}


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


def test_generate_exercise_notebook(editor: Client, fake_ai, course) -> None:
    import nbformat

    fake_ai.reply = EXERCISE
    response = editor.post("/admin/ai/exercise/", {"topic": "squares", "course": course.pk,
                                                   "assignment_id": "squares"}, follow=True)
    assert "Exercise draft created: Sum of squares." in response.content.decode()
    draft = ExerciseDraft.objects.get()
    assert draft.course == course and draft.reviewed is False
    download = editor.get(f"/admin/ai/exercise/{draft.pk}/download/")
    assert download["Content-Disposition"] == 'attachment; filename="squares.ipynb"'
    notebook = nbformat.reads(download.content.decode(), as_version=4)
    nbformat.validate(notebook)
    markdown, solution, *tests = notebook.cells
    assert markdown.metadata.nbgrader["locked"] is True
    assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
    assert solution.source.startswith("### BEGIN SOLUTION\ndef sum_squares(n):")
    assert "def sum_squares(n):" in markdown.source  # the starter code, shown to learners
    assert solution.metadata.nbgrader["solution"] is True
    assert solution.metadata.learning_studio["hints"] == EXERCISE["hints"]
    assert [t.metadata.nbgrader["points"] for t in tests] == [1, 2]
    assert all(t.metadata.nbgrader["grade"] and t.metadata.nbgrader["locked"] for t in tests)
    # The solution really passes its tests.
    namespace: dict = {}
    exec(solution.source, namespace)  # noqa: S102 - our own fixture code
    for test in tests:
        exec(test.source, namespace)  # noqa: S102


def test_exercise_missing_fields_is_a_clear_error(editor: Client, fake_ai) -> None:
    fake_ai.reply = {"title": "No tests here"}
    response = editor.post("/admin/ai/exercise/", {"topic": "x"}, follow=True)
    assert "The AI exercise is missing" in response.content.decode()
    assert not ExerciseDraft.objects.exists()


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
