"""PyMuPDF → `PageLayer`: the only module of the package that touches a PDF.

Coordinates come out in points of the page as displayed (PyMuPDF applies the page's rotation),
clipped to the page: images placed partly or wholly off the page count only where they show.
Tables are looked for only on pages with ruling lines, since the table finder is the slowest
step by far. A page whose content streams exceed `MAX_CONTENT_BYTES` is refused
(`page_too_complex`): reading runs without the render deadline, so a pathological page is left
to the renderer, which has one.
"""

from __future__ import annotations

from typing import Any

import pymupdf

from shared.errors import DocumentError
from worker.textlayer.model import Box, Line, PageLayer, Span, Table, TextBlock, area

_BOLD = 16  # PyMuPDF span flag
MIN_RULE_PT = 30.0
MAX_CONTENT_BYTES = 400_000
_TEXT_FLAGS = (pymupdf.TEXTFLAGS_DICT | pymupdf.TEXT_MEDIABOX_CLIP) & ~pymupdf.TEXT_PRESERVE_IMAGES


def read_layer(page: pymupdf.Page, max_content_bytes: int = MAX_CONTENT_BYTES) -> PageLayer:
    size = content_bytes(page)
    if size > max_content_bytes:
        # extraction has no deadline; a page this heavy is left to the renderer, which has one
        raise DocumentError(
            f"page {page.number + 1} holds {size:,} bytes of content; too complex to read its text layer",
            "page_too_complex",
        )
    rect = page.rect
    width, height = float(rect.width), float(rect.height)
    blocks = tuple(_blocks(page.get_text("dict", flags=_TEXT_FLAGS)))
    images = _clipped((info["bbox"] for info in page.get_image_info()), width, height)
    paths = page.get_drawings()
    drawings = _clipped(page.cluster_drawings(drawings=paths), width, height) if paths else ()
    tables = tuple(_tables(page)) if _ruled(paths) else ()
    return PageLayer(width, height, blocks, tables, images, drawings)


def content_bytes(page: pymupdf.Page) -> int:
    """Compressed size of the page's content streams and of the forms it draws."""
    doc = page.parent
    xrefs = [*page.get_contents(), *(item[0] for item in page.get_xobjects())]
    return sum(len(doc.xref_stream_raw(xref) or b"") for xref in xrefs)


def _blocks(data: dict[str, Any]) -> list[TextBlock]:
    blocks = []
    for block in data.get("blocks", []):
        if block.get("type") != 0:
            continue
        lines = []
        for line in block["lines"]:
            spans = tuple(
                Span(
                    text=span["text"],
                    bbox=_box(span["bbox"]),
                    size=float(span["size"]),
                    bold=bool(span["flags"] & _BOLD),
                    visible=span.get("alpha", 255) != 0,
                )
                for span in line["spans"]
            )
            dx, dy = line["dir"]
            lines.append(Line(spans, _box(line["bbox"]), horizontal=dx > 0.99 and abs(dy) < 0.05))
        if lines:
            blocks.append(TextBlock(tuple(lines), _box(block["bbox"])))
    return blocks


def _ruled(paths: list[dict[str, Any]]) -> bool:
    """Whether the drawings hold the three horizontal rules a ruled table needs at least (the
    table finder costs more than everything else together, so it runs only then)."""
    rules = 0
    for path in paths:
        for item in path.get("items", ()):
            if item[0] == "re":
                rect = item[1]
                rules += 2 if rect.width >= MIN_RULE_PT else 0
            elif item[0] == "l":
                start, end = item[1], item[2]
                rules += 1 if abs(end.y - start.y) < 1 and abs(end.x - start.x) >= MIN_RULE_PT else 0
            if rules >= 3:
                return True
    return False


def _tables(page: pymupdf.Page) -> list[Table]:
    found = []
    for table in page.find_tables().tables:
        rows = tuple(tuple(cell for cell in row) for row in table.extract())
        if len(rows) >= 2 and max(len(row) for row in rows) >= 2:
            found.append(Table(_box(table.bbox), rows))
    return found


def _box(values: Any) -> Box:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)


def _clipped(boxes: Any, width: float, height: float) -> tuple[Box, ...]:
    out = []
    for values in boxes:
        x1, y1, x2, y2 = _box(values)
        box = (max(0.0, x1), max(0.0, y1), min(width, x2), min(height, y2))
        if area(box) > 0:
            out.append(box)
    return tuple(out)
