"""Properties of page selections like `1-3,7,10-`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import Unprocessable
from shared.page_ranges import MAX_PARTS, parse_page_ranges, select_pages

Range = tuple[int, int | None]


@st.composite
def ranges(draw: st.DrawFn, top: int = 500) -> Range:
    first = draw(st.integers(1, top))
    kind = draw(st.sampled_from(["single", "closed", "open"]))
    if kind == "single":
        return (first, first)
    if kind == "open":
        return (first, None)
    return (first, draw(st.integers(first, top)))


def spec_of(parts: list[Range], spaced: bool = False) -> str:
    sep = " , " if spaced else ","
    texts = [
        str(first) if last == first else f"{first}-" if last is None else f"{first}-{last}"
        for first, last in parts
    ]
    return sep.join(texts)


@given(st.lists(ranges(), min_size=1, max_size=20), st.booleans())
def test_a_written_selection_parses_back_to_its_ranges(parts: list[Range], spaced: bool) -> None:
    assert parse_page_ranges(spec_of(parts, spaced)) == parts


@given(st.lists(ranges(top=60), min_size=1, max_size=10), st.integers(1, 80))
def test_selected_pages_are_the_sorted_union_or_a_clear_error(parts: list[Range], count: int) -> None:
    wanted: set[int] = set()
    fits = True
    for first, last in parts:
        end = count if last is None else last
        fits = fits and first <= count and end <= count
        wanted.update(range(first, end + 1))
    if fits:
        assert select_pages(spec_of(parts), count) == sorted(wanted)
    else:
        with pytest.raises(Unprocessable) as caught:
            select_pages(spec_of(parts), count)
        assert caught.value.code == "invalid_page_range"
        assert f"{count} page(s)" in caught.value.message


@given(st.integers(1, 2000))
def test_no_selection_means_every_page(count: int) -> None:
    assert select_pages(None, count) == list(range(1, count + 1))


@settings(max_examples=300)
@given(st.text(alphabet="0123456789-, x\t", max_size=40) | st.text(max_size=40))
def test_any_text_parses_or_fails_with_the_public_code(spec: str) -> None:
    codes: list[str] = []
    parsed: list[Range] = []
    try:
        parsed = parse_page_ranges(spec)
    except Unprocessable as exc:
        codes.append(exc.code)
    assert codes in ([], ["invalid_page_range"])
    for first, last in parsed:
        assert first >= 1
        assert last is None or last >= first


def test_a_number_too_long_to_be_a_page_is_a_clear_error() -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_page_ranges("9" * 5000)
    assert caught.value.code == "invalid_page_range"


def test_too_many_parts_are_refused() -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_page_ranges(",".join(["1"] * (MAX_PARTS + 1)))
    assert caught.value.code == "invalid_page_range"
