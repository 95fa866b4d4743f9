"""HTML sanitising for everything the site did not write itself.

Rich text (editors, AI drafts, synced course descriptions) and notebook previews pass
through an allow-list: scripts, event handlers, `javascript:` links, iframes, styles and
anything that would load from another host are removed.
"""

from __future__ import annotations

import bleach
from bleach.css_sanitizer import CSSSanitizer

RICH_TEXT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
NOTEBOOK_TAGS = RICH_TEXT_TAGS | {"dl", "dt", "dd", "caption", "tfoot", "kbd", "samp", "var"}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in {"class", "title", "alt", "width", "height", "id", "colspan", "rowspan"}:
        return True
    lowered = value.strip().lower()
    if tag == "a" and name == "href":
        return lowered.startswith(("http://", "https://", "mailto:", "/", "#")) or (
            ":" not in lowered.split("/")[0]
        )
    if tag == "a" and name == "rel":
        return True
    if tag == "img" and name == "src":
        # Same-site images and inline notebook outputs only: nothing external may load.
        return lowered.startswith(("/", "data:image/png", "data:image/jpeg",
                                   "data:image/gif", "data:image/svg+xml"))
    return False


def clean_html(html: str, *, notebook: bool = False) -> str:
    return bleach.clean(
        html,
        tags=NOTEBOOK_TAGS if notebook else RICH_TEXT_TAGS,
        attributes=_allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
    )
