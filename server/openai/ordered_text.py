"""Page texts that arrive interleaved (a worker reads several pages at once) → one text in page
order, with the page markers of full.md between pages. Pure.

The current page's text goes out as it arrives; later pages are held until every page before
them is done. Deltas carry their offset in the page's text, so text sent twice (a retried
attempt reads the page again) is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass


def page_marker(number: int) -> str:
    # the same marker `worker.layout.markdown.document_markdown` writes into full.md
    return f"<!-- page {number} -->"


@dataclass
class _Page:
    text: str = ""
    done: bool = False


class OrderedPages:
    def __init__(self, pages: list[int] | None = None) -> None:
        self._order: list[int] | None = list(pages) if pages is not None else None
        self._pages: dict[int, _Page] = {}
        self._current = 0  # index in _order of the page being sent
        self._sent = 0  # characters of the current page already sent
        self._opened = False  # the current page's marker went out
        self._anything_sent = False

    @property
    def known(self) -> bool:
        return self._order is not None

    def set_pages(self, pages: list[int]) -> str:
        """The task's pages, in order; the first list given holds."""
        if self._order is None:
            self._order = list(pages)
        return self._advance()

    def delta(self, page: int, offset: int, text: str) -> str:
        state = self._pages.setdefault(page, _Page())
        have = len(state.text)
        if offset + len(text) <= have:
            return ""
        state.text += text[max(0, have - offset) :]
        return self._advance()

    def page_done(self, page: int) -> str:
        self._pages.setdefault(page, _Page()).done = True
        return self._advance()

    def finish(self) -> str:
        """Everything not sent yet, in order (pages never announced go last, by number)."""
        order = self._order or []
        for number in sorted(set(self._pages) - set(order)):
            order.append(number)
        self._order = order
        for number in order:
            self._pages.setdefault(number, _Page()).done = True
        return self._advance()

    def _advance(self) -> str:
        if self._order is None:
            return ""
        out: list[str] = []
        while self._current < len(self._order):
            number = self._order[self._current]
            state = self._pages.get(number)
            if state is None:
                break
            if not self._opened:
                out.append(("\n\n" if self._anything_sent else "") + page_marker(number) + "\n\n")
                self._opened = self._anything_sent = True
            out.append(state.text[self._sent :])
            self._sent = len(state.text)
            if not state.done:
                break
            self._current, self._sent, self._opened = self._current + 1, 0, False
        return "".join(out)
