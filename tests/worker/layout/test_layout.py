"""The pure core: recognised blocks → layout page, crops, markdown."""

from __future__ import annotations

import io

from PIL import Image

from shared.layout import Block, LayoutPage, PageTimings
from worker.layout.blocks import build_page, clamp_box
from worker.layout.crops import crop_jpeg
from worker.layout.markdown import block_markdown, document_markdown, page_markdown
from worker.layout.recognized import RecognizedBlock, RecognizedPage


def _page(*blocks: RecognizedBlock, truncated: bool = False) -> tuple[LayoutPage, list]:  # type: ignore[type-arg]
    return build_page(
        number=3,
        width=1000,
        height=800,
        dpi=144,
        engine="test",
        recognized=RecognizedPage(list(blocks), truncated=truncated),
        timings=PageTimings(render_ms=5, engine_ms=9),
    )


def test_blocks_get_ids_normalised_boxes_and_crop_names() -> None:
    page, crops = _page(
        RecognizedBlock("title", (100, 50, 900, 100), "Annual report", 0.9),
        RecognizedBlock("image", (100, 200, 600, 500), ""),
        RecognizedBlock("text", (100, 520, 900, 700), "Body text."),
        RecognizedBlock("image", (650, 200, 950, 400), "chart"),
    )
    assert [b.id for b in page.blocks] == ["p3-b1", "p3-b2", "p3-b3", "p3-b4"]
    assert page.blocks[0].bbox_norm == [0.1, 0.0625, 0.9, 0.125]
    assert [c.name for c in crops] == ["3_1.jpg", "3_2.jpg"]
    assert page.blocks[1].image == "images/3_1.jpg"
    assert page.blocks[3].image == "images/3_2.jpg"
    assert page.timings.engine_ms == 9


def test_boxes_are_clamped_into_the_page_and_empty_ones_dropped() -> None:
    assert clamp_box((-5, -5, 1010, 810), 1000, 800) == (0, 0, 1000, 800)
    assert clamp_box((900, 10, 100, 50), 1000, 800) == (100, 10, 900, 50)
    assert clamp_box((1200, 10, 1300, 50), 1000, 800) is None
    assert clamp_box(None, 1000, 800) is None
    page, crops = _page(RecognizedBlock("image", (1200, 0, 1300, 10), ""))
    assert page.blocks[0].bbox is None
    assert page.blocks[0].image is None
    assert crops == []


def test_truncation_is_carried_to_the_page() -> None:
    page, _ = _page(RecognizedBlock("text", None, "cut sho"), truncated=True)
    assert page.truncated is True
    assert page.blocks[0].bbox is None


def test_markdown_by_block_type() -> None:
    def md(kind: str, text: str, image: str | None = None) -> str:
        return block_markdown(Block(id="p1-b1", type=kind, text=text, image=image))

    assert md("title", "Report") == "# Report"
    assert md("sub_title", "Method") == "## Method"
    assert md("text", "  plain  ") == "plain"
    assert md("equation", "E = mc^2") == "$$\nE = mc^2\n$$"
    assert md("equation", "\\[ E = mc^2 \\]") == "\\[ E = mc^2 \\]"
    assert md("table", "<table><tr><td>1</td></tr></table>") == "<table><tr><td>1</td></tr></table>"
    assert md("image", "", "images/1_1.jpg") == "![](images/1_1.jpg)"
    assert md("image", "", None) == ""
    assert md("text", "   ") == ""


def test_page_and_document_markdown_keep_reading_order_and_page_markers() -> None:
    page, _ = _page(
        RecognizedBlock("title", (0, 0, 10, 10), "A"),
        RecognizedBlock("text", (0, 20, 10, 30), "first"),
        RecognizedBlock("text", (0, 40, 10, 50), "second"),
    )
    assert page_markdown(page) == "# A\n\nfirst\n\nsecond"
    assert document_markdown([(1, "one"), (2, ""), (3, "three")]) == (
        "<!-- page 1 -->\n\none\n\n<!-- page 2 -->\n\n<!-- page 3 -->\n\nthree\n"
    )


def test_crops_are_jpegs_of_the_box() -> None:
    image = Image.new("RGBA", (200, 100), (255, 0, 0, 255))
    data = crop_jpeg(image, (10, 20, 110, 70))
    crop = Image.open(io.BytesIO(data))
    assert crop.format == "JPEG"
    assert crop.size == (100, 50)
    red, green, blue = crop.getpixel((50, 25))
    assert red > 200 and green < 60 and blue < 60  # noqa: PT018
