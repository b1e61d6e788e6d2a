"""The grounding parser on recorded-style DeepSeek-OCR outputs (tests/data/deepseek/*.txt)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from worker.layout.grounding import parse_grounding, recognized_from_raw
from worker.layout.recognized import RecognizedPage

RAW = Path(__file__).parents[2] / "data" / "deepseek"
WIDTH, HEIGHT = 1224, 1584  # US Letter at 144 dpi


def raw(name: str) -> str:
    return (RAW / name).read_text(encoding="utf-8")


def parse(name: str, *, eos: bool = True) -> RecognizedPage:
    return recognized_from_raw(raw(name), WIDTH, HEIGHT, eos=eos)


def repaired(caplog: pytest.LogCaptureFixture) -> dict[str, object]:
    """The fields of the page's one `layout.grounding.repaired` warning."""
    records = [r for r in caplog.records if r.getMessage() == "layout.grounding.repaired"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    return dict(records[0].fields)  # type: ignore[attr-defined]


def assert_boxes_inside(page: RecognizedPage) -> None:
    for block in page.blocks:
        if block.bbox is not None:
            x1, y1, x2, y2 = block.bbox
            assert 0 <= x1 < x2 <= WIDTH, block
            assert 0 <= y1 < y2 <= HEIGHT, block


def test_a_paper_page_keeps_every_block_type_in_reading_order() -> None:
    page = parse("paper.txt")
    assert [b.type for b in page.blocks] == [
        "title",
        "text",
        "sub_title",
        "text",
        "equation",
        "image",
        "image_caption",
        "table_caption",
        "table",
        "table_footnote",
        "equation",
        "text",
    ]
    assert all(b.bbox is not None for b in page.blocks)
    assert_boxes_inside(page)


def test_boxes_scale_from_0_999_to_page_pixels_as_upstream_does() -> None:
    title = parse("paper.txt").blocks[0]
    # [[118, 62, 881, 101]]: int(118 / 999 * 1224) = 144, int(62 / 999 * 1584) = 98, ...
    assert title.bbox == (144, 98, 1079, 160)


def test_block_texts_are_cleaned_per_type() -> None:
    blocks = {b.type: b.text for b in reversed(parse("paper.txt").blocks)}  # first of each type
    assert blocks["title"] == "Sparse Attention for Long Documents"
    assert blocks["sub_title"] == "1 Introduction"
    assert blocks["equation"].startswith(r"\operatorname{Attn}(Q, K, V)")
    assert not blocks["equation"].startswith(r"\[")
    assert blocks["image_caption"] == "Figure 1: Attention patterns of the dense and the sparse model."
    assert blocks["table"].startswith("<table><tr><td>Model</td>")
    assert blocks["table"].endswith("</table>")
    assert blocks["table_footnote"] == "* Lower is better."
    assert blocks["image"] == ""


def test_special_tokens_never_reach_block_text() -> None:
    for path in sorted(RAW.glob("*.txt")):
        page = recognized_from_raw(path.read_text(encoding="utf-8"), WIDTH, HEIGHT, eos=False)
        for block in page.blocks:
            assert "<|" not in block.text, (path.name, block)
            assert "<\uff5c" not in block.text, (path.name, block)


def test_the_page_keeps_its_raw_text_and_token_count() -> None:
    text = raw("paper.txt")
    page = recognized_from_raw(text, WIDTH, HEIGHT, eos=True, output_tokens=412)
    assert page.raw_text == text
    assert page.output_tokens == 412
    assert page.truncated is False


def test_several_boxes_split_an_image_but_unite_a_text() -> None:
    page = parse("multi-box.txt")
    assert [b.type for b in page.blocks] == ["sub_title", "text", "image", "image", "image_caption"]
    text, left, right = page.blocks[1], page.blocks[2], page.blocks[3]
    # [60, 70, 480, 940] and [520, 40, 940, 300] → their union [60, 40, 940, 940]
    assert text.bbox == (73, 63, 1151, 1490)
    assert text.text.startswith("A paragraph that starts at the foot of the left column")
    assert left.bbox == (int(520 / 999 * WIDTH), int(320 / 999 * HEIGHT), int(720 / 999 * WIDTH), 887)
    assert right.bbox is not None
    assert left.bbox is not None
    assert right.bbox[0] > left.bbox[2]


def test_missing_end_of_sentence_marks_the_page_truncated(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        page = parse("truncated.txt", eos=False)
    assert page.truncated is True
    assert [b.type for b in page.blocks] == ["title", "table"]
    assert page.blocks[1].text.endswith("</table>")
    assert "det_unterminated:1" in repaired(caplog)["issues"]


def test_unterminated_tags_are_closed_where_the_next_tag_starts() -> None:
    page = parse("unterminated.txt")
    assert [b.type for b in page.blocks] == ["title", "sub_title", "text", "text"]
    title, sub_title, paragraph, last = page.blocks
    assert title.text == "A title whose ref was never closed"
    assert title.bbox is not None
    assert sub_title.text == "A subtitle whose det was never closed"
    assert sub_title.bbox == (122, 158, 612, 206)
    # a stray </det> disappears, and a ref that ran over two lines is kept as prose
    assert paragraph.text.startswith("A paragraph after a stray closing tag. It goes on.")
    assert "spanning two lines." in paragraph.text
    assert last.text == "The last paragraph."


def test_bad_boxes_leave_their_blocks_without_a_box(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        page = parse("out-of-range.txt")
    assert [b.text for b in page.blocks] == [
        "Right edge past 999.",
        "Negative left edge.",
        "Left edge right of the right edge.",
        "Three numbers.",
        "Words for numbers.",
        "One good box and one bad.",
        "",
    ]
    assert [b.bbox is None for b in page.blocks] == [True, True, True, True, True, False, True]
    assert page.blocks[-1].type == "image"
    assert repaired(caplog)["issues"] == "box_empty:1,box_malformed:2,box_out_of_range:3,det_malformed:1"


def test_garbage_never_crashes_and_keeps_boxes_inside_the_page() -> None:
    page = parse("garbage.txt", eos=False)
    assert page.truncated is True
    assert_boxes_inside(page)
    assert any(b.type == "table" and b.text.startswith("<table>") for b in page.blocks)
    assert "ok" in [b.text for b in page.blocks]


def test_free_ocr_output_becomes_paragraphs_without_boxes() -> None:
    page = parse("free-ocr.txt")
    assert {b.type for b in page.blocks} == {"text"}
    assert all(b.bbox is None for b in page.blocks)
    assert [b.text for b in page.blocks] == [
        "# Meeting Notes",
        "Attendees: Ada, Alan, Grace.",
        "The team agreed to ship the parser on Friday.\nOpen questions go to the issue tracker.",
        "| Item | Owner |\n| --- | --- |\n| Parser | Ada |",
    ]


def test_ocr_image_refs_holding_words_become_text_blocks() -> None:
    page = parse("ocr-image.txt")
    assert [(b.type, b.text) for b in page.blocks] == [
        ("text", "STOP"),
        ("text", "Main Street"),
        ("text", "No parking 8am - 6pm"),
    ]
    assert all(b.bbox is not None for b in page.blocks)


def test_unknown_labels_are_kept_as_they_come() -> None:
    page = recognized_from_raw(
        "<|ref|>header<|/ref|><|det|>[[0, 0, 999, 30]]<|/det|>\nRunning head\n\n"
        "<|ref|>page_number<|/ref|><|det|>[[480, 970, 520, 990]]<|/det|>\n12",
        1000,
        1000,
        eos=True,
    )
    assert [(b.type, b.text) for b in page.blocks] == [("header", "Running head"), ("page_number", "12")]


def test_a_lowercase_word_without_content_is_text_not_a_label() -> None:
    grounding = parse_grounding("<|ref|>hello<|/ref|><|det|>[[1, 2, 30, 40]]<|/det|>\n")
    assert [(b.type, b.text) for b in grounding.blocks] == [("text", "hello")]


@pytest.mark.parametrize(
    "det",
    ["[[100, 200, 300, 400]]", "[[[100, 200, 300, 400]]]", "[100, 200, 300, 400]", " [[100,200,300,400]] "],
)
def test_box_lists_with_other_nesting_are_read(det: str) -> None:
    grounding = parse_grounding(f"<|ref|>text<|/ref|><|det|>{det}<|/det|>\nWords")
    assert grounding.blocks[0].boxes == [(100.0, 200.0, 300.0, 400.0)]
    assert grounding.issues == []


def test_a_det_without_a_ref_gives_a_text_block_with_a_box() -> None:
    page = recognized_from_raw("<|det|>[[0, 0, 999, 999]]<|/det|>\nAlone", 999, 999, eos=True)
    assert [(b.type, b.bbox, b.text) for b in page.blocks] == [("text", (0, 0, 999, 999), "Alone")]


def test_truncation_follows_the_eos_flag_not_the_text() -> None:
    text = raw("paper.txt")
    assert recognized_from_raw(text, WIDTH, HEIGHT, eos=False).truncated is True
    assert recognized_from_raw("no end token", WIDTH, HEIGHT, eos=True).truncated is False


@pytest.mark.parametrize(("width", "height"), [(0, 0), (-10, 50), (1, 1)])
def test_degenerate_page_sizes_give_blocks_without_boxes(width: int, height: int) -> None:
    page = recognized_from_raw(raw("paper.txt"), width, height, eos=True)
    assert len(page.blocks) == 12
    assert all(b.bbox is None for b in page.blocks)


def test_empty_output_gives_no_blocks() -> None:
    assert recognized_from_raw("", WIDTH, HEIGHT, eos=True).blocks == []
    only_the_end_token = "<\uff5cend\u2581of\u2581sentence\uff5c>"
    assert recognized_from_raw(only_the_end_token, WIDTH, HEIGHT, eos=True).blocks == []
