"""AI alt text for images: what is sent to the vision model (the real `openai` client against
tests/cms/fake_openai.py), that the answer is a pending suggestion and never the image's alt
text until an editor uses it and saves, who may ask, AI off, and failures."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from fake_openai import FakeOpenAIServer
from PIL import Image as PILImage
from studio_site.accounts.models import User
from studio_site.ai.alt_text import MAX_SIDE, clean_alt_text
from studio_site.ai.models import AltTextSuggestion
from wagtail.images import get_image_model

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

UPLOAD = "/admin/images/multiple/add/"
SUGGESTED = "A bar chart of test scores rising over four weeks."


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.fixture
def editor() -> Client:
    return logged_in("edith")


def png(width: int = 2000, height: int = 1200) -> bytes:
    """A picture with transparency, larger than what is sent."""
    picture = PILImage.new("RGBA", (width, height), (30, 120, 200, 255))
    for x in range(0, width, 100):
        picture.paste((250, 200, 0, 0), (x, 0, x + 50, height))  # transparent stripes
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def upload(client: Client, name: str = "chart.png", data: bytes | None = None) -> dict:
    """The admin's multiple uploader, as its script posts one file. The suggestion is asked for
    once the image is committed: these tests run inside a transaction, so its commit callbacks
    run when the request is done (test_ai_site_browser.py sees the real order)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            UPLOAD, {"files[]": SimpleUploadedFile(name, data or png(), content_type="image/png")},
            HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200, response.content[:500]
    answer = response.json()
    assert answer["success"] is True, answer
    return answer


def suggest(client: Client, image_id: int):
    return client.post(f"/admin/ai/images/{image_id}/alt-text/",
                       HTTP_X_REQUESTED_WITH="XMLHttpRequest")


def make_image(client: Client, settings) -> int:
    """An image uploaded while the suggestion at upload is off."""
    on_upload = settings.AI_ALT_TEXT_ON_UPLOAD
    settings.AI_ALT_TEXT_ON_UPLOAD = False
    try:
        return upload(client)["image_id"]
    finally:
        settings.AI_ALT_TEXT_ON_UPLOAD = on_upload


def image_part(request: dict) -> str:
    content = request["body"]["messages"][1]["content"]
    assert isinstance(content, list), "the image must go as content parts"
    images = [part for part in content if part["type"] == "image_url"]
    assert len(images) == 1
    return images[0]["image_url"]["url"]


# --- at upload -----------------------------------------------------------------------------

def test_upload_sends_a_downscaled_data_url_and_stores_a_pending_suggestion(
        editor: Client, fake_ai, settings) -> None:
    settings.AI_VISION_MODEL = "vision-test"
    fake_ai.reply = f'"{SUGGESTED}"'  # models like quotes; they are taken off
    answer = upload(editor)
    image = get_image_model().objects.get(pk=answer["image_id"])

    assert len(fake_ai.requests) == 1
    sent = fake_ai.requests[0]
    assert sent["body"]["model"] == "vision-test" and sent["auth"] == "Bearer sk-test"
    url = image_part(sent)
    assert url.startswith("data:image/jpeg;base64,")
    picture = PILImage.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert picture.format == "JPEG" and picture.size == (MAX_SIDE, 461)  # 2000x1200 scaled
    assert len(json.dumps(sent["body"])) < 150_000, "the request must stay small"
    text = [p["text"] for p in sent["body"]["messages"][1]["content"] if p["type"] == "text"]
    assert "chart.png" in text[0]  # the title the uploader gave it

    # A suggestion waiting for review; the alt text itself is untouched.
    assert image.description == ""
    suggestion = image.alt_text_suggestions.get()
    assert (suggestion.status, suggestion.text) == (AltTextSuggestion.PENDING, SUGGESTED)
    assert suggestion.model_name == "vision-test" and suggestion.requested_by.username == "edith"


def test_vision_model_defaults_to_openai_model(editor: Client, fake_ai, settings) -> None:
    settings.AI_VISION_MODEL = ""
    fake_ai.reply = SUGGESTED
    upload(editor)
    assert fake_ai.requests[0]["body"]["model"] == "test-model"


def test_no_suggestion_at_upload_when_turned_off(editor: Client, fake_ai, settings) -> None:
    settings.AI_ALT_TEXT_ON_UPLOAD = False
    answer = upload(editor)
    assert not fake_ai.requests
    assert not AltTextSuggestion.objects.exists()
    # The editor can still ask for one.
    assert "Suggest alt text with AI" in unescape(answer["form"])


@pytest.mark.parametrize("mode, message", [
    ("error500", "HTTP 500"),
    ("slow", "did not answer within 1 s"),
    ("malformed", "not a valid completion"),
])
def test_a_failure_at_upload_keeps_the_image_and_says_why(
        editor: Client, fake_ai, mode, message) -> None:
    fake_ai.mode, fake_ai.delay = mode, 3.0
    answer = upload(editor)
    image = get_image_model().objects.get(pk=answer["image_id"])
    failed = image.alt_text_suggestions.get()
    assert failed.status == AltTextSuggestion.FAILED and message in failed.error
    html = editor.get(f"/admin/images/{image.pk}/").content.decode()
    assert "The AI suggestion at upload failed" in unescape(html) and message in unescape(html)


# --- in the image's edit view --------------------------------------------------------------

def test_edit_view_offers_the_suggestion_and_saving_it_makes_it_the_alt_text(
        editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = SUGGESTED
    response = suggest(editor, image_id)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["suggestion"] == SUGGESTED and answer["model"] == "test-model"
    image = get_image_model().objects.get(pk=image_id)
    assert image.description == ""
    assert image_part(fake_ai.requests[-1]).startswith("data:image/jpeg;base64,")

    html = unescape(editor.get(f"/admin/images/{image_id}/").content.decode())
    assert SUGGESTED in html and "Use this suggestion" in html and "Dismiss" in html
    assert "ai/image-alt-text.js" in html
    assert f'value="{SUGGESTED}"' not in html  # offered, not filled in

    # The editor uses it (the script copies it into the field) and saves the form.
    saved = editor.post(f"/admin/images/{image_id}/", {
        "title": image.title, "description": SUGGESTED, "collection": image.collection_id,
        "tags": "", "focal_point_x": "", "focal_point_y": "", "focal_point_width": "",
        "focal_point_height": "",
    })
    assert saved.status_code == 302, saved.content.decode()[-2000:]
    image.refresh_from_db()
    assert image.description == SUGGESTED
    assert AltTextSuggestion.objects.get(pk=answer["id"]).status == AltTextSuggestion.USED


def test_a_new_suggestion_replaces_the_waiting_one(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = "First try."
    first = suggest(editor, image_id).json()["id"]
    fake_ai.reply = SUGGESTED
    second = suggest(editor, image_id).json()["id"]
    assert AltTextSuggestion.objects.get(pk=first).status == AltTextSuggestion.REPLACED
    assert AltTextSuggestion.objects.get(pk=second).status == AltTextSuggestion.PENDING
    html = unescape(editor.get(f"/admin/images/{image_id}/").content.decode())
    assert SUGGESTED in html and "First try." not in html


def test_dismiss(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = SUGGESTED
    answer = suggest(editor, image_id).json()
    response = editor.post(answer["dismiss_url"], HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.json() == {"dismissed": True}
    assert AltTextSuggestion.objects.get(pk=answer["id"]).status == AltTextSuggestion.DISMISSED
    html = unescape(editor.get(f"/admin/images/{image_id}/").content.decode())
    assert SUGGESTED not in html
    assert get_image_model().objects.get(pk=image_id).description == ""


@pytest.mark.parametrize("mode, message", [
    ("error500", "answered with an error (HTTP 500)"),
    ("slow", "did not answer within 1 s"),
    ("malformed", "not a valid completion"),
    ("empty", "empty answer"),
])
def test_failures_on_demand_lose_nothing(editor: Client, fake_ai, settings, mode, message) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = SUGGESTED
    waiting = suggest(editor, image_id).json()["id"]
    fake_ai.mode, fake_ai.delay = mode, 3.0
    response = suggest(editor, image_id)
    assert response.status_code == 502
    error = response.json()["error"]
    assert message in error and "Nothing was changed" in error
    # The earlier suggestion still waits; the image is as it was.
    assert AltTextSuggestion.objects.get(pk=waiting).status == AltTextSuggestion.PENDING
    assert AltTextSuggestion.objects.count() == 1
    assert get_image_model().objects.get(pk=image_id).description == ""


def test_blank_answer_is_a_clear_error(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = '  ""  '
    response = suggest(editor, image_id)
    assert response.status_code == 502 and "no alt text" in response.json()["error"]
    assert not AltTextSuggestion.objects.exists()


def test_unreadable_image_file_is_a_clear_error(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    image = get_image_model().objects.get(pk=image_id)
    Path(image.file.path).write_bytes(b"not an image any more")
    response = suggest(editor, image_id)
    assert response.status_code == 502
    assert "cannot be read" in response.json()["error"]
    assert not fake_ai.requests


# --- AI off --------------------------------------------------------------------------------

def test_ai_off_the_button_says_so_and_why(editor: Client, settings) -> None:
    settings.AI_API_KEY = settings.AI_BASE_URL = ""
    image_id = upload(editor)["image_id"]
    assert not AltTextSuggestion.objects.exists()  # nothing asked at upload
    html = unescape(editor.get(f"/admin/images/{image_id}/").content.decode())
    assert re.search(r"<button[^>]*disabled[^>]*>Suggest alt text: AI is off</button>", html)
    assert "OPENAI_API_KEY" in html
    response = suggest(editor, image_id)
    assert response.status_code == 503 and response.json()["off"] is True
    assert "OPENAI_API_KEY" in response.json()["error"]


# --- who may ask ---------------------------------------------------------------------------

def test_only_people_who_may_change_the_image(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = SUGGESTED
    dismiss_url = suggest(editor, image_id).json()["dismiss_url"]
    fake_ai.requests.clear()

    learner = logged_in("alan")
    assert suggest(learner, image_id).status_code in (302, 403)
    assert learner.post(dismiss_url).status_code in (302, 403)
    anonymous = Client()
    assert suggest(anonymous, image_id).status_code in (302, 403)

    # Reaching the admin is not enough: the user must be allowed to change the image.
    group = Group.objects.create(name="Admin visitors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    visitor = User.objects.create_user("visitor", "visitor@studio.localhost", DEMO_PASSWORD)
    visitor.groups.add(group)
    client = logged_in("visitor")
    response = suggest(client, image_id)
    assert response.status_code == 403 and "cannot edit this image" in response.json()["error"]
    assert client.post(dismiss_url).status_code == 403
    assert not fake_ai.requests
    assert AltTextSuggestion.objects.get().status == AltTextSuggestion.PENDING


def test_get_is_not_allowed(editor: Client, settings) -> None:
    image_id = make_image(editor, settings)
    assert editor.get(f"/admin/ai/images/{image_id}/alt-text/").status_code == 405


def test_unknown_image_is_404(editor: Client, fake_ai) -> None:
    assert suggest(editor, 999999).status_code == 404


# --- the answer and the setting ------------------------------------------------------------

@pytest.mark.parametrize("answer, expected", [
    ('"A cat on a keyboard."', "A cat on a keyboard."),
    ("Alt text: A cat\non a keyboard.", "A cat on a keyboard."),
    ("“A plot of y = x².”", "A plot of y = x²."),
])
def test_clean_alt_text(answer: str, expected: str) -> None:
    assert clean_alt_text(answer) == expected


def test_clean_alt_text_fits_the_description_field() -> None:
    text = clean_alt_text("word " * 200)
    assert len(text) <= 255 and text.endswith("…")


def test_openai_vision_model_is_read_from_the_environment(tmp_path) -> None:
    """The stack passes OPENAI_VISION_MODEL to the site; the real client then asks for it."""
    code = (
        "import django, io; django.setup()\n"
        "from PIL import Image\n"
        "from studio_site.ai.alt_text import ask_for_alt_text\n"
        "buffer = io.BytesIO(); Image.new('RGB', (40, 30), 'red').save(buffer, 'PNG')\n"
        "class Picture:\n"
        "    pk, title = 1, 'red'\n"
        "    def open_file(self): return io.BytesIO(buffer.getvalue())\n"
        "print(ask_for_alt_text(Picture(), 'edith', action='test'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LS_AI_",
                                                                      "STUDIO_AI_"))}
    env.update(DJANGO_SETTINGS_MODULE="studio_site.settings.production",
               LS_CMS_DATA_DIR=str(tmp_path / "data"), DJANGO_SECRET_KEY="test-only",
               PYTHONPATH=os.pathsep.join([str(ROOT / "cms"), str(ROOT), str(ROOT / "contracts")]))
    with FakeOpenAIServer() as server:
        server.reply = "A red rectangle."
        p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120,
                           env={**env, "OPENAI_BASE_URL": server.base_url,
                                "OPENAI_MODEL": "text-only", "OPENAI_VISION_MODEL": "sees"})
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip().splitlines()[-1] == "('A red rectangle.', 'sees')"
    assert [r["body"]["model"] for r in server.requests] == ["sees"]


def test_a_hostile_answer_is_shown_as_text(editor: Client, fake_ai, settings) -> None:
    image_id = make_image(editor, settings)
    fake_ai.reply = '<img src=x onerror="alert(1)"> A cat'
    assert suggest(editor, image_id).status_code == 200
    html = editor.get(f"/admin/images/{image_id}/").content.decode()
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; A cat" in html


def test_the_add_image_form_says_what_happens_at_upload(editor: Client, fake_ai, settings) -> None:
    html = unescape(editor.get("/admin/images/add/").content.decode())
    assert "Once the image is uploaded, the AI suggests alt text" in html
    settings.AI_ALT_TEXT_ON_UPLOAD = False
    html = unescape(editor.get("/admin/images/add/").content.decode())
    assert "Once the image is uploaded" not in html
    assert not fake_ai.requests


def test_the_single_image_form_upload_also_asks(editor: Client, fake_ai) -> None:
    from django.test import TestCase
    from wagtail.models import Collection

    fake_ai.reply = SUGGESTED
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = editor.post("/admin/images/add/", {
            "title": "Scores", "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile("scores.png", png(400, 300), content_type="image/png"),
        })
    assert response.status_code == 302, response.content.decode()[-1500:]
    image = get_image_model().objects.get(title="Scores")
    assert image.description == ""
    assert image.alt_text_suggestions.get().text == SUGGESTED
    assert image_part(fake_ai.requests[0]).startswith("data:image/jpeg;base64,")
