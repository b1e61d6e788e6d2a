"""DeepSeek-shaped output through the worker's pure pipeline pieces: parser → layout page
(blocks.py) → figure crops (crops.py) → markdown (markdown.py) → a valid layout document."""

from __future__ import annotations

import io
from pathlib import Path

import jsonschema
from PIL import Image, ImageDraw

from shared.layout import Block, LayoutDocument, LayoutPage, PageTimings
from shared.layout.schema import json_schema
from worker.layout.blocks import CropRequest, build_page
from worker.layout.crops import crop_jpeg
from worker.layout.grounding import recognized_from_raw
from worker.layout.markdown import block_markdown, document_markdown, page_markdown

RAW = Path(__file__).parents[2] / "data" / "deepseek"
WIDTH, HEIGHT = 1224, 1584
FIGURE = (160, 370, 840, 610)  # the image block's box in paper.txt, 0..999


def page_image() -> Image.Image:
    """A white page with a red figure where paper.txt says the figure is."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    x1, y1, x2, y2 = (int(v / 999 * s) for v, s in zip(FIGURE, (WIDTH, HEIGHT, WIDTH, HEIGHT), strict=True))
    ImageDraw.Draw(image).rectangle((x1, y1, x2 - 1, y2 - 1), fill=(220, 30, 30))
    return image


def build(name: str, number: int = 1, eos: bool = True) -> tuple[LayoutPage, list[CropRequest]]:
    raw = (RAW / name).read_text(encoding="utf-8")
    recognized = recognized_from_raw(raw, WIDTH, HEIGHT, eos=eos, output_tokens=321)
    return build_page(
        number=number,
        width=WIDTH,
        height=HEIGHT,
        dpi=144,
        engine="deepseek",
        recognized=recognized,
        timings=PageTimings(engine_ms=5),
    )


def test_a_paper_page_becomes_a_layout_page_with_one_figure_crop() -> None:
    page, crops = build("paper.txt", number=3)
    assert page.status == "succeeded"
    assert page.output_tokens == 321
    assert page.truncated is False
    assert [c.name for c in crops] == ["3_1.jpg"]
    figure = next(b for b in page.blocks if b.type == "image")
    assert figure.image == "images/3_1.jpg"
    assert figure.bbox == list(crops[0].bbox)
    assert figure.bbox_norm is not None
    assert all(0 <= v <= 1 for v in figure.bbox_norm)


def test_the_figure_crop_holds_the_figure() -> None:
    _, crops = build("paper.txt")
    crop = Image.open(io.BytesIO(crop_jpeg(page_image(), crops[0].bbox)))
    x1, y1, x2, y2 = crops[0].bbox
    assert crop.size == (x2 - x1, y2 - y1)
    red, green, blue = crop.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
    assert red > 180
    assert green < 80
    assert blue < 80


def test_markdown_puts_headings_math_figures_and_tables_back() -> None:
    page, _ = build("paper.txt")
    markdown = page_markdown(page)
    assert markdown.startswith("# Sparse Attention for Long Documents\n\nAda Lovelace, Alan Turing\n\n")
    assert "\n## 1 Introduction\n" in markdown
    assert "$$\n\\operatorname{Attn}(Q, K, V)=" in markdown
    assert "$$\n\\begin{aligned} c_{\\text{dense}}" in markdown
    assert "![](images/1_1.jpg)\n\nFigure 1: Attention patterns" in markdown
    # the sanitiser (worker/layout/sanitise.py) writes tables as a browser parses them
    assert "\n<table><tbody><tr><td>Model</td>" in markdown
    assert "<center>" not in markdown
    assert "# #" not in markdown


def test_two_figure_boxes_give_two_crops() -> None:
    page, crops = build("multi-box.txt", number=2)
    assert [c.name for c in crops] == ["2_1.jpg", "2_2.jpg"]
    markdown = page_markdown(page)
    assert markdown.index("![](images/2_1.jpg)") < markdown.index("![](images/2_2.jpg)")


def test_a_truncated_page_says_so() -> None:
    page, _ = build("truncated.txt", eos=False)
    assert page.truncated is True
    assert page_markdown(page).startswith("# Quarterly Report\n\n<table>")


def test_a_figure_without_a_usable_box_gets_no_crop() -> None:
    page, crops = build("out-of-range.txt")
    assert crops == []
    figure = page.blocks[-1]
    assert figure.type == "image"
    assert figure.image is None
    assert figure.bbox is None


def test_every_fixture_makes_a_valid_layout_document() -> None:
    pages = [build(path.name, number)[0] for number, path in enumerate(sorted(RAW.glob("*.txt")), start=1)]
    document = LayoutDocument(task_id="tsk_fixture", engine="deepseek", pages=pages)
    data = document.model_dump(mode="json")
    jsonschema.validate(data, json_schema())
    assert LayoutDocument.model_validate(data) == document
    markdown = document_markdown((p.number, page_markdown(p)) for p in pages)
    assert markdown.count("<!-- page ") == len(pages)


def test_only_self_contained_display_environments_stay_unwrapped() -> None:
    def md(text: str) -> str:
        return block_markdown(Block(id="p1-b1", type="equation", text=text))

    assert md("\\begin{align*} a &= b \\end{align*}") == "\\begin{align*} a &= b \\end{align*}"
    assert md("\\begin{equation} x \\end{equation}") == "\\begin{equation} x \\end{equation}"
    assert md("\\begin{cases} 1 & x > 0 \\end{cases}") == "$$\n\\begin{cases} 1 & x > 0 \\end{cases}\n$$"
