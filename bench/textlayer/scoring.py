"""olmOCR-bench-style checks scored against one page's markdown: plain functions of text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff"}
)
_MARKUP = re.compile(r"^#+\s*|\*\*|<!--.*?-->", re.MULTILINE)


def normalise(text: str) -> str:
    return " ".join(_MARKUP.sub("", text.translate(_QUOTES)).split())


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(normalise("".join(self._cell)))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_neighbour(markdown: str, cell: str, right: str | None, below: str | None) -> bool:
    parser = _Tables()
    parser.feed(markdown)
    for table in parser.tables:
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                if value != normalise(cell):
                    continue
                if right is not None and c + 1 < len(row) and row[c + 1] == normalise(right):
                    return True
                lower = table[r + 1] if r + 1 < len(table) else []
                if below is not None and c < len(lower) and lower[c] == normalise(below):
                    return True
    return False


def passes(check: dict[str, Any], markdown: str) -> bool:
    text = normalise(markdown)
    kind = check["type"]
    if kind == "present":
        return normalise(check["text"]) in text
    if kind == "absent":
        return re.search(rf"(?<!\w){re.escape(normalise(check['text']))}(?!\w)", text) is None
    if kind == "order":
        first, second = text.find(normalise(check["before"])), text.find(normalise(check["after"]))
        return 0 <= first < second
    if kind == "table":
        return table_neighbour(markdown, check["cell"], check.get("right"), check.get("below"))
    raise ValueError(f"unknown check type {kind}")
