"""The dashboard's SVG charts are pure functions of numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from server.ops.charts import Bar, Series, bar_chart, line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def _svg(markup: str) -> ET.Element:
    svg = re.search(r"<svg.*</svg>", markup, re.S)
    assert svg, markup
    return ET.fromstring(svg.group(0).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (0.4, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (180, 200), (501, 1000)],
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected


def test_a_line_chart_breaks_at_unknown_values_and_scales_to_the_maximum() -> None:
    points: list[tuple[float, float | None]] = [(0, 0), (60, 4), (120, None), (180, 8), (240, 2)]
    svg = _svg(line_chart("depth", [Series("ocr.batch", points)], 0, 240))
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 2  # the gap splits the line
    first = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert first[0][0] < first[1][0]
    assert first[1][1] < first[0][1]  # higher value, smaller y
    ticks = [t.text for t in svg.iter(f"{SVG}text")]
    assert "10" in ticks  # max 8 rounds up to 10
    assert "now" in ticks
    assert "-4m" in ticks


def test_a_lone_point_is_drawn_as_a_dot() -> None:
    svg = _svg(line_chart("depth", [Series("q", [(0, None), (60, 3), (120, None)])], 0, 120))
    assert len(svg.findall(f"{SVG}circle")) == 1


def test_bars_stack_and_empty_bars_draw_nothing() -> None:
    bars = [Bar(0, (3, 1)), Bar(60, (0, 0)), Bar(120, (2, 0))]
    svg = _svg(bar_chart("pages", bars, ("done", "failed"), 0, 180, 60))
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == 3
    heights = [float(r.get("height", 0)) for r in rects]
    assert heights[0] == pytest.approx(3 * heights[1], rel=0.05)
    assert heights[2] == pytest.approx(2 * heights[1], rel=0.05)


def test_names_are_escaped() -> None:
    markup = line_chart("<b>", [Series("<script>x</script>", [(0, 1)])], 0, 60)
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
