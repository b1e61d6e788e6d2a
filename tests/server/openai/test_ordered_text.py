"""Interleaved page texts → one text in page order, shaped like full.md."""

from __future__ import annotations

from server.openai.ordered_text import OrderedPages


def test_later_pages_wait_until_every_page_before_them_is_done() -> None:
    pages = OrderedPages([1, 2, 3])
    assert pages.delta(2, 0, "two") == ""
    assert pages.delta(1, 0, "one") == "<!-- page 1 -->\n\none"
    assert pages.delta(1, 3, " more") == " more"
    assert pages.page_done(2) == ""
    assert pages.page_done(1) == "\n\n<!-- page 2 -->\n\ntwo"
    assert pages.delta(3, 0, "three") == "\n\n<!-- page 3 -->\n\nthree"
    assert pages.page_done(3) == ""
    assert pages.finish() == ""


def test_text_sent_again_by_a_retried_attempt_is_not_repeated() -> None:
    pages = OrderedPages([5])
    assert pages.delta(5, 0, "Hello") == "<!-- page 5 -->\n\nHello"
    assert pages.delta(5, 0, "Hello wor") == " wor"
    assert pages.delta(5, 0, "Hel") == ""


def test_nothing_goes_out_before_the_page_list_is_known() -> None:
    pages = OrderedPages()
    assert pages.delta(2, 0, "two") == ""
    assert pages.set_pages([2]) == "<!-- page 2 -->\n\ntwo"
    assert pages.set_pages([1, 2]) == ""  # the first list holds


def test_a_failed_page_keeps_its_marker_and_finish_flushes_the_rest() -> None:
    pages = OrderedPages([1, 2])
    assert pages.page_done(1) == "<!-- page 1 -->\n\n"
    assert pages.delta(2, 0, "two") == "\n\n<!-- page 2 -->\n\ntwo"
    unknown = OrderedPages()
    unknown.delta(3, 0, "three")
    unknown.delta(1, 0, "one")
    assert unknown.finish() == "<!-- page 1 -->\n\none\n\n<!-- page 3 -->\n\nthree"
