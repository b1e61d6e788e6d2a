"""HTML tables as markdown pipe tables, for tasks asked with `table_format=markdown`. Pure.

DeepSeek-OCR writes tables as HTML (`<table><tr><td>...`), which keeps merged cells; a pipe
table cannot merge cells, so a cell spanning columns is written once and followed by empty
cells, and a cell spanning rows is repeated as empty below. The first row is the header (pipe
tables need one). Text inside cells is flattened to one line with `|` escaped. A fragment that
holds no table is left to the caller (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from shared.layout import LayoutPage

_MAX_SPAN = 100  # a hostile colspan must not make a million-cell table


def _span(value: str | None) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(value or 1)))
    except ValueError:
        return 1


@dataclass
class _Cell:
    text: list[str] = field(default_factory=list)
    colspan: int = 1
    rowspan: int = 1


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[_Cell]] = []
        self.cell: _Cell | None = None
        self.depth = 0  # tables inside tables are flattened into their cell

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self.rows.append([])
            self.cell = None
        elif self.depth == 1 and tag in ("td", "th"):
            if not self.rows:
                self.rows.append([])
            values = dict(attrs)
            self.cell = _Cell(colspan=_span(values.get("colspan")), rowspan=_span(values.get("rowspan")))
            self.rows[-1].append(self.cell)
        elif tag == "br" and self.cell is not None:
            self.cell.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth -= 1
        elif self.depth == 1 and tag in ("td", "th"):
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.text.append(data)


def _cell_text(cell: _Cell) -> str:
    return " ".join("".join(cell.text).split()).replace("|", "\\|")


def _grid(rows: list[list[_Cell]]) -> list[list[str]]:
    """The rows with spans laid out: every row as wide as the widest."""
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, column) held by a rowspan from above
    for r, row in enumerate(rows):
        line: list[str] = []
        cells = iter(row)
        column = 0
        while True:
            if (r, column) in pending:
                line.append(pending.pop((r, column)))
                column += 1
                continue
            cell = next(cells, None)
            if cell is None:
                break
            for offset in range(cell.colspan):
                line.append(_cell_text(cell) if offset == 0 else "")
                for below in range(1, cell.rowspan):
                    pending[(r + below, column + offset)] = ""
            column += cell.colspan
        grid.append(line)
    width = max((len(line) for line in grid), default=0)
    return [line + [""] * (width - len(line)) for line in grid]


def with_markdown_tables(page: LayoutPage) -> LayoutPage:
    """A copy of the page whose table blocks hold pipe tables, for the markdown of a task asked
    with `table_format=markdown` (its layout.json keeps the engine's HTML)."""
    blocks = [
        block.model_copy(update={"text": html_table_to_markdown(block.text) or block.text})
        if block.type == "table"
        else block
        for block in page.blocks
    ]
    return page.model_copy(update={"blocks": blocks})


def html_table_to_markdown(html: str) -> str | None:
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    grid = [line for line in _grid(parser.rows) if line]
    if not grid:
        return None
    header, *body = grid
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(line)} |" for line in body]
    return "\n".join(lines)
