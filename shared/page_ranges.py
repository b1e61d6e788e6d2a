"""Page selections like `1-3,7,10-`: parsed once, resolved against a document's page count."""

from __future__ import annotations

import re

from shared.errors import Unprocessable

# nine digits at most: longer numbers are no page, and int() refuses over 4,300 digits
_PART = re.compile(r"^\s*(\d{1,9})\s*(?:(-)\s*(\d{1,9})?)?\s*$")
MAX_PARTS = 200


def parse_page_ranges(spec: str) -> list[tuple[int, int | None]]:
    """Parse into `(first, last)` pairs, 1-based and inclusive; `last` None means the last page."""
    parts = spec.split(",")
    if len(parts) > MAX_PARTS:
        raise Unprocessable(f"page range has more than {MAX_PARTS} parts", "invalid_page_range")
    ranges: list[tuple[int, int | None]] = []
    for part in parts:
        match = _PART.match(part)
        if not match:
            raise Unprocessable(
                f"invalid page range {part.strip()[:40]!r}: use numbers and ranges like '1-3,7,10-'",
                "invalid_page_range",
            )
        first = int(match.group(1))
        last: int | None = (
            first if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
        )
        if first < 1 or (last is not None and last < first):
            raise Unprocessable(f"invalid page range {part.strip()!r}", "invalid_page_range")
        ranges.append((first, last))
    return ranges


def select_pages(spec: str | None, page_count: int) -> list[int]:
    """The sorted, distinct 1-based pages `spec` names in a document of `page_count` pages."""
    if spec is None:
        return list(range(1, page_count + 1))
    chosen: set[int] = set()
    for first, last in parse_page_ranges(spec):
        end = page_count if last is None else last
        if first > page_count or end > page_count:
            raise Unprocessable(
                f"page range {spec!r} asks for page {max(first, end)}, but the document has "
                f"{page_count} page(s)",
                "invalid_page_range",
            )
        chosen.update(range(first, end + 1))
    return sorted(chosen)
