"""AI drafting through the real `openai` client against tests/cms/fake_openai.py."""

from __future__ import annotations

import pytest
from django.test import Client
from fake_openai import FakeOpenAIServer
from studio_site.ai.models import ExerciseDraft
from studio_site.blog.models import BlogPage
from studio_site.tutorials.models import TutorialPage
from wagtail.models import Page

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
def fake_ai(settings):
    with FakeOpenAIServer() as server:
        settings.AI_API_KEY = "sk-test"
        settings.AI_BASE_URL = server.base_url
        settings.AI_MODEL = "test-model"
        settings.AI_TIMEOUT_SECONDS = 1.0
        yield server


@pytest.fixture
def editor() -> Client:
    client = Client()
    client.login(username="edith", password=DEMO_PASSWORD)
    return client


def test_ai_off_says_how_to_turn_it_on(editor: Client) -> None:
    page = editor.get("/admin/ai/").content.decode()
    assert "AI is off" in page and "LS_AI_API_KEY" in page
    post = BlogPage.objects.get(slug="post-1")
    edit = editor.get(f"/admin/pages/{post.pk}/edit/").content.decode()
    assert "AI is off" in edit and "LS_AI_API_KEY" in edit
    response = editor.post("/admin/ai/draft-post/", {"topic": "loops"}, follow=True)
    assert "AI drafting is off" in response.content.decode()
    assert BlogPage.objects.count() == 2


def test_editor_panel_offers_actions_when_on(editor: Client, fake_ai) -> None:
    tutorial = TutorialPage.objects.get()
    edit = editor.get(f"/admin/pages/{tutorial.pk}/edit/").content.decode()
    assert f"/admin/ai/improve/{tutorial.pk}/" in edit
    assert f"/admin/ai/summarise/{tutorial.pk}/" in edit


def test_panel_on_a_new_page_asks_to_save_first(editor: Client, fake_ai) -> None:
    from studio_site.tutorials.models import TutorialIndexPage

    index = TutorialIndexPage.objects.get()
    page = editor.get(f"/admin/pages/add/tutorials/tutorialpage/{index.pk}/")
    assert page.status_code == 200
    assert "Save this page once to use the AI assistant" in page.content.decode()


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


def test_improve_makes_a_draft_revision_and_keeps_code(editor: Client, fake_ai) -> None:
    post = BlogPage.objects.get(slug="post-1")
    live_before = Client().get("/blog/post-1/").content
    fake_ai.reply = {"intro": "Notebooks help you learn.",
                     "paragraphs": ["<p>Improved paragraph.</p>"]}
    response = editor.post(f"/admin/ai/improve/{post.pk}/", {"instructions": "simpler"})
    assert response.status_code == 302
    post.refresh_from_db()
    draft = post.get_latest_revision_as_object()
    assert draft.intro == "Notebooks help you learn."
    kinds = [block.block_type for block in draft.body]
    assert kinds == ["paragraph", "code"]
    assert draft.body[0].value.source == "<p>Improved paragraph.</p>"
    assert draft.body[1].value["code"] == "print('hello, world')"
    assert post.has_unpublished_changes
    assert Client().get("/blog/post-1/").content == live_before  # live page unchanged


def test_improve_with_wrong_paragraph_count_changes_nothing(editor: Client, fake_ai) -> None:
    post = BlogPage.objects.get(slug="post-1")
    revisions = post.revisions.count()
    fake_ai.reply = {"intro": "x", "paragraphs": ["<p>a</p>", "<p>b</p>"]}
    response = editor.post(f"/admin/ai/improve/{post.pk}/", {}, follow=True)
    assert "returned 2 paragraphs for 1" in response.content.decode()
    assert post.revisions.count() == revisions


def test_summarise_tutorial(editor: Client, fake_ai) -> None:
    tutorial = TutorialPage.objects.get()
    fake_ai.reply = "Loops repeat work for each item of a list."
    editor.post(f"/admin/ai/summarise/{tutorial.pk}/")
    tutorial.refresh_from_db()
    assert tutorial.summary == ""  # live page untouched
    assert tutorial.get_latest_revision_as_object().summary.startswith("Loops repeat")
    assert "total = 0" in fake_ai.requests[-1]["body"]["messages"][1]["content"]


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
    ("malformed", "not a valid completion"),
    ("empty", "empty answer"),
])
def test_endpoint_failures_give_clear_errors(editor: Client, fake_ai, mode, message) -> None:
    fake_ai.mode = mode
    fake_ai.delay = 3.0
    post = BlogPage.objects.get(slug="post-1")
    revisions = post.revisions.count()
    response = editor.post(f"/admin/ai/improve/{post.pk}/", {}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "Nothing was changed" in html
    assert post.revisions.count() == revisions
    # The editor still works after the failure.
    assert editor.get(f"/admin/pages/{post.pk}/edit/").status_code == 200
    assert Page.objects.filter(pk=post.pk, live=True).exists()


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
