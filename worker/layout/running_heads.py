"""Running heads and footers: page numbers, running titles, "Downloaded from ..." lines.

They become `page_header` / `page_footer` blocks, kept in layout.json and left out of full.md.
Two passes, both on any engine's blocks (text layer, Tesseract, DeepSeek-OCR), needing boxes:

- one page on its own (`mark_page_furniture`, when the page is built): a page number, or a
  short line that starts or ends with one, in the top or bottom band; a download or licence
  notice anywhere on the page;
- the whole document (`mark_repeated_furniture`, when results are assembled): a short block in
  the top or bottom band whose text, digits aside, recurs on several pages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from shared.layout import Block, LayoutPage

BAND = 0.15  # share of the page height at the top and the bottom where one page's pattern counts
REPEAT_BAND = 0.15
MAX_CHARS = 120
MIN_REPEAT_SHARE = 0.3
FURNITURE = frozenset({"page_header", "page_footer"})

_ROMAN = r"[ivxlcdm]{1,7}"
_PAGE_NUMBER = re.compile(
    rf"^(?:[-–—]\s*)?(?:(?:page|p\.|seite|pág\.?)\s*)?(?:\d{{1,4}}|{_ROMAN})(?:\s*(?:of|/|de|von)\s*\d{{1,4}})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
# "102 CHAPTER 2. INDUCTION" / "2.1. INTRODUCTION 103": a running title with its page number
_TITLED_NUMBER = re.compile(
    r"^(?!(?:table|figure|fig\.|chapter|section|part|appendix|equation)\b)"
    r"(?:\d{1,4}\s+.*[^\W\d_].*|.*[^\W\d_].*\s+\d{1,4})$",
    re.IGNORECASE,
)
_NOTICE = re.compile(
    r"^(?:this content )?(?:downloaded|retrieved|accessed) (?:from|on|by)\b"
    r"|\ball use subject to\b|^licensed to\b|^provided by\b.*\blibrary\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^\w]+")


def mark_page_furniture(blocks: Sequence[Block], height: int) -> None:
    """Relabel, in place, the running heads and footers one page shows on its own."""
    if height <= 0:
        return
    for block in blocks:
        if block.bbox is None or block.type in ("table", "image") or len(block.text) > 300:
            continue
        text = " ".join(block.text.split())
        top = block.bbox[3] <= BAND * height
        bottom = block.bbox[1] >= (1 - BAND) * height
        in_band = (top or bottom) and len(text) <= MAX_CHARS
        numbered = _PAGE_NUMBER.match(text) or (block.type == "text" and _TITLED_NUMBER.match(text))
        if _NOTICE.search(text) or (in_band and numbered):
            upper = (block.bbox[1] + block.bbox[3]) / 2 < height / 2
            block.type = "page_header" if upper else "page_footer"


def mark_repeated_furniture(pages: Sequence[LayoutPage]) -> set[int]:
    """Relabel, in place, band blocks whose text recurs across pages; the numbers of the pages
    that changed."""
    succeeded = [page for page in pages if page.status == "succeeded" and page.height > 0]
    if len(succeeded) < 2:
        return set()
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    candidates: list[tuple[LayoutPage, Block, tuple[str, str]]] = []
    for page in succeeded:
        for block in page.blocks:
            key = _band_key(block, page.height)
            if key is not None:
                seen[key].add(page.number)
                candidates.append((page, block, key))
    needed = max(2, MIN_REPEAT_SHARE * len(succeeded))
    changed: set[int] = set()
    for page, block, key in candidates:
        if len(seen[key]) >= needed and block.type not in FURNITURE:
            block.type = "page_header" if key[0] == "top" else "page_footer"
            changed.add(page.number)
    return changed


def _band_key(block: Block, height: int) -> tuple[str, str] | None:
    if block.bbox is None or block.type in ("table", "image") or not block.text.strip():
        return None
    if len(block.text) > MAX_CHARS:
        return None
    if block.bbox[3] <= REPEAT_BAND * height:
        band = "top"
    elif block.bbox[1] >= (1 - REPEAT_BAND) * height:
        band = "bottom"
    else:
        return None
    words = _NOT_WORD.sub(" ", _DIGITS.sub("#", block.text.lower())).strip()
    return (band, words) if words.strip("# ") else None
