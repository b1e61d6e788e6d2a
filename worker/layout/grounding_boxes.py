"""The coordinates inside a DeepSeek-OCR `<|det|>...<|/det|>` tag.

The model writes a list of boxes, `[[x1, y1, x2, y2], ...]`, each corner normalised to 0..999
of the page image. The text is read with regular expressions, never evaluated: a box that is not
four numbers inside 0..999 with x1 < x2 and y1 < y2 is reported and left out, and text that is
not a list of boxes at all yields no box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NORM_MAX = 999  # the model's coordinate range is 0..999 inclusive

_GROUP = re.compile(r"\[([^\[\]]*)\]")
_SEPARATORS = re.compile(r"[\s,\[\]]*")
_BOX_CHARS = re.compile(r"[\s\[\],.\d-]*")
_NUMBER = re.compile(r"\s*(-?\d{1,6}(?:\.\d{1,6})?)\s*")

NormBox = tuple[float, float, float, float]
PixelBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class BoxIssue:
    code: str  # det_malformed, box_malformed, box_out_of_range, box_empty
    detail: str


def parse_det(text: str) -> tuple[list[NormBox], list[BoxIssue]]:
    """The boxes of one det tag's text, and what was wrong with the ones left out.

    Extra bracket levels (`[[[...]]]`) and a bare `[x1, y1, x2, y2]` are accepted; anything
    else between the boxes (words, other tags, unbalanced brackets) makes the whole tag malformed.
    """
    groups = list(_GROUP.finditer(text))
    leftover = _GROUP.sub(",", text)
    if not groups or not _SEPARATORS.fullmatch(leftover) or not _balanced(text):
        return [], [BoxIssue("det_malformed", _excerpt(text))]
    boxes: list[NormBox] = []
    issues: list[BoxIssue] = []
    for group in groups:
        box, issue = _parse_box(group.group(1))
        if box is not None:
            boxes.append(box)
        elif issue is not None:
            issues.append(issue)
    return boxes, issues


def split_unclosed_det(text: str) -> tuple[str, str]:
    """An unterminated det's text split into its coordinates and what follows them (the
    block's content, when the model forgot `<|/det|>`)."""
    run = _BOX_CHARS.match(text)
    prefix = run.group() if run else ""
    end = prefix.rfind("]") + 1
    if end == 0:  # no complete list: all coordinates if nothing else follows, else no box
        return (text, "") if len(prefix) == len(text) else ("", text)
    return text[:end], text[end:]


def _parse_box(inner: str) -> tuple[NormBox | None, BoxIssue | None]:
    parts = inner.split(",")
    matches = [_NUMBER.fullmatch(part) for part in parts]
    if len(parts) != 4 or not all(matches):
        return None, BoxIssue("box_malformed", _excerpt(f"[{inner}]"))
    x1, y1, x2, y2 = (float(m.group(1)) for m in matches if m is not None)
    if min(x1, y1, x2, y2) < 0 or max(x1, y1, x2, y2) > NORM_MAX:
        return None, BoxIssue("box_out_of_range", f"[{inner.strip()}] exceeds 0..{NORM_MAX}")
    if x2 <= x1 or y2 <= y1:
        return None, BoxIssue("box_empty", f"[{inner.strip()}] has no area")
    return (x1, y1, x2, y2), None


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def to_pixels(box: NormBox, width: int, height: int) -> PixelBox | None:
    """Page pixels of a normalised box, as the upstream scripts compute them
    (`int(c / 999 * size)`), or None when the box has no area at this page size."""
    x1, y1, x2, y2 = box
    px1, px2 = int(x1 / NORM_MAX * width), int(x2 / NORM_MAX * width)
    py1, py2 = int(y1 / NORM_MAX * height), int(y2 / NORM_MAX * height)
    px1, px2 = max(0, min(width, px1)), max(0, min(width, px2))
    py1, py2 = max(0, min(height, py1)), max(0, min(height, py2))
    if px2 <= px1 or py2 <= py1:
        return None
    return (px1, py1, px2, py2)


def union(boxes: list[PixelBox]) -> PixelBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
