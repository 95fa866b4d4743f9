"""HTML sanitising for everything the site did not write itself.

Rich text (editors, AI drafts, synced course descriptions) and notebook previews pass
through an allow-list (nh3, the Python binding of the Rust `ammonia` sanitiser): scripts
and styles with their content, event handlers, `style` attributes, `javascript:` links,
iframes, comments and anything that would load from another host are removed.
"""

from __future__ import annotations

import nh3

RICH_TEXT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
NOTEBOOK_TAGS = RICH_TEXT_TAGS | {"dl", "dt", "dd", "caption", "tfoot", "kbd", "samp", "var"}
# Any tag may carry these; a and img get the ones _keep_attribute then checks.
GENERIC_ATTRIBUTES = {"class", "title", "alt", "width", "height", "id", "colspan", "rowspan"}
ATTRIBUTES = {"*": GENERIC_ATTRIBUTES, "a": {"href", "rel"}, "img": {"src"}}
URL_SCHEMES = {"http", "https", "mailto", "data"}


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute_filter: the value to keep, or None to drop the attribute."""
    if name in GENERIC_ATTRIBUTES or (tag == "a" and name == "rel"):
        return value
    lowered = value.strip().lower()
    if tag == "a" and name == "href":
        if lowered.startswith(("http://", "https://", "mailto:", "/", "#")) or (
            ":" not in lowered.split("/")[0]
        ):
            return value
        return None
    if tag == "img" and name == "src":
        # Same-site images and inline notebook outputs only: nothing external may load.
        if lowered.startswith(("/", "data:image/png", "data:image/jpeg", "data:image/gif",
                               "data:image/svg+xml")):
            return value
        return None
    return None


def clean_html(html: str, *, notebook: bool = False) -> str:
    return nh3.clean(
        html,
        tags=NOTEBOOK_TAGS if notebook else RICH_TEXT_TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
        # Keep an editor's rel as written (ammonia would otherwise impose its own).
        link_rel=None,
    )
