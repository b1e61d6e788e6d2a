"""Running heads and footers, on any engine's blocks."""

from __future__ import annotations

from shared.layout import Block, LayoutPage
from worker.layout.markdown import page_markdown
from worker.layout.running_heads import mark_page_furniture, mark_repeated_furniture


def _block(index: int, text: str, box: list[int], kind: str = "text") -> Block:
    return Block(id=f"p1-b{index}", type=kind, bbox=box, text=text)


def _page(number: int, *blocks: Block) -> LayoutPage:
    return LayoutPage(
        number=number, width=1000, height=1000, status="succeeded", engine="tesseract", blocks=list(blocks)
    )


def test_page_numbers_and_notices_are_furniture_on_one_page() -> None:
    blocks = [
        _block(1, "102 CHAPTER 2. MATHEMATICAL INDUCTION", [100, 40, 900, 60]),
        _block(2, "Body text that stays.", [100, 200, 900, 600]),
        _block(3, "Downloaded from https://archive.example.org on 3 May 2021", [100, 700, 900, 720]),
        _block(4, "- 7 -", [480, 950, 520, 970]),
        _block(5, "Table 3", [100, 60, 200, 80]),
    ]
    mark_page_furniture(blocks, 1000)
    assert [b.type for b in blocks] == ["page_header", "text", "page_footer", "page_footer", "text"]


def test_a_line_repeated_in_the_top_band_across_pages_is_a_running_head() -> None:
    pages = [
        _page(
            n,
            _block(1, f"Journal of Rivers, vol. {n}", [100, 30, 900, 50]),
            _block(2, f"Text {n}.", [100, 200, 900, 800]),
        )
        for n in (1, 2, 3)
    ]
    assert mark_repeated_furniture(pages) == {1, 2, 3}
    assert all(p.blocks[0].type == "page_header" and p.blocks[1].type == "text" for p in pages)
    assert page_markdown(pages[0]) == "Text 1."


def test_body_text_that_repeats_is_left_alone() -> None:
    pages = [_page(n, _block(1, "Same paragraph.", [100, 400, 900, 500])) for n in (1, 2, 3)]
    assert mark_repeated_furniture(pages) == set()
