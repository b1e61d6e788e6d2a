"""Turn an engine's recognised blocks into a `layout.json` page.

Boxes are clamped into the page (models overshoot by a pixel or two); a box that is empty after
clamping is dropped and the block kept without one. Image blocks get the name of their crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.layout import Block, LayoutPage, PageTimings
from shared.storage.keys import image_name
from worker.layout.recognized import RecognizedBlock, RecognizedPage
from worker.layout.running_heads import mark_page_furniture


@dataclass(frozen=True)
class PageSource:
    source: Literal["text_layer", "ocr"]
    reason: str
    usable: bool | None = None


@dataclass(frozen=True)
class CropRequest:
    name: str  # e.g. 3_1.jpg
    bbox: tuple[int, int, int, int]


def clamp_box(
    box: tuple[int, int, int, int] | None, width: int, height: int
) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x1, y1, x2, y2 = box
    x1, x2 = sorted((max(0, min(width, x1)), max(0, min(width, x2))))
    y1, y2 = sorted((max(0, min(height, y1)), max(0, min(height, y2))))
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return (x1, y1, x2, y2)


def normalize_box(box: tuple[int, int, int, int], width: int, height: int) -> list[float]:
    x1, y1, x2, y2 = box
    return [round(x1 / width, 5), round(y1 / height, 5), round(x2 / width, 5), round(y2 / height, 5)]


def build_page(
    *,
    number: int,
    width: int,
    height: int,
    dpi: int | None,
    engine: str,
    recognized: RecognizedPage,
    timings: PageTimings,
    source: PageSource | None = None,
) -> tuple[LayoutPage, list[CropRequest]]:
    blocks: list[Block] = []
    crops: list[CropRequest] = []
    for index, item in enumerate(recognized.blocks, start=1):
        block, crop = _build_block(number, index, len(crops) + 1, item, width, height)
        blocks.append(block)
        if crop is not None:
            crops.append(crop)
    mark_page_furniture(blocks, height)
    page = LayoutPage(
        number=number,
        width=width,
        height=height,
        dpi=dpi,
        status="succeeded",
        engine=engine,
        source=source.source if source else None,
        source_reason=source.reason if source else None,
        usable_text_layer=source.usable if source else None,
        truncated=recognized.truncated,
        retried=recognized.retried,
        output_tokens=recognized.output_tokens,
        timings=timings,
        blocks=blocks,
    )
    return page, crops


def _build_block(
    page: int, index: int, figure: int, item: RecognizedBlock, width: int, height: int
) -> tuple[Block, CropRequest | None]:
    box = clamp_box(item.bbox, width, height)
    crop = None
    image = None
    if item.type == "image" and box is not None:
        name = image_name(page, figure)
        crop = CropRequest(name, box)
        image = f"images/{name}"
    block = Block(
        id=f"p{page}-b{index}",
        type=item.type,
        bbox=list(box) if box else None,
        bbox_norm=normalize_box(box, width, height) if box else None,
        text=item.text,
        image=image,
        confidence=item.confidence,
    )
    return block, crop


def failed_page(
    *,
    number: int,
    width: int,
    height: int,
    dpi: int | None,
    engine: str,
    code: str,
    message: str,
    timings: PageTimings | None = None,
) -> LayoutPage:
    from shared.layout import PageError

    return LayoutPage(
        number=number,
        width=width,
        height=height,
        dpi=dpi,
        status="failed",
        engine=engine,
        timings=timings or PageTimings(),
        error=PageError(code=code, message=message),
    )
