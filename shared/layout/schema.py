"""The `layout.json` schema: document → pages → blocks. Versioned; see docs/layout-json.md.

Coordinates: `bbox` is `[x1, y1, x2, y2]` in pixels of the page image the engine saw (a PDF page
rendered at `dpi`, or the uploaded image), origin top-left. `bbox_norm` is the same box divided
by the page width and height, so it is independent of the resolution.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LAYOUT_VERSION: Final = "1.1"


class BlockType(StrEnum):
    """Known block types. Engines may report others (kept as they come), so `Block.type` is a str."""

    title = "title"  # type: ignore[assignment]  # shadows str.title, harmless here
    sub_title = "sub_title"
    text = "text"
    table = "table"
    table_caption = "table_caption"
    table_footnote = "table_footnote"
    equation = "equation"
    image = "image"
    image_caption = "image_caption"
    page_header = "page_header"  # running head, page number at the top: kept here, left out of full.md
    page_footer = "page_footer"  # page number, footer line, "Downloaded from ...": likewise


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Block(_Strict):
    id: str = Field(description="Unique within the document: `p{page}-b{index}`.")
    type: str = Field(description="A BlockType value, or an engine-specific label kept as is.")
    bbox: list[int] | None = Field(
        None, min_length=4, max_length=4, description="[x1, y1, x2, y2] in page pixels; null if unknown."
    )
    bbox_norm: list[float] | None = Field(
        None, min_length=4, max_length=4, description="bbox divided by page width/height (0..1)."
    )
    text: str = Field(
        "", description="Text content: markdown for text, HTML for tables, LaTeX for equations."
    )
    image: str | None = Field(
        None, description="Path of the cropped figure, relative to the results: images/{page}_{n}.jpg"
    )
    confidence: float | None = Field(
        None, ge=0.0, le=1.0, description="Engine confidence, 0..1, where known."
    )


class PageError(_Strict):
    code: str
    message: str


class PageTimings(_Strict):
    render_ms: int | None = None
    engine_ms: int | None = None


class LayoutPage(_Strict):
    number: int = Field(ge=1, description="1-based page number in the source document.")
    width: int = Field(ge=0, description="Width of the page image in pixels.")
    height: int = Field(ge=0, description="Height of the page image in pixels.")
    dpi: int | None = Field(None, description="Render resolution for PDF pages; null for images.")
    status: Literal["succeeded", "failed"]
    engine: str
    source: Literal["text_layer", "ocr"] | None = Field(
        None, description="Where the page's text came from: the PDF's text layer or the OCR engine."
    )
    source_reason: str | None = Field(
        None,
        description="Why: `text_layer_usable`, `blank_page`, `strategy_ocr`, `image_document`, "
        "`page_too_complex`, `text_layer_unreadable`, or the "
        "code that ruled the text layer out (`no_text_layer`, `invisible_text_layer`, "
        "`garbled_glyphs`, `implausible_text`, `rotated_text`, `mostly_image`, `too_little_text`).",
    )
    usable_text_layer: bool | None = Field(
        None,
        description="False when strategy=text read a layer that fails the usability rule (the page "
        "is flagged, not silently empty); null when the layer was not judged.",
    )
    truncated: bool = Field(False, description="The engine stopped before its end-of-sequence token.")
    retried: bool = Field(False, description="The page was run a second time with stronger n-gram settings.")
    output_tokens: int | None = None
    timings: PageTimings = Field(default_factory=PageTimings)
    error: PageError | None = None
    blocks: list[Block] = Field(default_factory=list)
    markdown: str | None = Field(
        None,
        description="The page's markdown, exactly as in full.md between this page's marker and "
        "the next; null on a failed page.",
    )

    @model_validator(mode="after")
    def _boxes_inside_page(self) -> LayoutPage:
        for block in self.blocks:
            if block.bbox is None:
                continue
            x1, y1, x2, y2 = block.bbox
            if not (0 <= x1 <= x2 <= self.width and 0 <= y1 <= y2 <= self.height):
                raise ValueError(
                    f"block {block.id} bbox {block.bbox} outside page {self.width}x{self.height}"
                )
        return self


class SourceInfo(_Strict):
    filename: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    page_count: int | None = None


class LayoutDocument(_Strict):
    version: Literal["1.1"] = LAYOUT_VERSION
    task_id: str
    engine: str
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    source: SourceInfo = Field(default_factory=SourceInfo)
    pages: list[LayoutPage] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of layout.json (committed as docs/layout.schema.json)."""
    schema = LayoutDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://ocrp.dev/schemas/layout-{LAYOUT_VERSION}.json"
    return schema
