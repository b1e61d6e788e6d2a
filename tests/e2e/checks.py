"""What every successful end-to-end run must show, on any stack."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pymupdf
from PIL import Image

from shared.layout import LayoutDocument
from shared.layout.schema import json_schema
from tests.fixtures.stack import Stack
from tests.quality import cer

# Tesseract (tessdata_fast) on born-digital single-column prose at 144 dpi measured CER
# 0.001-0.022 per page on book-4p.pdf; 0.05 leaves room for engine-version noise while still
# failing on any real regression (lost lines, wrong page order, broken dehyphenation).
MAX_CER = 0.05


def text_layer(pdf: Path, pages: list[int]) -> str:
    with pymupdf.open(pdf) as doc:
        return "\n".join(doc[n - 1].get_text() for n in pages)


def assert_good_result(stack: Stack, task: dict[str, Any], pdf: Path, pages: list[int]) -> LayoutDocument:
    assert task["status"] == "succeeded", task
    progress = task["progress"]
    assert progress["pages_done"] == progress["pages_total"] == len(pages)
    assert progress["pages_failed"] == 0
    assert task["timings"]["started_at"]
    assert task["timings"]["finished_at"]

    markdown = stack.api.get(f"/v1/tasks/{task['id']}/result.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    error_rate = cer(text_layer(pdf, pages), markdown.text)
    assert error_rate < MAX_CER, f"CER {error_rate:.3f}"

    raw = stack.api.get(f"/v1/tasks/{task['id']}/result.json")
    assert raw.status_code == 200
    jsonschema.validate(raw.json(), json_schema())
    layout = LayoutDocument.model_validate(raw.json())  # also checks every bbox lies inside its page
    assert [p.number for p in layout.pages] == pages
    for page in layout.pages:
        assert page.status == "succeeded"
        assert page.width > 0
        assert page.height > 0
        for block in page.blocks:
            assert block.bbox is not None
            x1, y1, x2, y2 = block.bbox
            assert 0 <= x1 < x2 <= page.width
            assert 0 <= y1 < y2 <= page.height
            assert block.bbox_norm is not None
            assert all(0 <= v <= 1 for v in block.bbox_norm)

    figures = [(p, b) for p in layout.pages for b in p.blocks if b.type == "image"]
    listed = {url.rsplit("/", 1)[-1] for url in task["result"]["images"]}
    assert listed == {b.image.split("/", 1)[1] for _, b in figures if b.image}
    for _, block in figures:
        assert block.image
        assert block.image in markdown.text
        response = stack.api.get(f"/v1/tasks/{task['id']}/{block.image}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        crop = Image.open(io.BytesIO(response.content))
        assert block.bbox is not None
        assert crop.size == (block.bbox[2] - block.bbox[0], block.bbox[3] - block.bbox[1])

    archive = zipfile.ZipFile(io.BytesIO(stack.api.get(f"/v1/tasks/{task['id']}/result.zip").content))
    names = set(archive.namelist())
    assert {"full.md", "layout.json"} <= names
    assert {f"images/{n}" for n in listed} <= names
    assert archive.read("full.md").decode() == markdown.text
    return layout
