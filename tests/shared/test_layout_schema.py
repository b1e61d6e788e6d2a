"""docs/layout.schema.json and the example in docs/layout-json.md stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from shared.layout import LayoutDocument, PageTimings
from shared.layout.schema import json_schema
from worker.layout.blocks import PageSource, build_page
from worker.layout.grounding import recognized_from_raw

DOCS = Path(__file__).parents[2] / "docs"


def example_blocks() -> tuple[str, str]:
    """The raw output and the layout.json of the page `## Example` shows."""
    section = (DOCS / "layout-json.md").read_text().split("## Example", 1)[1]
    raw, layout = re.findall(r"```(?:json)?\n(.*?)\n```", section, re.DOTALL)[:2]
    return raw, layout


def test_the_committed_schema_matches_the_models() -> None:
    committed = json.loads((DOCS / "layout.schema.json").read_text())
    assert committed == json_schema(), "docs/layout.schema.json is stale: run `ocrp schema`"


def test_the_documented_example_is_valid() -> None:
    _, layout = example_blocks()
    data = json.loads(layout)
    jsonschema.validate(data, json_schema())
    document = LayoutDocument.model_validate(data)
    assert [p.status for p in document.pages] == ["succeeded", "failed"]


def test_the_documented_example_is_what_the_parser_makes_of_its_raw_output() -> None:
    raw, layout = example_blocks()
    documented = LayoutDocument.model_validate_json(layout).pages[0]
    recognized = recognized_from_raw(raw, documented.width, documented.height, eos=True, output_tokens=187)
    page, _ = build_page(
        number=1,
        width=documented.width,
        height=documented.height,
        dpi=documented.dpi,
        engine="deepseek",
        recognized=recognized,
        timings=PageTimings(render_ms=41, engine_ms=2310),
        source=PageSource("ocr", "no_text_layer"),
    )
    assert page == documented
