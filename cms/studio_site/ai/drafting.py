"""What the AI drafts: posts, improved text, summaries, exercises. Every result is a draft
(an unpublished page, a draft revision of a live page, or an ExerciseDraft)."""

from __future__ import annotations

import json
import logging

from django.utils.text import slugify
from wagtail.models import Page
from wagtail.rich_text import RichText

from studio_site.blog.models import BlogIndexPage, BlogPage
from studio_site.home.sanitise import clean_html
from studio_site.tutorials.models import TutorialPage

from .client import AIDraftingError, complete, complete_json
from .exercise import EXERCISE_SYSTEM, build_exercise_notebook
from .models import ExerciseDraft

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


def improve_page(page: Page, user, instructions: str = ""):
    """Rewrite the intro and every text paragraph; code, images and notebooks stay as they are."""
    draft = page.get_latest_revision_as_object()
    if not isinstance(draft, BlogPage | TutorialPage):
        raise AIDraftingError("Only blog posts and tutorials can be improved.")
    indexes = [i for i, block in enumerate(draft.body) if block.block_type == "paragraph"]
    originals = [draft.body[i].value.source for i in indexes]
    data = complete_json(
        WRITER_SYSTEM,
        "Improve this text: clearer, correct, same meaning and facts, same HTML tags. "
        f"Return JSON with keys intro (string) and paragraphs (list of exactly {len(originals)} "
        f"HTML strings, in order). {instructions}\n\n"
        + json.dumps({"intro": draft.intro, "paragraphs": originals}),
        context=f"user={user} page={page.pk} action=improve",
    )
    improved = _paragraphs(data)
    if len(improved) != len(originals):
        raise AIDraftingError(
            f"The AI returned {len(improved)} paragraphs for {len(originals)}. Nothing was "
            "changed; try again."
        )
    for i, html in zip(indexes, improved, strict=True):
        draft.body[i] = ("paragraph", RichText(html))
    if isinstance(data.get("intro"), str) and data["intro"].strip():
        draft.intro = data["intro"].strip()[:300]
    revision = draft.save_revision(user=user, log_action=True)
    log.info("AI improved page=%s user=%s revision=%s", page.pk, user, revision.pk)
    return revision


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


def summarise_tutorial(page: Page, user):
    draft = page.get_latest_revision_as_object()
    if not isinstance(draft, TutorialPage):
        raise AIDraftingError("Only tutorials have a summary to draft.")
    text = complete(
        "You summarise programming tutorials for learners in 2-4 plain sentences.",
        page_text(draft)[:12000],
        context=f"user={user} page={page.pk} action=summarise",
    )
    draft.summary = text.strip()[:2000]
    return draft.save_revision(user=user, log_action=True)


def draft_exercise(topic: str, user, course=None, assignment_id: str = "") -> ExerciseDraft:
    slug = slugify(assignment_id or topic)[:60] or "exercise"
    data = complete_json(
        EXERCISE_SYSTEM, f"Topic: {topic}",
        context=f"user={user} course={getattr(course, 'course_id', '-')} "
                f"assignment={slug} action=exercise",
    )
    notebook = build_exercise_notebook(data, slug)
    return ExerciseDraft.objects.create(
        title=str(data["title"])[:200], topic=topic, course=course, assignment_id=slug,
        notebook=json.loads(json.dumps(notebook)), created_by=user,
    )
