"""Reading order by recursive XY-cut, columns first.

A region is split at a vertical gutter that no box crosses (columns, read left to right) before
it is split at a horizontal gap (rows, read top to bottom), so a two-column page is read column
by column even where the paragraphs of both columns happen to end at the same height, and a
full-width title or table is still read where it stands between column sections.
"""

from __future__ import annotations

from collections.abc import Sequence

from worker.textlayer.model import Box

# a gutter narrower than this is the space between words, not between columns (points)
MIN_GUTTER = 6.0
MIN_ROW_GAP = 0.5


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indices of `boxes` in reading order."""
    return _cut(list(range(len(boxes))), boxes)


def _cut(indices: list[int], boxes: Sequence[Box]) -> list[int]:
    if len(indices) <= 1:
        return indices
    for axis, gap in ((0, MIN_GUTTER), (1, MIN_ROW_GAP)):
        groups = _split(indices, boxes, axis, gap)
        if len(groups) > 1:
            return [index for group in groups for index in _cut(group, boxes)]
    # boxes that overlap too much to cut apart keep the order they came in (the content
    # stream's, or the engine's), which is a better guess than their top edges
    return sorted(indices)


def _split(indices: list[int], boxes: Sequence[Box], axis: int, min_gap: float) -> list[list[int]]:
    """Groups of boxes whose extents along `axis` (0: x, 1: y) are separated by `min_gap`."""
    ordered = sorted(indices, key=lambda i: boxes[i][axis])
    groups: list[list[int]] = []
    reach = float("-inf")
    for index in ordered:
        start, end = boxes[index][axis], boxes[index][axis + 2]
        if groups and start < reach + min_gap:
            groups[-1].append(index)
        else:
            groups.append([index])
        reach = max(reach, end) if len(groups[-1]) > 1 else end
    return groups
