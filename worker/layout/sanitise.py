"""Make OCR and model output safe to put into full.md. Pure.

Recognised text is whatever the page (or the model) said, and markdown passes raw HTML through
to whoever renders it: a scanned `<script>`, an `onerror=` attribute or a `javascript:` link
would run in a reader's browser, and a spoofed `<!-- page 7 -->` would move page boundaries
for every tool that splits full.md on them. So:

    HTML comments        `<!--` is escaped: no page-marker look-alike, no hidden text
    HTML tags            each run of HTML is cleaned with an allowlist (nh3): tables, lists and
                         inline formatting stay, scripts, event handlers and styles go
    dangerous links      `javascript:`, `vbscript:` and `data:` targets of markdown links and
                         autolinks are disarmed

Applying it twice gives the same text.
"""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = {
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
    "b", "strong", "i", "em", "u", "s", "sub", "sup", "br", "p", "span", "div", "code", "pre",
    "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "a", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

_COMMENT_OPEN = re.compile(r"<!--")
# a complete tag as a browser would read it: `<name ...>`, `</name>`, `<name/>`
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_BAD_SCHEME = r"(?:j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|v\s*b\s*s\s*c\s*r\s*i\s*p\s*t|d\s*a\s*t\s*a)\s*:"
_MARKDOWN_LINK = re.compile(r"(\]\(\s*<?\s*)" + _BAD_SCHEME, re.IGNORECASE)
_AUTOLINK = re.compile(r"<(\s*" + _BAD_SCHEME + r"[^>]*)>", re.IGNORECASE)


def clean_html(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _clean_block(block: str) -> str:
    """Clean the stretch of a block from its first tag to its last; the markdown around it
    (text before a table, a caption after it) is left as written."""
    tags = list(_TAG.finditer(block))
    if not tags:
        return block
    start, end = tags[0].start(), tags[-1].end()
    return block[:start] + clean_html(block[start:end]) + block[end:]


def safe_markdown(markdown: str) -> str:
    text = _COMMENT_OPEN.sub("&lt;!--", markdown)
    text = _AUTOLINK.sub(lambda m: f"&lt;{m[1]}&gt;", text)
    text = _MARKDOWN_LINK.sub(r"\1#", text)
    return "\n\n".join(_clean_block(block) for block in text.split("\n\n"))
