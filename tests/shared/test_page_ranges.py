from __future__ import annotations

import pytest

from shared.errors import Unprocessable
from shared.page_ranges import parse_page_ranges, select_pages


def test_ranges_parse_into_inclusive_pairs() -> None:
    assert parse_page_ranges("1-3,7, 10-") == [(1, 3), (7, 7), (10, None)]


def test_selection_is_sorted_and_distinct() -> None:
    assert select_pages("5,1-3,2", 9) == [1, 2, 3, 5]
    assert select_pages("7-", 9) == [7, 8, 9]
    assert select_pages(None, 3) == [1, 2, 3]


@pytest.mark.parametrize("spec", ["", "a", "1-", "-3", "0", "3-1", "1,,2", "1-2-3", "1.5"])
def test_malformed_ranges_are_refused(spec: str) -> None:
    if spec == "1-":  # an open range is valid
        assert parse_page_ranges(spec) == [(1, None)]
        return
    with pytest.raises(Unprocessable) as caught:
        parse_page_ranges(spec)
    assert caught.value.code == "invalid_page_range"


def test_pages_past_the_end_name_the_page_count() -> None:
    with pytest.raises(Unprocessable, match="has 4 page"):
        select_pages("2-6", 4)
    with pytest.raises(Unprocessable):
        select_pages("5-", 4)


def test_too_many_parts_are_refused() -> None:
    with pytest.raises(Unprocessable, match="more than"):
        parse_page_ranges(",".join(["1"] * 201))
