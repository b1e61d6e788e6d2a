"""A page's text layer → layout blocks, like an engine's: text, headings, tables and figures in
reading order, with boxes in page pixels.

- Headings come from font size and weight against the page's body size (the size most of its
  characters have): 1.6 times the body or more is a `title`, 1.15 times or a short all-bold
  paragraph a `sub_title`.
- Lines starting `Figure 3:` or `Table 2.` are `image_caption` / `table_caption`.
- Tables (found by the extractor) are written as HTML, the form DeepSeek-OCR gives; text
  inside a table is the table's.
- Figures are image regions and clusters of vector drawings, except those that are mostly text
  or hold lines of running text (a shaded box behind a paragraph, an infobox), specks, and
  page-sized backgrounds. Text inside a figure
  is its labels and is left to the figure.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass

from worker.layout.recognized import RecognizedBlock
from worker.textlayer.model import Box, Line, PageLayer, Table, TextBlock, area, intersection, share_inside
from worker.textlayer.normalize import join_lines
from worker.textlayer.order import reading_order

TITLE_RATIO = 1.6
SUB_TITLE_RATIO = 1.15
MAX_BOLD_HEADING_CHARS = 120
MIN_FIGURE_SIDE_PT = 12.0
BACKGROUND_SHARE = 0.85  # a figure this much of the page is a background or a border
TEXT_BOX_SHARE = 0.35  # a drawing this much covered by text is a box behind text
MIN_TEXT_BOX_LINES = 3  # ... and so is one holding this many lines of running text
INSIDE = 0.8
FLOAT_SHIFT = 0.2  # a line this much (of the page width) wider or narrower than the ones above


_CAPTION = re.compile(r"^(fig\.|figure|table|tab\.)\s*\d+[.:]?\s", re.IGNORECASE)


@dataclass(frozen=True)
class _Item:
    type: str
    bbox: Box
    text: str


def read_blocks(layer: PageLayer, scale: float) -> list[RecognizedBlock]:
    """`scale` turns points into page pixels (dpi / 72)."""
    tables = [t for t in layer.tables if area(t.bbox) > 0]
    text_blocks = [part for b in layer.blocks if _visible_text(b) for part in split_at_floats(b, layer.width)]
    figures = _figures(layer, text_blocks, tables)
    items: list[_Item] = [_Item("table", t.bbox, table_html(t)) for t in tables]
    items += [_Item("image", box, "") for box in figures]
    body = body_size(text_blocks)
    taken = [t.bbox for t in tables] + figures
    for block in text_blocks:
        kept = _outside(block, taken)
        if kept is None:
            continue
        text = join_lines([line.visible_text for line in kept.lines if line.horizontal])
        if text:
            items.append(_Item(caption_type(text) or heading_type(kept, body, text), kept.bbox, text))
    order = reading_order([item.bbox for item in items])
    return [_recognized(items[i], scale) for i in order]


def split_at_floats(block: TextBlock, page_width: float) -> list[TextBlock]:
    """A paragraph that flows beside a float (an infobox, a figure) and then runs on below it
    at full width is two boxes for the reading order: kept as one, its box would overlap the
    float and hide the column gutter."""
    parts: list[list[Line]] = [[]]
    for index, line in enumerate(block.lines):
        current = parts[-1]
        # only a line below the ones before can start a new part (not one beside them)
        if current and line.bbox[1] >= current[-1].bbox[3] - 1:
            widest = max(other.bbox[2] for other in current)
            widening = line.bbox[2] - widest > FLOAT_SHIFT * page_width
            # a short last line is the end of the paragraph, not a float beside it
            narrowing = widest - line.bbox[2] > FLOAT_SHIFT * page_width and index < len(block.lines) - 1
            if widening or (narrowing and widest - block.lines[index + 1].bbox[2] > FLOAT_SHIFT * page_width):
                parts.append([])
        parts[-1].append(line)
    if len(parts) == 1:
        return [block]
    return [TextBlock(tuple(lines), _union([line.bbox for line in lines])) for lines in parts]


def _outside(block: TextBlock, taken: list[Box]) -> TextBlock | None:
    """The block without its lines that lie in a table or a figure (None if nothing is left)."""
    lines = tuple(
        line for line in block.lines if not any(share_inside(line.bbox, box) >= INSIDE for box in taken)
    )
    if len(lines) == len(block.lines):
        return block
    if not lines:
        return None
    return TextBlock(lines, _union([line.bbox for line in lines]))


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _visible_text(block: TextBlock) -> bool:
    return any(span.visible and span.text.strip() for line in block.lines for span in line.spans)


def body_size(blocks: list[TextBlock]) -> float:
    sizes: Counter[float] = Counter()
    for block in blocks:
        for line in block.lines:
            for span in line.spans:
                sizes[round(span.size * 2) / 2] += len(span.text.strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def caption_type(text: str) -> str | None:
    """`Figure 3: ...` and `Table 2. ...` are captions, whatever their font."""
    match = _CAPTION.match(text)
    if match is None:
        return None
    return "table_caption" if match.group(1).lower().startswith("tab") else "image_caption"


def heading_type(block: TextBlock, body: float, text: str) -> str:
    spans = [span for line in block.lines for span in line.spans if span.text.strip()]
    chars = sum(len(span.text.strip()) for span in spans)
    if not chars or body <= 0:
        return "text"
    size = sum(span.size * len(span.text.strip()) for span in spans) / chars
    bold = sum(len(span.text.strip()) for span in spans if span.bold) >= 0.8 * chars
    if size >= TITLE_RATIO * body:
        return "title"
    if size >= SUB_TITLE_RATIO * body:
        return "sub_title"
    short = len(text) <= MAX_BOLD_HEADING_CHARS and len(block.lines) <= 2 and not text.endswith(".")
    if bold and short and _has_letters(text):
        return "sub_title"
    return "text"


def _has_letters(text: str) -> bool:
    # a lone number or symbol in bold is a label (a list marker, a table note), not a heading
    return any(c.isalpha() for c in text)


def _figures(layer: PageLayer, text_blocks: list[TextBlock], tables: list[Table]) -> list[Box]:
    page_area = layer.width * layer.height
    found: list[Box] = []
    for box in [*layer.images, *layer.drawings]:
        if min(box[2] - box[0], box[3] - box[1]) < MIN_FIGURE_SIDE_PT:
            continue
        if page_area and area(box) >= BACKGROUND_SHARE * page_area:
            continue
        if any(share_inside(box, t.bbox) >= 0.5 for t in tables):
            continue
        covered = sum(intersection(b.bbox, box) for b in text_blocks)
        if covered >= TEXT_BOX_SHARE * area(box) or _wordy_lines(text_blocks, box) >= MIN_TEXT_BOX_LINES:
            continue
        if any(share_inside(box, other) >= INSIDE for other in found):
            continue
        found = [other for other in found if share_inside(other, box) < INSIDE]
        found.append(box)
    return found


def _wordy_lines(blocks: list[TextBlock], box: Box) -> int:
    """Lines of running text (three words or more) inside `box`: a figure's labels are short."""
    return sum(
        1
        for block in blocks
        for line in block.lines
        if share_inside(line.bbox, box) >= INSIDE and len(line.text.split()) >= 3
    )


def table_html(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = "".join(
            f"<td>{html.escape(join_lines((cell or '').splitlines()), quote=False)}</td>"
            for cell in row
            if cell is not None
        )
        rows.append(f"<tr>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _recognized(item: _Item, scale: float) -> RecognizedBlock:
    x1, y1, x2, y2 = item.bbox
    box = (math.floor(x1 * scale), math.floor(y1 * scale), math.ceil(x2 * scale), math.ceil(y2 * scale))
    return RecognizedBlock(item.type, box, item.text)
