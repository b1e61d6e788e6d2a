"""Tesseract's paragraphs fixed up: headings by size, specks dropped, columns in order."""

from __future__ import annotations

from worker.engines.tesseract_layout import Paragraph, in_reading_order, is_speck, with_headings
from worker.layout.recognized import RecognizedBlock


def _para(text: str, box: tuple[int, int, int, int], lines: int, size: float) -> Paragraph:
    return Paragraph(RecognizedBlock("text", box, text, 0.9), lines, size)


def test_short_large_paragraphs_become_headings() -> None:
    body = "words " * 40
    blocks = with_headings(
        [
            _para("Chapter 2", (0, 0, 100, 40), 1, 24),
            _para("2.1 Introduction", (0, 50, 100, 70), 1, 19),
            _para(body, (0, 80, 100, 200), 6, 14),
            _para("A short line in the body size.", (0, 210, 100, 225), 1, 14),
        ]
    )
    assert [b.type for b in blocks] == ["title", "sub_title", "text", "text"]


def test_specks_are_dust_but_short_confident_text_stays() -> None:
    assert is_speck(RecognizedBlock("text", (0, 0, 5, 5), "·", 0.3))
    assert not is_speck(RecognizedBlock("text", (0, 0, 5, 5), "7", 0.9))
    assert not is_speck(RecognizedBlock("text", (0, 0, 50, 5), "ok", 0.2))


def test_columns_of_a_scan_are_read_one_after_the_other() -> None:
    right = RecognizedBlock("text", (600, 100, 1000, 500), "right", 0.9)
    left_top = RecognizedBlock("text", (100, 100, 500, 300), "left 1", 0.9)
    left_bottom = RecognizedBlock("text", (100, 320, 500, 500), "left 2", 0.9)
    assert [b.text for b in in_reading_order([right, left_bottom, left_top])] == ["left 1", "left 2", "right"]


def test_a_word_broken_across_two_paragraphs_is_joined() -> None:
    top = RecognizedBlock("text", (100, 100, 500, 140), "The settle-", 0.9)
    below = RecognizedBlock("text", (100, 150, 500, 300), "ment grew.", 0.8)
    assert in_reading_order([top, below]) == [
        RecognizedBlock("text", (100, 100, 500, 300), "The settlement grew.", 0.8)
    ]
    kept = RecognizedBlock("text", (100, 150, 500, 300), "Next paragraph.", 0.8)
    assert len(in_reading_order([top, kept])) == 2
