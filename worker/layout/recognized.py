"""What an engine recognised on one page, as plain data: the input of the pure layout core.

It lives with the layout code, not with the engines, so that imports run one way: engines
produce these and call the layout parsers; the layout package never imports an engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecognizedBlock:
    type: str
    bbox: tuple[int, int, int, int] | None  # page pixels, x1 y1 x2 y2
    text: str
    confidence: float | None = None


@dataclass
class RecognizedPage:
    blocks: list[RecognizedBlock]
    raw_text: str | None = None
    output_tokens: int | None = None
    truncated: bool = False
    retried: bool = False
