"""DeepSeek-shaped output through the whole worker on the CPU: a real `ocrp worker` process with
the replay engine renders real PDF pages, parses recorded DeepSeek-OCR outputs, crops figures
and writes full.md and layout.json."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pymupdf
import pytest
from PIL import Image

from shared.layout import LayoutDocument
from shared.layout.schema import json_schema
from tests.fixtures.stack import Stack
from worker.layout.grounding import parse_grounding

pytestmark = pytest.mark.slow

RAW = Path(__file__).parents[1] / "data" / "deepseek"


def three_page_pdf(path: Path) -> Path:
    with pymupdf.open() as doc:
        for number in (1, 2, 3):
            doc.new_page().insert_text((72, 72), f"Generated page {number}", fontsize=14)
        doc.save(path)
    return path


def layout_of(stack: Stack, task: dict[str, Any]) -> LayoutDocument:
    response = stack.api.get(f"/v1/tasks/{task['id']}/result.json")
    assert response.status_code == 200
    jsonschema.validate(response.json(), json_schema())
    return LayoutDocument.model_validate(response.json())  # also checks boxes inside pages


def assert_figure_crop(stack: Stack, task: dict[str, Any], bbox: list[int], image: str) -> None:
    response = stack.api.get(f"/v1/tasks/{task['id']}/{image}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    crop = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert crop.size == (bbox[2] - bbox[0], bbox[3] - bbox[1])
    # the OLMo logo is coloured: a crop of blank paper or of the wrong place would be grey
    saturated = crop.convert("HSV").getchannel("S").point(lambda s: 255 if s > 80 else 0)
    assert saturated.histogram()[255] > crop.size[0] * crop.size[1] * 0.2


def test_replayed_deepseek_output_runs_through_the_whole_worker(
    embedded_stack: Stack, data_dir: Path, tmp_path: Path
) -> None:
    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(RAW / "olmo-page-1.txt", replay / "page-1.txt")
    shutil.copy(RAW / "truncated.txt", replay / "page-2.txt")
    embedded_stack.start_worker(engine="replay", replay_dir=replay)

    pdf = data_dir / "olmo-page-1.pdf"
    task = embedded_stack.wait_task(embedded_stack.submit_file(pdf, dpi=144)["id"])
    assert task["status"] == "succeeded", task
    assert task["engine"] == "replay"

    markdown = embedded_stack.api.get(f"/v1/tasks/{task['id']}/result.md").text
    assert markdown.startswith("<!-- page 1 -->\n\n![](images/1_1.jpg)\n\n# : Accelerating the Science")
    assert "\n## Abstract\n\nLanguage models (LMs) have become ubiquitous" in markdown
    assert "\n## 1 Introduction\n" in markdown
    assert "<|ref|>" not in markdown
    assert "end\u2581of\u2581sentence" not in markdown

    layout = layout_of(embedded_stack, task)
    page = layout.pages[0]
    assert (page.width, page.height, page.dpi) == (1190, 1684, 144)  # A4 at 144 dpi
    assert page.engine == "replay"
    assert page.truncated is False
    recorded = parse_grounding((RAW / "olmo-page-1.txt").read_text(encoding="utf-8"))
    assert [b.type for b in page.blocks] == [b.type for b in recorded.blocks]
    for block in page.blocks:
        assert block.bbox is not None
        x1, y1, x2, y2 = block.bbox
        assert 0 <= x1 < x2 <= page.width
        assert 0 <= y1 < y2 <= page.height

    figure = page.blocks[0]
    assert figure.type == "image"
    assert figure.image == "images/1_1.jpg"
    assert figure.bbox is not None
    assert [url.rsplit("/", 1)[-1] for url in task["result"]["images"]] == ["1_1.jpg"]
    assert_figure_crop(embedded_stack, task, figure.bbox, figure.image)

    # a page recorded without its end token is truncated; a page with no recording fails alone
    generated = three_page_pdf(tmp_path / "three.pdf")
    task = embedded_stack.wait_task(embedded_stack.submit_file(generated)["id"])
    assert task["status"] == "succeeded", task
    assert task["progress"]["pages_failed"] == 1
    assert task["progress"]["pages_truncated"] == 1
    layout = layout_of(embedded_stack, task)
    first, second, third = layout.pages
    assert first.status == second.status == "succeeded"
    assert second.truncated is True
    assert [b.type for b in second.blocks] == ["title", "table"]
    assert third.status == "failed"
    assert third.error is not None
    assert third.error.code == "replay_missing"
    markdown = embedded_stack.api.get(f"/v1/tasks/{task['id']}/result.md").text
    assert "<!-- page 2 -->\n\n# Quarterly Report\n\n<table>" in markdown
    # each page carries its markdown, the same text full.md holds after the page's marker
    assert first.markdown is not None
    assert second.markdown is not None
    assert f"<!-- page 1 -->\n\n{first.markdown}\n\n<!-- page 2 -->\n\n{second.markdown}" in markdown
    assert third.markdown is None

    # table_format=markdown: pipe tables in the markdown; layout.json keeps the engine's HTML
    task = embedded_stack.wait_task(embedded_stack.submit_file(generated, table_format="markdown")["id"])
    assert task["options"]["table_format"] == "markdown"
    markdown = embedded_stack.api.get(f"/v1/tasks/{task['id']}/result.md").text
    assert "<!-- page 2 -->\n\n# Quarterly Report\n\n| " in markdown
    assert "<table>" not in markdown
    assert "|---|" in markdown
    table = layout_of(embedded_stack, task).pages[1].blocks[1]
    assert table.text.startswith("<table>")
