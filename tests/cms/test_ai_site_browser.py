"""The site's other AI features in headless Chromium: alt text in the image edit view and
"Suggest a code example" in the tutorial editor.

An editor opens an image while AI is off (the button says so and why), then with AI on asks for
alt text (the site's real `openai` client sends the image to tests/cms/fake_openai.py), sees
progress, then the suggestion beside the still-empty alt text field; a failing endpoint's
message leaves the suggestion in place; "Use this suggestion" fills the field and saving makes
it the alt text. The multiple uploader shows the suggestion made at upload in the new image's
form, and Update saves it once used. In a tutorial the editor adds a heading, asks for a code example for the
paragraph under it, sees a broken example refused, gets a runnable one inserted as a code block
below the paragraph, and saves a draft: the live tutorial stays as it was. Screenshots go to
test-artifacts/cms/.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from fake_openai import FakeOpenAIServer
from PIL import Image as PILImage
from playwright.sync_api import TimeoutError as PlaywrightTimeout

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "cms"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALT = "A line chart of weekly test scores rising from 40 to 90."
UPLOADED_ALT = "A blue square with a yellow stripe."
SECTION = "Adding up a list"
EXAMPLE = ("# Add up the numbers of a list\n"
           "numbers = [3, 1, 4]\ntotal = 0\nfor n in numbers:\n    total += n\nprint(total)")


@pytest.fixture
def site(live_server, settings):
    """The live site with the demo content and one image, talking to a fake OpenAI server."""
    call_command("seed_demo", password=DEMO_PASSWORD, verbosity=0)  # the DB may be flushed
    from django.core.files.images import ImageFile
    from studio_site.tutorials.models import TutorialPage
    from wagtail.images import get_image_model

    buffer = io.BytesIO()
    PILImage.new("RGB", (1600, 900), (20, 90, 160)).save(buffer, "PNG")
    image = get_image_model().objects.create(
        title="Weekly scores", file=ImageFile(buffer, name="weekly-scores.png"))
    with FakeOpenAIServer() as ai:
        settings.AI_API_KEY = "sk-test"
        settings.AI_BASE_URL = ai.base_url
        settings.AI_MODEL = "test-model"
        settings.AI_VISION_MODEL = "vision-test"
        settings.AI_TIMEOUT_SECONDS = 4.0
        yield {"url": live_server.url, "ai": ai, "settings": settings, "image": image.pk,
               "tutorial": TutorialPage.objects.get().pk}


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ai-site-{name}.png"), full_page=False)


def test_alt_text_and_code_examples(site) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API keeps an event loop on this thread, where Django refuses database
    # queries; so the browser part runs first and the database is checked after it closed.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(lambda u: not u.startswith(site["url"]), lambda route: route.abort())
            page.set_default_timeout(15000)
            js_errors: list[str] = []
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            try:
                log_in(page, site["url"])
                alt_text(page, site, js_errors)
                uploader(page, site, js_errors)
                code_example(page, site, js_errors)
            except Exception:
                shot(page, "failed")
                raise
            assert not js_errors, js_errors
        finally:
            browser.close()

    from studio_site.ai.models import AltTextSuggestion
    from studio_site.tutorials.models import TutorialPage
    from wagtail.images import get_image_model

    # The alt text is what the editor saved, and the suggestion is marked used.
    assert get_image_model().objects.get(pk=site["image"]).description == ALT
    assert AltTextSuggestion.objects.get(text=ALT).status == AltTextSuggestion.USED
    uploaded = get_image_model().objects.get(title="square")
    assert uploaded.description == UPLOADED_ALT
    assert uploaded.alt_text_suggestions.get().status == AltTextSuggestion.USED
    vision = [r for r in site["ai"].requests if r["body"]["model"] == "vision-test"]
    part = [p for p in vision[0]["body"]["messages"][1]["content"] if p["type"] == "image_url"]
    jpeg = base64.b64decode(part[0]["image_url"]["url"].split(",", 1)[1])
    assert PILImage.open(io.BytesIO(jpeg)).size == (768, 432)

    # The code example is in the tutorial's draft, after the paragraph; not live.
    tutorial = TutorialPage.objects.get(pk=site["tutorial"])
    assert tutorial.live and tutorial.has_unpublished_changes
    draft = tutorial.get_latest_revision_as_object()
    assert [b.block_type for b in draft.body] == ["heading", "paragraph", "code", "code"]
    # (a textarea sends its lines with CRLF, as for code typed by hand)
    assert draft.body[2].value["code"].replace("\r\n", "\n").strip() == EXAMPLE
    assert draft.body[2].value["language"] == "python"
    live = requests.get(f"{site['url']}/tutorials/lists-and-loops/", timeout=10).text
    assert "loop visits each item" in live and "numbers = [3, 1, 4]" not in live


def log_in(page, url: str) -> None:
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", "edith")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def open_page(page, address: str, ready: str, js_errors: list[str]) -> None:
    """Open an admin page and wait until `ready` shows; reload a page whose requests Chromium
    dropped with ERR_NETWORK_CHANGED (another process on this shared machine added a Docker
    network), as test_ai_editor_browser.py does."""
    for attempt in range(3):
        cut_off: list[str] = []

        def note(request, cut_off=cut_off) -> None:
            if "ERR_NETWORK_CHANGED" in (request.failure or ""):
                cut_off.append(request.url)

        page.on("requestfailed", note)
        try:
            page.goto(address)
            page.locator(ready).first.wait_for()
            return
        except PlaywrightTimeout:
            if not cut_off or attempt == 2:
                raise
            js_errors.clear()
        finally:
            page.remove_listener("requestfailed", note)


def alt_text(page, site: dict, js_errors: list[str]) -> None:
    url, ai, settings = site["url"], site["ai"], site["settings"]
    edit = f"{url}/admin/images/{site['image']}/"

    # AI off: the button says so, and the reason names the settings.
    on = (settings.AI_API_KEY, settings.AI_BASE_URL)
    settings.AI_API_KEY = settings.AI_BASE_URL = ""
    open_page(page, edit, "[data-ls-alt-text]", js_errors)
    off = page.locator("[data-ls-alt-text-suggest]")
    assert off.is_disabled() and off.inner_text() == "Suggest alt text: AI is off"
    assert "OPENAI_API_KEY" in page.locator("[data-ls-alt-text-off]").inner_text()
    shot(page, "0-alt-text-off")
    settings.AI_API_KEY, settings.AI_BASE_URL = on

    open_page(page, edit, "[data-ls-alt-text-on]", js_errors)
    box = page.locator("[data-ls-alt-text-field]")
    description = box.locator("input[name=description]")
    assert description.input_value() == ""
    ai.reply, ai.mode, ai.delay = ALT, "slow", 1.5  # slow but in time: progress shows
    box.get_by_role("button", name="Suggest alt text with AI").click()
    busy = box.locator("[data-ls-alt-text-status=busy]")
    busy.wait_for()
    assert "Asking the AI" in busy.inner_text()
    box.locator("[data-ls-alt-text-value]").get_by_text(ALT).wait_for()
    assert description.input_value() == ""  # offered, not filled in
    shot(page, "1-alt-text-suggested")

    # A failing endpoint: a clear message; the suggestion and the field stay as they were.
    ai.mode = "error500"
    box.get_by_role("button", name="Suggest alt text with AI").click()
    error = box.locator("[data-ls-alt-text-status=error]")
    error.wait_for()
    assert "HTTP 500" in error.inner_text() and "Nothing was changed" in error.inner_text()
    assert box.locator("[data-ls-alt-text-value]").inner_text() == ALT
    shot(page, "2-alt-text-endpoint-failed")

    box.get_by_role("button", name="Use this suggestion").click()
    assert description.input_value() == ALT
    page.get_by_role("button", name="Save").first.click()
    page.locator(".messages").get_by_text("updated").wait_for()
    shot(page, "3-alt-text-saved")
    ai.mode = "ok"


def uploader(page, site: dict, js_errors: list[str]) -> None:
    """The multiple uploader: the suggestion made at upload is in the form it shows for the
    new image; using it and pressing Update saves it as the alt text."""
    url, ai = site["url"], site["ai"]
    ai.reply, ai.mode = UPLOADED_ALT, "ok"
    picture = PILImage.new("RGB", (300, 300), (20, 60, 200))
    picture.paste((250, 220, 0), (0, 120, 300, 180))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    page.goto(f"{url}/admin/images/multiple/add/")
    page.locator("#fileupload").wait_for(state="attached")
    page.set_input_files("#fileupload", files=[
        {"name": "square.png", "mimeType": "image/png", "buffer": buffer.getvalue()}])
    item = page.locator("#upload-list li").first
    item.locator("[data-ls-alt-text-value]").get_by_text(UPLOADED_ALT).wait_for()
    description = item.locator("input[name$='-description']")
    assert description.input_value() == ""
    shot(page, "3a-uploaded-with-suggestion")
    item.get_by_role("button", name="Use this suggestion").click()
    assert description.input_value() == UPLOADED_ALT
    item.get_by_role("button", name="Update").click()
    page.locator(".messages").get_by_text("Image updated").wait_for()
    shot(page, "3b-uploaded-alt-text-saved")


def code_example(page, site: dict, js_errors: list[str]) -> None:
    url, ai = site["url"], site["ai"]
    open_page(page, f"{url}/admin/pages/{site['tutorial']}/edit/", "[data-ls-ai=on]", js_errors)

    # A heading above the paragraph: the section the example is for.
    page.locator("[data-streamfield-stream-container] button[title='Insert a block']").first \
        .click()
    page.get_by_role("option", name="Heading").click()
    heading = page.locator("input[type=text][name^='body-'][name$='-value']").first
    heading.fill(SECTION)

    paragraph = page.locator(".public-DraftEditor-content").get_by_text("loop visits each item")
    bar = page.locator("[data-ls-ai=on]").first
    suggest = bar.locator("[data-ls-ai-action=code-example]")
    assert suggest.inner_text() == "Suggest a code example"

    # Code that does not parse is refused with the reason; nothing is inserted.
    ai.reply = {"code": "for n in [1, 2, 3]\n    print(n)"}
    paragraph.click()
    suggest.click()
    error = bar.locator("[data-ls-ai-status=error]")
    error.wait_for()
    assert "not valid Python (line 1" in error.inner_text()
    assert "Nothing was inserted" in error.inner_text()
    assert page.locator("textarea[name$='-value-code']").count() == 1  # the tutorial's own
    shot(page, "4-code-example-refused")

    ai.reply = {"code": EXAMPLE}
    suggest.click()
    bar.locator("[data-ls-ai-status=ok]").wait_for()
    assert "Code example inserted below" in bar.locator("[data-ls-ai-status=ok]").inner_text()
    codes = page.locator("textarea[name$='-value-code']")
    assert codes.count() == 2
    sent = ai.requests[-1]["body"]["messages"][1]["content"]
    assert "loop visits each item" in sent and SECTION in sent and "Lists and loops" in sent
    page.locator("textarea[name$='-value-code']").first.scroll_into_view_if_needed()
    shot(page, "5-code-example-inserted")

    page.get_by_role("button", name="Save draft").click()
    page.locator(".messages").get_by_text("updated").wait_for()
    shot(page, "6-code-example-saved")
