"""What the AI drafts: posts, text for the editor, summaries, exercises.

Every result is a draft: an unpublished page, or text put into the page editor that is kept
only when the editor saves (a draft revision) and is live only when a person publishes.
Graded exercises are not drafted on the site (their solutions are for the course's
instructors only): instructors draft them in JupyterLab, through the grader."""

from __future__ import annotations

import json
import logging

from django.utils.text import slugify
from wagtail.models import Page
from wagtail.rich_text import RichText

from studio_site.base.sanitise import clean_html
from studio_site.blog.models import BlogIndexPage, BlogPage

from .client import AIDraftingError, complete, complete_json

log = logging.getLogger(__name__)

WRITER_SYSTEM = (
    "You help editors of Learning Studio, a site that teaches Python with Jupyter notebooks. "
    "Write clear, friendly, accurate text for learners. Answer with one JSON object only."
)


def _paragraphs(data: dict, key: str = "paragraphs") -> list[str]:
    items = data.get(key)
    if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
        raise AIDraftingError(f"The AI answer has no '{key}' list of strings. Nothing was changed.")
    return [clean_html(p if p.lstrip().startswith("<") else f"<p>{p}</p>") for p in items]


def draft_blog_post(topic: str, user, index: BlogIndexPage | None = None) -> BlogPage:
    index = index or BlogIndexPage.objects.first()
    if index is None:
        raise AIDraftingError("There is no blog index page to put the draft under. Create one.")
    data = complete_json(
        WRITER_SYSTEM,
        "Draft a blog post. JSON keys: title (string), intro (one sentence), paragraphs "
        f"(list of HTML paragraphs using <p>, <h2>, <ul>, <code>).\nTopic: {topic}",
        context=f"user={user} action=draft_post",
    )
    title = str(data.get("title") or topic).strip()[:255]
    paragraphs = _paragraphs(data)
    page = BlogPage(
        title=title, slug=slugify(title)[:80] or "draft", live=False,
        intro=str(data.get("intro", ""))[:300], author=user,
        body=[("paragraph", RichText(p)) for p in paragraphs],
    )
    base, n = page.slug, 1
    while Page.objects.filter(slug=page.slug).child_of(index).exists():
        n += 1
        page.slug = f"{base}-{n}"
    index.add_child(instance=page)
    page.save_revision(user=user, log_action=True)
    log.info("AI drafted post page=%s user=%s", page.pk, user)
    return page


def _html(data: dict) -> str:
    return "".join(_paragraphs(data))


def draft_text(request: str, user, *, page_title: str = "", context: str = "") -> str:
    """New text for the rich-text block an editor is writing in, as sanitised HTML."""
    data = complete_json(
        WRITER_SYSTEM,
        "Write text for a page of the site. JSON key: paragraphs (list of HTML strings, each "
        "one <p>, <h2>, <h3>, <ul> or <ol> element; inline <b>, <i>, <code> and <a href> "
        "allowed).\n"
        f"Page title: {page_title or '(not set yet)'}\nWhat to write: {request}",
        context=f"user={user} {context} action=draft_text",
    )
    return _html(data)


def improve_text(text: str, user, *, instructions: str = "", context: str = "") -> str:
    """A clearer version of text the editor selected, as sanitised HTML."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    data = complete_json(
        WRITER_SYSTEM,
        "Improve this text: clearer, correct, same meaning and facts. JSON key: paragraphs "
        "(list of HTML strings, one <p> per paragraph of the input, in order; inline <b>, <i>, "
        f"<code> allowed). {instructions}\n\n" + json.dumps({"paragraphs": paragraphs}),
        context=f"user={user} {context} action=improve_text",
    )
    return _html(data)


def page_text(page: Page) -> str:
    parts = [page.title, getattr(page, "intro", "")]
    for block in getattr(page, "body", []):
        if block.block_type == "paragraph":
            parts.append(clean_html(block.value.source))
        elif block.block_type == "heading":
            parts.append(str(block.value))
        elif block.block_type == "code":
            parts.append(block.value["code"])
    return "\n\n".join(p for p in parts if p)


def summarise_text(text: str, user, *, context: str = "") -> str:
    """A 2-4 sentence plain-text summary of a tutorial's text."""
    summary = complete(
        "You summarise programming tutorials for learners in 2-4 plain sentences. "
        "Answer with the summary only, no heading, no markup.",
        text[:12000],
        context=f"user={user} {context} action=summarise",
    )
    return summary.strip()[:2000]
