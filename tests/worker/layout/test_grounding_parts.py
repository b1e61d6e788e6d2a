"""The two halves the grounding parser is built from: box lists and block text."""

from __future__ import annotations

import pytest

from worker.layout.grounding_boxes import parse_det, split_unclosed_det, to_pixels
from worker.layout.grounding_text import END_OF_SENTENCE, block_text, has_end_of_sentence, tidy


def test_several_boxes_are_read_in_order() -> None:
    boxes, issues = parse_det("[[1, 2, 3, 4], [10, 20, 30.5, 40]]")
    assert boxes == [(1, 2, 3, 4), (10, 20, 30.5, 40)]
    assert issues == []


@pytest.mark.parametrize(
    ("det", "code"),
    [
        ("[[0, 0, 1000, 10]]", "box_out_of_range"),
        ("[[-1, 0, 10, 10]]", "box_out_of_range"),
        ("[[10, 10, 10, 20]]", "box_empty"),
        ("[[10, 30, 20, 20]]", "box_empty"),
        ("[[1, 2, 3]]", "box_malformed"),
        ("[[1, 2, 3, 4, 5]]", "box_malformed"),
        ("[[1e3, 2, 3, 4]]", "box_malformed"),
        ("[[__import__('os'), 2, 3, 4]]", "box_malformed"),
        ("[[1, 2, 3, 4]", "det_malformed"),
        ("[[1, 2, 3, 4]] and more", "det_malformed"),
        ("", "det_malformed"),
        ("no boxes here", "det_malformed"),
    ],
)
def test_bad_boxes_are_reported_not_returned(det: str, code: str) -> None:
    boxes, issues = parse_det(det)
    assert boxes == []
    assert [issue.code for issue in issues] == [code]


def test_an_unclosed_det_splits_into_coordinates_and_content() -> None:
    assert split_unclosed_det("[[1, 2, 3, 4]]\n## Heading") == ("[[1, 2, 3, 4]]", "\n## Heading")
    assert split_unclosed_det("[[1, 2, 3, 4]]\n2024 was a year") == ("[[1, 2, 3, 4]]", "\n2024 was a year")
    assert split_unclosed_det("[[100, 890, 9") == ("[[100, 890, 9", "")
    assert split_unclosed_det("Words only") == ("", "Words only")


def test_pixels_follow_the_upstream_formula_and_stay_on_the_page() -> None:
    assert to_pixels((0, 0, 999, 999), 640, 480) == (0, 0, 640, 480)
    assert to_pixels((500, 500, 501, 501), 100, 100) is None  # under one pixel
    assert to_pixels((100, 100, 200, 200), 0, 0) is None


def test_heading_marks_leave_titles_and_subtitles_only() -> None:
    assert block_text("title", "# Title") == "Title"
    assert block_text("sub_title", "### 2.1 Data\n") == "2.1 Data"
    assert block_text("title", "# Two\n# Lines") == "Two Lines"
    assert block_text("title", "#1 Best Seller") == "#1 Best Seller"
    assert block_text("text", "# Kept in text") == "# Kept in text"


def test_one_display_wrapper_leaves_equations() -> None:
    assert block_text("equation", "\\[\nx^2\n\\]") == "x^2"
    assert block_text("equation", "$$ y = 1 $$") == "y = 1"
    # two formulas in one block keep their own delimiters
    assert block_text("equation", "\\[ a \\]\n\\[ b \\]") == "\\[ a \\]\n\\[ b \\]"
    assert block_text("text", "\\[ a \\]") == "\\[ a \\]"


def test_a_wrapping_center_tag_is_dropped() -> None:
    assert block_text("image_caption", "<center>Figure 3: A cat.</center>") == "Figure 3: A cat."
    assert block_text("text", "<center>a</center> and <center>b</center>") == (
        "<center>a</center> and <center>b</center>"
    )


def test_tidy_removes_special_tokens_and_folds_blank_lines() -> None:
    text = f"<|grounding|>One<\uff5c\u2581pad\u2581\uff5c>\n\n\n\nTwo <|User|>{END_OF_SENTENCE}"
    assert tidy(text) == "One\n\nTwo"
    assert has_end_of_sentence(f"done{END_OF_SENTENCE}")
    assert not has_end_of_sentence("cut off mid-sen")
