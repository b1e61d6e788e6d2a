"""Properties of the grounding parser over generated outputs: well-formed pages come back
exactly, and nothing — garbage included — makes it raise or put a box off the page."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.layout.grounding import KNOWN_TYPES, recognized_from_raw
from worker.layout.grounding_boxes import to_pixels

EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
TAGS = ["<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "<|grounding|>", EOS, "<\uff5c\u2581pad\u2581\uff5c>"]
PIECES = [*TAGS, "[[", "]]", "[", "]", ", ", "0", "999", "1000", "-1", "\n", "\n\n", "# ", "text", "image"]
# words that no cleaning rule touches: no tags, headings, math or HTML
PLAIN = string.ascii_letters + string.digits + " .,;:!?()'\"%&*+-=/"

page_sizes = st.tuples(st.integers(1, 5000), st.integers(1, 5000))
garbage = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=60).map("".join)
coordinate = st.integers(0, 999)


@st.composite
def norm_boxes(draw: st.DrawFn) -> tuple[int, int, int, int]:
    x1, x2 = sorted(draw(st.lists(coordinate, min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(coordinate, min_size=2, max_size=2, unique=True)))
    return (x1, y1, x2, y2)


plain_line = st.text(PLAIN, min_size=1, max_size=40).map(str.strip).filter(bool)
labels = st.sampled_from(sorted(KNOWN_TYPES - {"image"}))
grounded_blocks = st.lists(st.tuples(labels, norm_boxes(), plain_line), min_size=1, max_size=12)


def render(blocks: list[tuple[str, tuple[int, int, int, int], str]]) -> str:
    parts = [f"<|ref|>{label}<|/ref|><|det|>[{list(box)}]<|/det|>\n{text}" for label, box, text in blocks]
    return "\n\n".join(parts) + EOS


@settings(max_examples=300, deadline=None)
@given(garbage, page_sizes, st.booleans())
def test_any_output_parses_with_boxes_inside_the_page(raw: str, size: tuple[int, int], eos: bool) -> None:
    width, height = size
    page = recognized_from_raw(raw, width, height, eos=eos)
    assert page.truncated is (not eos)
    for block in page.blocks:
        for tag in TAGS:
            assert tag not in block.text
        if block.bbox is not None:
            x1, y1, x2, y2 = block.bbox
            assert 0 <= x1 < x2 <= width
            assert 0 <= y1 < y2 <= height


@settings(max_examples=200, deadline=None)
@given(grounded_blocks, page_sizes)
def test_well_formed_blocks_come_back_as_written(
    blocks: list[tuple[str, tuple[int, int, int, int], str]], size: tuple[int, int]
) -> None:
    width, height = size
    page = recognized_from_raw(render(blocks), width, height, eos=True)
    assert [(b.type, b.text) for b in page.blocks] == [(label, text) for label, _, text in blocks]
    assert [b.bbox for b in page.blocks] == [to_pixels(box, width, height) for _, box, _ in blocks]


@settings(max_examples=200, deadline=None)
@given(st.text(PLAIN + "\n\t", max_size=400))
def test_free_text_keeps_every_character(raw: str) -> None:
    page = recognized_from_raw(raw, 100, 100, eos=True)
    assert all(b.type == "text" and b.bbox is None for b in page.blocks)
    assert "".join("".join(b.text.split()) for b in page.blocks) == "".join(raw.split())
