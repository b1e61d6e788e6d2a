"""DeepSeek-OCR output as it streams → text a person can read live. Pure.

Token deltas arrive as the model writes them, with tags split anywhere:

    <|ref|>title<|/ref|><|det|>[[100, 50, 900, 80]]<|/det|>
    # Document Title

The filter drops the grounding markup (a ref naming a block type, each det with its boxes, the
newline after a block's header) and DeepSeek's special tokens, and passes everything else on at
once. It holds back only what could still become a tag: a ref until it closes (at most
`MAX_REF_CHARS`), a det until it closes, and a trailing `<...` of a few characters. A ref that
names no block type (the `OCR this image` prompt puts the recognised words there) is passed on
as text, as the grounding parser reads it. Feeding a text in any number of pieces gives the
output of feeding it whole, so token boundaries never change what a watcher sees.
"""

from __future__ import annotations

import re

from worker.layout.grounding import KNOWN_TYPES
from worker.layout.grounding_boxes import split_unclosed_det

MAX_REF_CHARS = 200
# grounding tags and the ASCII-barred chat markers of the OCR prompts
_TAGS = {
    "<|ref|>": "ref",
    "<|/ref|>": "/ref",
    "<|det|>": "det",
    "<|/det|>": "/det",
    "<|grounding|>": "marker",
    "<|User|>": "marker",
    "<|Assistant|>": "marker",
}
# DeepSeek's own special tokens, written with full-width bars (U+FF5C)
_WIDE = re.compile(r"<\uff5c[^\uff5c<>\n]{1,40}\uff5c>")
_WIDE_PREFIX = re.compile(r"<(?:\uff5c[^\uff5c<>\n]{0,40}\uff5c?)?")


def _tag_at(text: str) -> tuple[str, int] | None:
    """The tag `text` starts with, and its length."""
    for literal, name in _TAGS.items():
        if text.startswith(literal):
            return name, len(literal)
    match = _WIDE.match(text)
    return ("marker", match.end()) if match else None


def _could_become_tag(text: str) -> bool:
    return any(literal.startswith(text) for literal in _TAGS) or _WIDE_PREFIX.fullmatch(text) is not None


_LITERAL = "<literal>"  # a `<` that starts no tag


class GroundingStreamFilter:
    """One page's stream: `feed` each delta, `finish` once at the end; both return the text to
    pass on."""

    def __init__(self) -> None:
        self._pending = ""
        self._state = "text"  # text | ref | det
        self._ref = ""
        self._det = ""
        # a block type's header (ref, det) is followed by a newline that is no part of the text
        self._after_label = True
        self._skip_newline = False

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        return self._drain(final=False)

    def finish(self) -> str:
        out = self._drain(final=True)
        if self._state == "ref":
            out += self._close_ref()
        elif self._state == "det":
            out += self._close_unterminated_det()
        self._state, self._pending = "text", ""
        return out

    def _drain(self, final: bool) -> str:
        out: list[str] = []
        while self._pending:
            step = {"text": self._text, "ref": self._in_ref, "det": self._in_det}[self._state]
            if not step(out, final):
                break
        return "".join(out)

    # each step consumes some of `_pending` and returns False when it must wait for more
    def _text(self, out: list[str], final: bool) -> bool:
        pending = self._pending
        if self._skip_newline and not pending.startswith("<"):
            self._skip_newline = False
            if pending.startswith("\n"):
                self._pending = pending[1:]
                return True
        text, at_tag = self._take_text()
        if text:
            out.append(text)
            return True
        if not at_tag:
            return True
        what = self._read_tag(final)
        if what is None:
            return False
        if what == _LITERAL:
            out.append("<")
        else:
            self._enter(what)
        return True

    def _in_ref(self, out: list[str], final: bool) -> bool:
        text, at_tag = self._take_text()
        self._ref += text
        if "\n" in self._ref.strip() or len(self._ref) > MAX_REF_CHARS:
            out.append(self._ref)  # never meant as a ref: it is text
            self._ref, self._state = "", "text"
            return True
        if not at_tag:
            return True
        what = self._read_tag(final)
        if what is None:
            return False
        if what == _LITERAL:
            self._ref += "<"
        elif what != "marker":
            out.append(self._close_ref())
            if what != "/ref":  # another tag closes the ref, then counts as itself
                self._enter(what)
        return True

    def _in_det(self, out: list[str], final: bool) -> bool:
        text, at_tag = self._take_text()
        self._det += text
        if not at_tag:
            return True
        what = self._read_tag(final)
        if what is None:
            return False
        if what == _LITERAL:
            self._det += "<"
        elif what == "/det":
            self._det, self._state = "", "text"
            self._skip_newline = self._after_label
        elif what != "marker":
            out.append(self._close_unterminated_det())  # another tag closes it, then counts as itself
            self._enter(what)
        return True

    def _take_text(self) -> tuple[str, bool]:
        """Take the text before the next `<`; True when a `<` is left at the front."""
        pending = self._pending
        cut = pending.find("<")
        if cut < 0:
            self._pending = ""
            return pending, False
        self._pending = pending[cut:]
        return pending[:cut], True

    def _read_tag(self, final: bool) -> str | None:
        """At a `<`: the tag it starts (consumed), `_LITERAL` for a `<` that starts none
        (consumed), or None while the input may still become a tag."""
        tag = _tag_at(self._pending)
        if tag is None:
            if not final and _could_become_tag(self._pending):
                return None
            self._pending = self._pending[1:]
            return _LITERAL
        self._pending = self._pending[tag[1] :]
        return tag[0]

    def _close_unterminated_det(self) -> str:
        # as the grounding parser does: the boxes go, the text the model wrote after them stays
        _boxes, rest = split_unclosed_det(self._det)
        self._det, self._state = "", "text"
        return rest

    def _enter(self, tag: str) -> None:
        if tag == "ref":
            self._state, self._ref = "ref", ""
        elif tag == "det":
            self._state, self._det = "det", ""
        else:  # a marker, or a closing tag with nothing open
            self._state = "text"

    def _close_ref(self) -> str:
        ref, self._ref = self._ref.strip(), ""
        self._state = "text"
        self._after_label = ref in KNOWN_TYPES
        if self._after_label:
            self._skip_newline = True
            return ""
        return ref
