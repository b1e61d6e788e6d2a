"""Reading order by recursive XY-cut, columns first.

A region is split at a vertical gutter that no box crosses (columns, read left to right) before
it is split at a horizontal gap (rows, read top to bottom), and neighbouring rows that share a
gutter are kept together, so a two-column page is read column by column even where the
paragraphs of both columns end at the same height or a running head spans the page, and a
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
    columns = _split(indices, boxes, 0, MIN_GUTTER)
    if len(columns) > 1:
        return [index for group in columns for index in _cut(group, boxes)]
    rows = _merge_column_rows(_split(indices, boxes, 1, MIN_ROW_GAP), boxes)
    if len(rows) > 1:
        return [index for group in rows for index in _cut(group, boxes)]
    # boxes that overlap too much to cut apart keep the order they came in (the content
    # stream's, or the engine's), which is a better guess than their top edges
    return sorted(indices)


def _merge_column_rows(rows: list[list[int]], boxes: Sequence[Box]) -> list[list[int]]:
    """Rows of columns that share a gutter belong together: where both columns of a section happen
    to have a paragraph break at the same height, cutting there would read the section row by
    row across the columns."""
    merged: list[list[int]] = []
    for row in rows:
        if merged and all(_has_columns(part, boxes) for part in (merged[-1], row, merged[-1] + row)):
            merged[-1] = merged[-1] + row
        else:
            merged.append(row)
    return merged


def _has_columns(indices: list[int], boxes: Sequence[Box]) -> bool:
    # a row of one column (a title, a page number) is read where it stands, never merged
    return len(_split(indices, boxes, 0, MIN_GUTTER)) > 1


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
