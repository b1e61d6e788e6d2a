"""Layout fixes for Tesseract's page analysis, as plain functions of its paragraphs.

- Headings: Tesseract rarely labels them, but it estimates each word's point size; a paragraph
  of at most two short lines whose first word is 1.6 times the body's size (the median of
  paragraphs of three lines or more) is a `title`, 1.3 times a `sub_title`. The estimate is
  rough (it follows the x-height), hence the wide margins.
- Specks: a "paragraph" with fewer than two letters or digits and low confidence is dust on the
  scan, not text.
- Words hyphenated at the end of a paragraph Tesseract cut short are joined to the next one.
- Reading order: the same XY-cut as the text-layer reader (columns before rows), so scans and
  born-digital pages of one document are ordered alike.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace

from worker.layout.recognized import RecognizedBlock
from worker.textlayer.order import reading_order

TITLE_RATIO = 1.6
SUB_TITLE_RATIO = 1.3
MAX_HEADING_CHARS = 120
MIN_SPECK_CONFIDENCE = 0.5
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Paragraph:
    block: RecognizedBlock
    lines: int  # text lines in the paragraph
    size: float  # Tesseract's point size estimate of its first word; 0 if unknown


def is_speck(block: RecognizedBlock) -> bool:
    alnum = sum(1 for c in block.text if c.isalnum())
    return alnum < 2 and (block.confidence or 0.0) < MIN_SPECK_CONFIDENCE


def with_headings(paragraphs: list[Paragraph]) -> list[RecognizedBlock]:
    body_sizes = [p.size for p in paragraphs if p.block.type == "text" and p.lines >= 3 and p.size > 0]
    if not body_sizes:
        return [p.block for p in paragraphs]
    body = statistics.median(body_sizes)
    out = []
    for paragraph in paragraphs:
        block = paragraph.block
        short = paragraph.lines <= 2 and len(block.text) <= MAX_HEADING_CHARS
        if block.type == "text" and short and paragraph.size > 0:
            ratio = paragraph.size / body
            if ratio >= TITLE_RATIO:
                block = replace(block, type="title")
            elif ratio >= SUB_TITLE_RATIO:
                block = replace(block, type="sub_title")
        out.append(block)
    return out


def in_reading_order(blocks: list[RecognizedBlock]) -> list[RecognizedBlock]:
    boxed = [b for b in blocks if b.bbox is not None]
    unboxed = [b for b in blocks if b.bbox is None]
    order = reading_order([b.bbox for b in boxed if b.bbox is not None])
    return join_broken_words([boxed[i] for i in order]) + unboxed


def join_broken_words(blocks: list[RecognizedBlock]) -> list[RecognizedBlock]:
    """Tesseract ends a paragraph at a short line, so a word hyphenated there ("settle-" /
    "ment") lands in two paragraphs; in reading order they are joined again."""
    out: list[RecognizedBlock] = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.type == block.type == "text"
            and _HYPHEN_END.search(previous.text)
            and block.text[:1].islower()
        ):
            out[-1] = RecognizedBlock(
                "text",
                _union(previous.bbox, block.bbox),
                previous.text[:-1] + block.text,
                min(previous.confidence or 0.0, block.confidence or 0.0),
            )
        else:
            out.append(block)
    return out


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
