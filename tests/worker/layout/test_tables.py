"""HTML tables as markdown pipe tables (table_format=markdown): plain data in, text out."""

from __future__ import annotations

from shared.layout import Block, LayoutPage
from worker.layout.markdown import page_markdown
from worker.layout.tables import html_table_to_markdown, with_markdown_tables


def test_a_plain_table_becomes_a_pipe_table_with_its_first_row_as_header() -> None:
    html = "<table><tr><th>Year</th><th>Revenue</th></tr><tr><td>2025</td><td>1,200</td></tr></table>"
    assert html_table_to_markdown(html) == "| Year | Revenue |\n|---|---|\n| 2025 | 1,200 |"


def test_merged_cells_keep_the_grid_square() -> None:
    html = (
        "<table><tr><td colspan=2>Q1</td><td>Q2</td></tr>"
        "<tr><td rowspan=2>north</td><td>1</td><td>2</td></tr>"
        "<tr><td>3</td><td>4</td></tr></table>"
    )
    assert html_table_to_markdown(html) == ("| Q1 |  | Q2 |\n|---|---|---|\n| north | 1 | 2 |\n|  | 3 | 4 |")


def test_cell_text_is_one_line_with_pipes_and_entities_handled() -> None:
    html = "<table><tr><td>a|b</td><td>x<br>y &amp; z</td></tr></table>"
    assert html_table_to_markdown(html) == "| a\\|b | x y & z |\n|---|---|"


def test_ragged_rows_are_padded_and_hostile_spans_capped() -> None:
    assert html_table_to_markdown("<table><tr><td>a</td></tr><tr><td>b</td><td>c</td></tr></table>") == (
        "| a |  |\n|---|---|\n| b | c |"
    )
    wide = html_table_to_markdown('<table><tr><td colspan="1000000000">x</td></tr></table>')
    assert wide is not None
    assert wide.count("|") < 300


def test_text_without_a_table_is_left_alone() -> None:
    assert html_table_to_markdown("just text") is None
    assert html_table_to_markdown("<table></table>") is None


def test_pipe_tables_replace_only_the_table_blocks_of_a_page_copy() -> None:
    table = "<table><tr><td>a</td><td>b</td></tr></table>"
    page = LayoutPage(
        number=1,
        width=10,
        height=10,
        status="succeeded",
        engine="replay",
        blocks=[Block(id="p1-b1", type="title", text="T"), Block(id="p1-b2", type="table", text=table)],
    )
    converted = with_markdown_tables(page)
    assert page_markdown(converted) == "# T\n\n| a | b |\n|---|---|"
    assert page.blocks[1].text == table  # the page itself (its layout.json) keeps the HTML
    assert converted.blocks[0] == page.blocks[0]
