"""A page's text layer as plain data, in PDF points (origin top-left, like the page image).

`extract` fills these from PyMuPDF; everything else in the package works on them alone, so it
is tested with hand-made pages.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x1, y1, x2, y2


@dataclass(frozen=True)
class Span:
    text: str
    bbox: Box
    size: float
    bold: bool = False
    visible: bool = True  # False for invisible text (render mode 3, an OCR layer over a scan)


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    bbox: Box
    horizontal: bool = True

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def visible_text(self) -> str:
        return "".join(span.text for span in self.spans if span.visible)


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[Line, ...]
    bbox: Box


@dataclass(frozen=True)
class Table:
    bbox: Box
    rows: tuple[tuple[str | None, ...], ...]  # None: a cell merged into its left or upper neighbour


@dataclass(frozen=True)
class PageLayer:
    width: float
    height: float
    blocks: tuple[TextBlock, ...] = ()
    tables: tuple[Table, ...] = ()
    images: tuple[Box, ...] = ()  # where raster images are drawn
    drawings: tuple[Box, ...] = ()  # clusters of vector drawing operations


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def share_inside(inner: Box, outer: Box) -> float:
    """How much of `inner` lies within `outer` (0..1)."""
    own = area(inner)
    return intersection(inner, outer) / own if own > 0 else 0.0
