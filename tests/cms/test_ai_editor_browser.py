"""The AI controls inside the Wagtail page editor, in headless Chromium.

An editor logs into the admin, sees that AI is off (and how to turn it on) while no key is set,
writes a new blog post with "Draft with AI" (the site's real
`openai` client talks to tests/cms/fake_openai.py), sees progress and then the text in the
editor, sees a failing endpoint's message without losing the editor, and saves a draft that is
not live. On a tutorial: "Improve selection" and "Summarise this tutorial", saved as a draft
while the live tutorial stays as it was. Screenshots of each step go to test-artifacts/cms/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from fake_openai import FakeOpenAIServer
from playwright.sync_api import TimeoutError as PlaywrightTimeout

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "cms"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAFTED = "Loops let a program repeat work for every item in a list."
IMPROVED = "A for loop takes each item of a list in turn."
DOCS = "https://docs.python.org/3/tutorial/controlflow.html"
SUMMARY = "This tutorial shows how a for loop adds up the numbers of a list."


@pytest.fixture
def site(live_server, settings):
    """The live site with the demo content, talking to a fake OpenAI-compatible server."""
    call_command("seed_demo", password=DEMO_PASSWORD, verbosity=0)  # the DB may be flushed
    from studio_site.blog.models import BlogIndexPage
    from studio_site.tutorials.models import TutorialPage

    with FakeOpenAIServer() as ai:
        settings.AI_API_KEY = "sk-test"
        settings.AI_BASE_URL = ai.base_url
        settings.AI_MODEL = "test-model"
        settings.AI_TIMEOUT_SECONDS = 4.0
        yield {"url": live_server.url, "ai": ai, "settings": settings,
               "blog_index": BlogIndexPage.objects.get().pk,
               "tutorial": TutorialPage.objects.get().pk}


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ai-editor-{name}.png"), full_page=False)


def test_ai_controls_in_the_page_editor(site) -> None:
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
            # Only the local site: the admin would fetch avatars from gravatar.com.
            page.route(lambda u: not u.startswith(site["url"]), lambda route: route.abort())
            page.set_default_timeout(15000)
            js_errors: list[str] = []
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            try:
                edit_with_ai(page, site, js_errors)
            except Exception:
                shot(page, "failed")
                raise
            assert not js_errors, js_errors
        finally:
            browser.close()

    # Nothing the AI wrote is live until a person publishes.
    from studio_site.blog.models import BlogPage
    from studio_site.tutorials.models import TutorialPage

    url = site["url"]
    post = BlogPage.objects.get(title="Loops for beginners")
    assert not post.live
    draft = post.get_latest_revision_as_object()
    saved = draft.body[0].value.source
    assert DRAFTED in saved and "Written by hand." in saved
    assert f'<a href="{DOCS}">the <b>Python</b> docs</a>' in saved
    assert requests.get(f"{url}/blog/{post.slug}/", timeout=10).status_code == 404
    tutorial = TutorialPage.objects.get(pk=site["tutorial"])
    assert tutorial.live and tutorial.has_unpublished_changes
    assert tutorial.summary == ""  # the live tutorial
    tutorial_draft = tutorial.get_latest_revision_as_object()
    assert tutorial_draft.summary == SUMMARY
    assert IMPROVED in tutorial_draft.body[0].value.source
    live = requests.get(f"{url}/tutorials/lists-and-loops/", timeout=10).text
    assert "loop visits each item" in live and IMPROVED not in live


def open_editor(page, address: str, ready: str, js_errors: list[str]) -> None:
    """Open an editor page and wait until `ready` shows. Chromium drops requests in flight with
    ERR_NETWORK_CHANGED when another process on this shared machine adds a Docker network; a
    page whose scripts were cut off that way (and only that way) is loaded again."""
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
            js_errors.clear()  # from the page that was cut off
        finally:
            page.remove_listener("requestfailed", note)


def edit_with_ai(page, site: dict, js_errors: list[str]) -> None:
    url, ai = site["url"], site["ai"]

    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", "edith")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/")

    # With no key and no endpoint, the controls say AI is off and how to turn it on.
    on = (site["settings"].AI_API_KEY, site["settings"].AI_BASE_URL)
    site["settings"].AI_API_KEY = site["settings"].AI_BASE_URL = ""
    open_editor(page, f"{url}/admin/pages/{site['tutorial']}/edit/", "[data-ls-ai=off]",
                js_errors)
    off = page.locator("[data-ls-ai=off]").first
    assert "AI drafting is off" in off.inner_text()
    off.get_by_text("How to turn it on").click()
    assert "OPENAI_API_KEY" in off.inner_text()
    assert page.locator("[data-ls-ai-summarise-button]").count() == 0
    off.scroll_into_view_if_needed()
    shot(page, "0-ai-off")
    site["settings"].AI_API_KEY, site["settings"].AI_BASE_URL = on

    # A new blog post: title, a paragraph block, then "Draft with AI" inside it.
    insert_block = "[data-streamfield-stream-container] button[title='Insert a block']"
    open_editor(page, f"{url}/admin/pages/add/blog/blogpage/{site['blog_index']}/",
                insert_block, js_errors)
    page.fill("input[name=title]", "Loops for beginners")
    page.locator(insert_block).first.click()
    page.get_by_role("option", name="Paragraph").click()
    bar = page.locator("[data-ls-ai=on]").first
    bar.wait_for()
    bar.locator("[data-ls-ai-action=draft]").click()
    prompt = bar.get_by_label("What should the AI write here?")
    prompt.fill("Explain loops to a beginner")
    # A link is an entity in Draft.js: it must arrive in the editor without breaking it.
    ai.reply = {"paragraphs": [f"<p>{DRAFTED}</p>",
                               f'<p>See <a href="{DOCS}">the <b>Python</b> docs</a>.</p>']}
    ai.mode, ai.delay = "slow", 1.5  # slow but within the timeout: progress shows meanwhile
    prompt.press("Enter")
    busy = bar.locator("[data-ls-ai-status=busy]")
    busy.wait_for()
    assert "Drafting with AI" in busy.inner_text()
    shot(page, "1-drafting")
    editor = page.locator(".public-DraftEditor-content").first
    editor.get_by_text(DRAFTED).wait_for()
    assert editor.locator(f"a[href='{DOCS}']").inner_text() == "the Python docs"
    assert "AI draft inserted" in bar.locator("[data-ls-ai-status=ok]").inner_text()
    shot(page, "2-drafted")
    sent = ai.requests[-1]["body"]["messages"][1]["content"]
    assert "Explain loops to a beginner" in sent and "Loops for beginners" in sent

    # A failing endpoint: a clear message in the editor, and the editor still works.
    ai.mode = "error500"
    bar.locator("[data-ls-ai-action=draft]").click()
    bar.get_by_label("What should the AI write here?").fill("More please")
    bar.locator("[data-ls-ai-action=draft-go]").click()
    error = bar.locator("[data-ls-ai-status=error]")
    error.wait_for()
    assert "HTTP 500" in error.inner_text() and "Nothing was changed" in error.inner_text()
    shot(page, "3-endpoint-failed")
    bar.get_by_role("button", name="Cancel").click()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Written by hand.")
    editor.get_by_text("Written by hand.").wait_for()
    # Draftail copies its content into the form's hidden input a moment after a change.
    page.wait_for_function("""() => [...document.querySelectorAll('input[type=hidden]')]
        .some(input => input.value.includes('Written by hand.'))""")

    # Save a draft: the page exists, unpublished.
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(f"{url}/admin/pages/*/edit/")
    page.locator(".messages").get_by_text("created").wait_for()
    shot(page, "4-saved-draft")
    assert page.locator(".public-DraftEditor-content").first.get_by_text(DRAFTED).count() == 1

    # The tutorial: improve the first paragraph, summarise, save a draft.
    ai.mode = "ok"
    open_editor(page, f"{url}/admin/pages/{site['tutorial']}/edit/", "[data-ls-ai=on]",
                js_errors)
    paragraph = page.locator(".public-DraftEditor-content").first
    paragraph.get_by_text("loop visits each item").click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    ai.reply = {"paragraphs": [f"<p>{IMPROVED}</p>"]}
    tutorial_bar = page.locator("[data-ls-ai=on]").first
    page.evaluate("""improved => {
        window.changeSeen = new Promise(resolve => {
            setTimeout(() => resolve("no change event within 5 s"), 5000);
            document.querySelector('#page-edit-form').addEventListener('change', () => resolve(
                [...document.querySelectorAll('input[type=hidden]')]
                    .some(input => input.value.includes(improved))));
        });
    }""", IMPROVED)
    tutorial_bar.locator("[data-ls-ai-action=improve]").click()
    paragraph.get_by_text(IMPROVED).wait_for()
    # The form hears of the edit (Wagtail's unsaved-changes check listens for "change"), once
    # the new text is in the field's hidden input.
    assert page.evaluate("() => window.changeSeen", IMPROVED) is True
    assert paragraph.get_by_text("loop visits each item").count() == 0
    assert "A for loop visits each item." in ai.requests[-1]["body"]["messages"][1]["content"]
    shot(page, "5-improved")

    ai.reply = SUMMARY
    summarise = page.locator("[data-ls-ai-summarise]")
    # The button sits under the summary field, not at the bottom of the form.
    assert summarise.evaluate(
        "box => box.previousElementSibling && box.previousElementSibling.name === 'summary'")
    summarise.get_by_role("button", name="Summarise this tutorial").click()
    page.wait_for_function(
        "text => document.querySelector('textarea[name=summary]').value === text", arg=SUMMARY)
    sent = ai.requests[-1]["body"]["messages"][1]["content"]
    assert IMPROVED in sent and "total = 0" in sent  # what the editor has now, unsaved
    summarise.scroll_into_view_if_needed()
    shot(page, "6-summarised")
    page.get_by_role("button", name="Save draft").click()
    page.locator(".messages").get_by_text("updated").wait_for()
