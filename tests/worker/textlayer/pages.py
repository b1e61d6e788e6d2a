"""Hand-made text layers for the tests."""

from __future__ import annotations

from worker.textlayer.model import Box, Line, Span, TextBlock


def block(text: str, box: Box, size: float = 10.0, bold: bool = False, visible: bool = True) -> TextBlock:
    """One block whose lines are the lines of `text`, stacked inside `box`."""
    rows = text.split("\n")
    height = (box[3] - box[1]) / len(rows)
    lines = []
    for i, row in enumerate(rows):
        line_box = (box[0], box[1] + i * height, box[2], box[1] + (i + 1) * height)
        lines.append(Line((Span(row, line_box, size, bold, visible),), line_box))
    return TextBlock(tuple(lines), box)
