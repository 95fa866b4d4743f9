"""The allow-list HTML sanitiser (nh3) that rich text, AI drafts, synced course
descriptions and notebook previews pass through."""

from __future__ import annotations

import pytest
from studio_site.base.sanitise import clean_html


@pytest.mark.parametrize("dirty, gone", [
    ('<p>a<script>alert(1)</script>b</p>', ["<script", "alert(1)"]),
    ('<p>a<SCRIPT src="http://evil.test/x.js"></SCRIPT>b</p>', ["script", "evil.test"]),
    ('<style>body{display:none}</style><p>a</p>', ["<style", "display:none"]),
    ('<p style="position:fixed;top:0">a</p>', ["style=", "position"]),
    ('<img src="/x.png" onerror="alert(1)">', ["onerror", "alert"]),
    ('<p onclick="steal()" onmouseover="x()">a</p>', ["onclick", "onmouseover", "steal"]),
    ('<a href="javascript:alert(1)">a</a>', ["javascript:", "alert"]),
    ('<a href="JaVaScRiPt:alert(1)">a</a>', ["alert"]),
    ('<a href=" javascript:alert(1)">a</a>', ["alert"]),
    ('<a href="vbscript:msgbox(1)">a</a>', ["vbscript"]),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">a</a>', ["data:"]),
    ('<img src="http://evil.test/track.png">', ["evil.test"]),
    ('<img src="data:text/html,<script>alert(1)</script>">', ["data:text", "script"]),
    ('<iframe src="http://evil.test"></iframe>', ["<iframe", "evil.test"]),
    ('<object data="x.swf"></object><embed src="x.swf">', ["<object", "<embed", "x.swf"]),
    ('<form action="http://evil.test"><input name="p"></form>', ["<form", "<input"]),
    ('<svg><script>alert(1)</script></svg>', ["<svg", "alert"]),
    ('<p>a<!-- <script>alert(1)</script> -->b</p>', ["<!--", "alert"]),
    ('<meta http-equiv="refresh" content="0;url=http://evil.test">', ["<meta", "evil.test"]),
])
def test_unsafe_markup_is_removed(dirty: str, gone: list[str]) -> None:
    cleaned = clean_html(dirty)
    for bad in gone:
        assert bad.lower() not in cleaned.lower(), (bad, cleaned)


@pytest.mark.parametrize("html", [
    '<p>Hello <b>bold</b> <i>it</i> <code>x = 1</code></p>',
    '<h2 id="intro">Intro</h2><ul><li>one</li></ul><ol><li>two</li></ol>',
    '<a href="https://docs.python.org/3/">docs</a>',
    '<a href="/tutorials/lists-and-loops/">same site</a>',
    '<a href="#section">anchor</a>',
    '<a href="mailto:ada@example.org">mail</a>',
    '<a href="relative/page/">relative</a>',
    '<a href="https://example.org" rel="nofollow">rel kept</a>',
    '<img src="/media/images/x.png" alt="x" width="10" height="10">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<table><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td>c</td></tr></tbody></table>',
    '<blockquote class="quote" title="t">q</blockquote>',
])
def test_allowed_markup_is_kept(html: str) -> None:
    assert clean_html(html) == html


def test_disallowed_tags_keep_their_text() -> None:
    assert clean_html("<p><marquee>moving</marquee> <font>old</font></p>") == "<p>moving old</p>"


def test_notebook_tags_only_in_notebook_previews() -> None:
    html = "<dl><dt>term</dt><dd>meaning</dd></dl><kbd>Ctrl</kbd>"
    assert clean_html(html, notebook=True) == html
    assert clean_html(html) == "termmeaningCtrl"
