"""A multi-page real PDF, submitted over HTTP, processed by a real worker process, on both
stacks: the embedded default and PostgreSQL + Redis + S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.checks import assert_good_result
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow


def _run_book(stack: Stack, data_dir: Path) -> None:
    stack.start_worker()
    pdf = data_dir / "book-4p.pdf"
    # the embedded default's strategy: these born-digital pages are read from their text layer
    submitted = stack.submit_file(pdf, mode="base", strategy="auto")
    assert submitted["status"] == "queued"
    assert submitted["source"]["content_type"] == "application/pdf"
    assert submitted["source"]["page_count"] == 4
    done = stack.wait_task(submitted["id"])
    layout = assert_good_result(stack, done, pdf, [1, 2, 3, 4])
    assert any(b.type == "image" for p in layout.pages for b in p.blocks), "page 4 holds a figure"
    assert {p.source for p in layout.pages} == {"text_layer"}


def test_embedded_default_processes_a_pdf_end_to_end(embedded_stack: Stack, data_dir: Path) -> None:
    _run_book(embedded_stack, data_dir)


def test_postgres_redis_s3_process_a_pdf_end_to_end(production_stack: Stack, data_dir: Path) -> None:
    _run_book(production_stack, data_dir)
    # the results really are in the S3 bucket, under the task's prefix
    from shared.storage import make_storage

    storage = make_storage(production_stack.settings)
    task_id = production_stack.api.get("/v1/tasks").json()["data"][0]["id"]
    keys = set(storage.list_keys(f"tasks/{task_id}/"))
    assert f"tasks/{task_id}/results/full.md" in keys
    assert f"tasks/{task_id}/results/layout.json" in keys
    assert any(k.startswith(f"tasks/{task_id}/results/images/") for k in keys)


def test_page_range_selects_pages(embedded_stack: Stack, data_dir: Path) -> None:
    embedded_stack.start_worker()
    pdf = data_dir / "book-4p.pdf"
    done = embedded_stack.wait_task(embedded_stack.submit_file(pdf, pages="2-3")["id"])
    assert_good_result(embedded_stack, done, pdf, [2, 3])


def test_an_s3_source_is_copied_in_and_processed(production_stack: Stack, data_dir: Path, s3_server) -> None:  # type: ignore[no-untyped-def]
    client = s3_server.client()
    client.create_bucket(Bucket="archive")
    client.put_object(Bucket="archive", Key="in/book.pdf", Body=(data_dir / "book-4p.pdf").read_bytes())
    production_stack.start_worker()
    ok = production_stack.api.post("/v1/tasks", json={"s3_uri": "s3://archive/in/book.pdf", "pages": "2"})
    missing = production_stack.api.post("/v1/tasks", json={"s3_uri": "s3://archive/in/nothing.pdf"})
    assert ok.status_code == missing.status_code == 202
    done = production_stack.wait_task(ok.json()["id"])
    assert done["status"] == "succeeded"
    assert done["source"]["kind"] == "s3"
    assert done["source"]["page_count"] == 4
    failed = production_stack.wait_task(missing.json()["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "source_not_found"
