"""Whether a page's text layer can stand in for OCR.

The rule, in order (the first that applies decides):

1. nothing on the page at all (no text, image or drawing) → usable (`blank_page`): OCR would
   find nothing either;
2. no visible text but images or drawings → not usable (`no_text_layer`): a scan, or text
   drawn as outlines;
3. half or more of the characters invisible → not usable (`invisible_text_layer`): an OCR layer
   over a scan, of unknown quality, so the engine reads the image again;
4. more than 5% replacement, private-use or control characters → not usable (`garbled_glyphs`):
   fonts without a usable Unicode map;
5. at least 100 Latin letters of which fewer than 22% are vowels → not usable
   (`implausible_text`): a font whose glyphs map to the wrong letters (a shifted or private
   encoding), which reads as valid but meaningless text; every Latin-script language has
   far more vowels than that;
6. half or more of the characters on lines that are not horizontal → not usable
   (`rotated_text`): the reader orders horizontal lines only;
7. images covering half the page or more and fewer than 10 visible characters per square inch
   → not usable (`mostly_image`): a scan with a stamp or a few lines of digital text on it;
8. fewer than 20 visible characters → not usable (`too_little_text`) unless the page has no
   images: a caption on a photo page;
9. otherwise usable (`text_layer_usable`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from worker.textlayer.model import PageLayer, area

MAX_BAD_GLYPH_SHARE = 0.05
MIN_CHARS_PER_SQ_INCH = 10.0
IMAGE_PAGE_SHARE = 0.5
MIN_CHARS = 20
MIN_LETTERS_FOR_VOWELS = 100
MIN_VOWEL_SHARE = 0.22
_VOWELS = frozenset("aeiouyAEIOUY")


@dataclass(frozen=True)
class Usability:
    usable: bool
    reason: str  # a stable code, see the module docstring


@dataclass(frozen=True)
class GlyphCounts:
    visible: int = 0
    invisible: int = 0
    bad: int = 0
    rotated: int = 0
    latin: int = 0  # ASCII letters
    vowels: int = 0


def is_bad_glyph(char: str) -> bool:
    if char == "\ufffd":
        return True
    category = unicodedata.category(char)
    return category in ("Co", "Cs") or (category == "Cc" and char not in "\t\n\r")


def count_glyphs(layer: PageLayer) -> GlyphCounts:
    visible = invisible = bad = rotated = latin = vowels = 0
    for block in layer.blocks:
        for line in block.lines:
            for span in line.spans:
                chars = [c for c in span.text if not c.isspace()]
                if span.visible:
                    visible += len(chars)
                else:
                    invisible += len(chars)
                bad += sum(1 for c in chars if is_bad_glyph(c))
                if not line.horizontal:
                    rotated += len(chars)
                letters = [c for c in chars if c.isascii() and c.isalpha()]
                latin += len(letters)
                vowels += sum(1 for c in letters if c in _VOWELS)
    return GlyphCounts(visible, invisible, bad, rotated, latin, vowels)


def judge(layer: PageLayer) -> Usability:
    glyphs = count_glyphs(layer)
    total = glyphs.visible + glyphs.invisible
    has_graphics = bool(layer.images or layer.drawings)
    if total == 0:
        return Usability(not has_graphics, "no_text_layer" if has_graphics else "blank_page")
    if glyphs.invisible * 2 >= total:
        return Usability(False, "invisible_text_layer")
    if glyphs.bad > MAX_BAD_GLYPH_SHARE * total:
        return Usability(False, "garbled_glyphs")
    if glyphs.latin >= MIN_LETTERS_FOR_VOWELS and glyphs.vowels < MIN_VOWEL_SHARE * glyphs.latin:
        return Usability(False, "implausible_text")
    if glyphs.rotated * 2 >= total:
        return Usability(False, "rotated_text")
    page_area = layer.width * layer.height
    image_area = sum(area(box) for box in layer.images)
    if page_area > 0 and image_area >= IMAGE_PAGE_SHARE * page_area:
        square_inches = page_area / (72.0 * 72.0)
        if glyphs.visible < MIN_CHARS_PER_SQ_INCH * square_inches:
            return Usability(False, "mostly_image")
    if glyphs.visible < MIN_CHARS and layer.images:
        return Usability(False, "too_little_text")
    return Usability(True, "text_layer_usable")
