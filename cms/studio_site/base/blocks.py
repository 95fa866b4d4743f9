"""StreamField blocks shared by blog posts and tutorials."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import expand_db_html

from .ai_editor import WithAIControls
from .sanitise import clean_html

log = logging.getLogger(__name__)

LANGUAGES = [
    ("python", "Python"), ("pycon", "Python console"), ("bash", "Shell"), ("sql", "SQL"),
    ("json", "JSON"), ("yaml", "YAML"), ("html", "HTML"), ("javascript", "JavaScript"),
    ("text", "Plain text"),
]


class SafeRichTextBlock(WithAIControls, blocks.RichTextBlock):
    """Rich text rendered through the allow-list sanitiser; its editor has the AI bar."""

    def render_basic(self, value, context=None):
        return mark_safe(clean_html(expand_db_html(value.source)))


class CodeBlock(blocks.StructBlock):
    """Source code, highlighted on the server with Pygments (no JavaScript needed)."""

    language = blocks.ChoiceBlock(choices=LANGUAGES, default="python")
    code = blocks.TextBlock()

    class Meta:
        icon = "code"
        label = "Code"

    def render_basic(self, value, context=None):
        try:
            lexer = get_lexer_by_name(value["language"])
        except ClassNotFound:
            lexer = get_lexer_by_name("text")
        html = highlight(value["code"], lexer, HtmlFormatter(cssclass="highlight"))
        return format_html(
            '<div class="codeblock"><div class="lang">{}</div>{}</div>',
            value["language"], mark_safe(html),
        )


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    caption = blocks.CharBlock(required=False)

    class Meta:
        icon = "image"
        template = "base/blocks/image.html"


class NotebookPreviewError(Exception):
    """The uploaded file is not a notebook nbconvert can render."""


def render_notebook_html(raw: bytes) -> str:
    """Render a .ipynb to sanitised HTML (cells and outputs, no scripts, no external loads)."""
    import nbformat
    from nbconvert import HTMLExporter

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        raise NotebookPreviewError(f"not a readable notebook: {error}") from error
    exporter = HTMLExporter(template_name="basic")
    # nbconvert's own sanitiser escapes headings and tables; ours strips what is unsafe.
    exporter.sanitize_html = False
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(notebook)
    return clean_html(body, notebook=True)


class NotebookBlock(blocks.StructBlock):
    """A read-only preview of an uploaded notebook (.ipynb document)."""

    title = blocks.CharBlock(required=False)
    notebook = DocumentChooserBlock(help_text="Upload the .ipynb as a document first.")

    class Meta:
        icon = "doc-full"
        label = "Notebook preview"

    def render_basic(self, value, context=None):
        document = value["notebook"]
        if document is None:
            return ""
        key = f"studio:nbpreview:{document.pk}:{document.file_hash}"
        html = cache.get(key)
        if html is None:
            try:
                with document.file.open("rb") as handle:
                    html = render_notebook_html(handle.read())
            except (NotebookPreviewError, OSError) as error:
                log.warning("notebook preview document=%s failed: %s", document.pk, error)
                html = format_html(
                    "<p class='meta'>This notebook cannot be shown: {}</p>", str(error)
                )
            cache.set(key, html, 24 * 3600)
        return format_html(
            '<section class="notebook-preview"><div class="nb-title">{}</div>{}'
            '<p class="meta"><a href="{}">Download {}</a></p></section>',
            value["title"] or document.title, mark_safe(html), document.url, document.filename,
        )


class ArticleStreamBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", icon="title", template="base/blocks/heading.html")
    paragraph = SafeRichTextBlock(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "code", "blockquote"]
    )
    code = CodeBlock()
    image = ImageBlock()
    notebook = NotebookBlock()
