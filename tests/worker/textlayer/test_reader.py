"""The text-layer reader on hand-made pages: order, headings, tables, figures, text clean-up."""

from __future__ import annotations

from tests.worker.textlayer.pages import block
from worker.textlayer.model import Line, PageLayer, Span, Table, TextBlock
from worker.textlayer.normalize import clean, join_lines
from worker.textlayer.order import reading_order
from worker.textlayer.reader import read_blocks


def test_two_columns_are_read_one_after_the_other_even_when_their_paragraphs_line_up() -> None:
    boxes = [
        (50, 100, 290, 200),  # left, first paragraph
        (320, 100, 560, 200),  # right, first paragraph
        (50, 210, 290, 300),  # left, second
        (320, 210, 560, 300),  # right, second
    ]
    assert reading_order(boxes) == [0, 2, 1, 3]


def test_a_full_width_title_comes_before_the_columns_and_a_footer_after() -> None:
    boxes = [(320, 100, 560, 300), (50, 100, 290, 300), (100, 40, 500, 70), (280, 760, 300, 775)]
    assert reading_order(boxes) == [2, 1, 0, 3]


def test_a_running_head_across_both_columns_does_not_make_the_columns_interleave() -> None:
    boxes = [
        (50, 20, 560, 30),  # running head over both columns
        (50, 100, 290, 200),
        (320, 100, 560, 200),
        (50, 210, 290, 300),
        (320, 210, 560, 300),
        (300, 760, 306, 770),  # page number in the gutter
    ]
    assert reading_order(boxes) == [0, 1, 3, 2, 4, 5]


def test_a_paragraph_that_runs_on_below_a_float_is_split_where_it_widens() -> None:
    narrow, wide = "words beside the infobox on the left", "then the paragraph runs on below it, full width"
    rows = [(narrow, 300), (narrow, 300), (wide, 560), (wide, 560)]
    lines = tuple(
        Line(
            (Span(text, (50, 100 + 20 * i, right, 120 + 20 * i), 10.0),),
            (50, 100 + 20 * i, right, 120 + 20 * i),
        )
        for i, (text, right) in enumerate(rows)
    )
    layer = PageLayer(612, 792, (TextBlock(lines, (50, 100, 560, 180)),))
    blocks = read_blocks(layer, 1.0)
    assert [b.bbox for b in blocks] == [(50, 100, 300, 140), (50, 140, 560, 180)]
    assert [b.text[:10] for b in blocks] == [narrow[:10], wide[:10]]


def test_headings_come_from_size_and_weight_against_the_body_size() -> None:
    body = "Body text of the page that runs long enough to set the body size of the page.\n" * 3
    layer = PageLayer(
        612,
        792,
        (
            block("Chapter One", (72, 60, 300, 90), size=24, bold=True),
            block("1.1 Background", (72, 100, 300, 115), size=12, bold=True),
            block(body.strip(), (72, 120, 540, 200)),
            block("Method", (72, 210, 200, 222), bold=True),
            block(body.strip(), (72, 230, 540, 310)),
        ),
    )
    kinds = [(b.type, b.text[:14]) for b in read_blocks(layer, 2.0)]
    assert kinds == [
        ("title", "Chapter One"),
        ("sub_title", "1.1 Background"),
        ("text", "Body text of t"),
        ("sub_title", "Method"),
        ("text", "Body text of t"),
    ]


def test_a_table_becomes_html_and_its_text_is_not_repeated() -> None:
    layer = PageLayer(
        612,
        792,
        (
            block("Region Revenue\nNorth 4,210", (72, 100, 300, 140)),
            block("After the table.", (72, 200, 300, 212)),
        ),
        tables=(Table((70, 98, 302, 142), (("Region", "Revenue"), ("North", "4,210"))),),
    )
    blocks = read_blocks(layer, 1.0)
    assert [b.type for b in blocks] == ["table", "text"]
    assert (
        blocks[0].text
        == "<table><tr><td>Region</td><td>Revenue</td></tr><tr><td>North</td><td>4,210</td></tr></table>"
    )
    assert blocks[0].bbox == (70, 98, 302, 142)


def test_figures_are_drawings_and_images_but_not_specks_backgrounds_or_boxes_behind_text() -> None:
    layer = PageLayer(
        612,
        792,
        (block("A paragraph in a shaded box, long enough to fill it.", (80, 400, 500, 440)),),
        images=((0, 0, 612, 792), (100, 100, 300, 250), (400, 100, 405, 104)),
        drawings=((78, 398, 502, 442),),
    )
    blocks = read_blocks(layer, 2.0)
    assert [(b.type, b.bbox) for b in blocks] == [
        ("image", (200, 200, 600, 500)),
        ("text", (160, 800, 1000, 880)),
    ]


def test_labels_inside_a_figure_belong_to_the_figure() -> None:
    layer = PageLayer(612, 792, (block("x axis", (150, 280, 180, 288)),), drawings=((100, 100, 400, 300),))
    assert [b.type for b in read_blocks(layer, 1.0)] == ["image"]


def test_ligatures_spaces_and_letter_spacing_are_normalised() -> None:
    assert clean("ﬁnd the\u00a0 ﬂow  of   S O F T B A N K") == "find the flow of SOFTBANK"
    assert clean("soft\u00adware") == "software"


def test_end_of_line_hyphenation_is_joined_but_real_hyphens_stay() -> None:
    assert (
        join_lines(["the settle-", "ment grew", "a well-", "Known name"])
        == "the settlement grew a well- Known name"
    )
    assert join_lines(["pages 10-", "12 of the"]) == "pages 10- 12 of the"


def test_captions_are_told_by_their_opening_words() -> None:
    layer = PageLayer(
        612,
        792,
        (
            block("Figure 1: Revenue by quarter.", (72, 100, 300, 110)),
            block("Table 2. Regions", (72, 200, 300, 210)),
            block("Figures are drawn to scale.", (72, 300, 300, 310)),
        ),
    )
    assert [b.type for b in read_blocks(layer, 1.0)] == ["image_caption", "table_caption", "text"]


def test_invisible_spans_are_left_out_of_the_text() -> None:
    visible = block("Seen text", (72, 100, 300, 110))
    hidden = block("hidden layer", (72, 100, 300, 110), visible=False)
    merged = TextBlock((Line(visible.lines[0].spans + hidden.lines[0].spans, visible.bbox),), visible.bbox)
    assert [b.text for b in read_blocks(PageLayer(612, 792, (merged,)), 1.0)] == ["Seen text"]
