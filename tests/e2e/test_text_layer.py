"""The text-layer path through the whole service: a born-digital PDF and its scan, submitted
over HTTP with `strategy`, processed by a real worker process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.textlayer.archive_pdfs import book_chapter, rasterised, report_with_table, two_column_paper
from tests.e2e.test_batches import wait_batch
from tests.fixtures.documents import zip_bytes
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow


def _result(stack: Stack, path: Path, **form: Any) -> tuple[dict[str, Any], str]:
    done = stack.wait_task(stack.submit_file(path, **form)["id"])
    assert done["status"] == "succeeded", done
    layout = stack.api.get(f"/v1/tasks/{done['id']}/result.json").json()
    return layout, stack.api.get(f"/v1/tasks/{done['id']}/result.md").text


def test_auto_reads_born_digital_pages_from_their_layer_and_sends_scans_to_the_engine(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    embedded_stack.start_worker()
    report, scan, book = tmp_path / "report.pdf", tmp_path / "scan.pdf", tmp_path / "book.pdf"
    report.write_bytes(report_with_table())
    scan.write_bytes(rasterised(report_with_table()))
    book.write_bytes(book_chapter(4))

    layout, markdown = _result(embedded_stack, report, strategy="auto")
    assert layout["version"] == "1.1"
    assert [(p["source"], p["source_reason"], p["engine"]) for p in layout["pages"]] == [
        ("text_layer", "text_layer_usable", "text_layer")
    ] * 2
    first = layout["pages"][0]["blocks"]
    assert any(b["type"] == "table" and "<td>North</td><td>4,210</td>" in b["text"] for b in first)
    assert any(b["type"] == "image" and b["image"] for b in layout["pages"][1]["blocks"])
    assert "Revenue grew by twelve percent in the fiscal year" in markdown
    assert "Page 1 of 2" not in markdown  # a page_footer block, kept in layout.json only
    assert any(b["type"] == "page_footer" and b["text"] == "Page 1 of 2" for b in first)

    task_id = layout["task_id"]
    pages = embedded_stack.api.get(f"/v1/tasks/{task_id}/pages").json()["data"]
    assert [(p["source"], p["engine_ms"]) for p in pages] == [("text_layer", None)] * 2

    layout, _ = _result(embedded_stack, scan, strategy="auto")
    assert {(p["source"], p["source_reason"]) for p in layout["pages"]} == {("ocr", "no_text_layer")}

    layout, markdown = _result(embedded_stack, book, strategy="auto")
    assert "CHAPTER 3. THE RIVER TRADE" not in markdown  # a running head repeated across pages
    assert "The settlement grew around the landing" in markdown


def test_strategy_ocr_uses_the_engine_and_text_flags_a_page_without_a_layer(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    embedded_stack.start_worker()
    report, scan = tmp_path / "report.pdf", tmp_path / "scan.pdf"
    report.write_bytes(report_with_table())
    scan.write_bytes(rasterised(report_with_table()))

    layout, _ = _result(embedded_stack, report, strategy="ocr", pages="1")
    assert [(p["source"], p["source_reason"], p["engine"]) for p in layout["pages"]] == [
        ("ocr", "strategy_ocr", "tesseract")
    ]
    layout, _ = _result(embedded_stack, scan, strategy="text", pages="1")
    assert [(p["source"], p["usable_text_layer"], p["source_reason"]) for p in layout["pages"]] == [
        ("text_layer", False, "no_text_layer")
    ]


def test_an_unknown_strategy_is_refused_with_a_stable_code(embedded_stack: Stack, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_with_table())
    with pdf.open("rb") as handle:
        response = embedded_stack.api.post(
            "/v1/tasks/upload", files={"file": ("r.pdf", handle)}, data={"strategy": "fast"}
        )
    assert response.status_code == 422
    assert response.json()["error"]["code"]


def test_a_backfill_reports_how_many_pages_took_each_path(embedded_stack: Stack) -> None:
    embedded_stack.start_worker("--beat", batch_expand_interval_s=0.3)
    archive = zip_bytes(
        [("born-digital.pdf", report_with_table()), ("scan.pdf", rasterised(two_column_paper()))]
    )
    upload = embedded_stack.api.post(
        "/v1/batches/upload", files={"file": ("mixed.zip", archive)}, data={"strategy": "auto"}
    )
    assert upload.status_code == 202, upload.text
    batch = wait_batch(embedded_stack, upload.json()["id"])
    assert batch["status"] == "completed", batch
    assert batch["options"]["strategy"] == "auto"
    assert (batch["progress"]["pages_text_layer"], batch["progress"]["pages_ocr"]) == (2, 1)
