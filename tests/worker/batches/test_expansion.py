"""Expansion step by step: bounds, listing ahead, resume without duplicates, the end of a
batch, retry and cancel."""

from __future__ import annotations

import hashlib
import json
import tarfile
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from shared.clock import utcnow
from shared.db.models import BatchStatus, Task, TaskStatus
from shared.db.session import session_scope
from shared.storage import make_storage
from tests.fixtures.documents import tar_bytes, tar_link, tiny_pdf, zip_bytes
from tests.worker.batches.conftest import Harness
from worker.batches.listing import list_urls
from worker.batches.recording import record_page
from worker.pipeline.store import TaskStore


def test_tasks_are_created_only_while_the_batch_bound_allows(harness: Harness) -> None:
    batch_id = harness.submit_urls(25)
    harness.expand(batch_id)
    assert len(harness.tasks(batch_id)) == 5
    assert harness.item_count(batch_id) == 10  # one page listed, no further than needed
    harness.expand(batch_id)
    assert len(harness.tasks(batch_id)) == 5  # nothing finished: no room

    harness.finish(harness.tasks(batch_id)[:3])
    harness.expand(batch_id)
    assert len(harness.tasks(batch_id, TaskStatus.queued)) == 5
    assert len(harness.tasks(batch_id)) == 8
    batch = harness.batch(batch_id)
    assert batch.settled_succeeded == 3
    assert batch.status == BatchStatus.expanding


def test_the_owner_bound_spans_all_of_the_owners_batches(harness: Harness) -> None:
    first = harness.submit_urls(10)
    second = harness.submit_urls(10)
    harness.expand(first)
    harness.expand(second)
    assert len(harness.tasks(first)) == 5
    assert len(harness.tasks(second)) == 2  # 7 per owner
    harness.finish(harness.tasks(first))
    harness.expand(second)
    assert len(harness.tasks(second, TaskStatus.queued)) == 5


def test_tasks_go_to_the_batch_queue_and_remember_their_batch(harness: Harness) -> None:
    batch_id = harness.submit_urls(3, mode="small", pages="1")
    harness.expand(batch_id)
    task = harness.stack.api.get(f"/v1/tasks/{harness.tasks(batch_id)[0]}").json()
    assert task["batch_id"] == batch_id
    assert task["source"]["kind"] == "url"
    assert task["options"] == {"mode": "small", "prompt": "document", "pages": "1"}

    with session_scope(harness.db) as session:
        assert set(session.scalars(select(Task.queue).where(Task.batch_id == batch_id))) == {"ocr.batch"}


def test_a_page_listed_twice_is_recorded_once(harness: Harness) -> None:
    batch_id = harness.submit_urls(25)
    batch = harness.batch(batch_id)
    page = list_urls(make_storage(harness.stack.settings), batch, 10)
    assert record_page(harness.db, batch_id, batch.cursor, page, 10**9) == 10
    # a second run listed the same page before the first committed: the cursor moved on
    assert record_page(harness.db, batch_id, batch.cursor, page, 10**9) == 0
    assert harness.item_count(batch_id) == 10
    assert harness.batch(batch_id).cursor == "10"


def test_a_restarted_expander_continues_without_duplicates_or_gaps(harness: Harness) -> None:
    batch_id = harness.submit_urls(25)
    harness.expand(batch_id)
    for _ in range(12):  # each "restart" builds a fresh context, as a new worker process would
        harness.finish(harness.tasks(batch_id, TaskStatus.queued))
        harness.expand(batch_id, harness.new_context())
    items = harness.items(batch_id)
    assert sorted(item.position for item in items) == list(range(25))
    assert len({item.source_key for item in items}) == 25
    assert len({item.task_id for item in items}) == 25
    assert len(harness.tasks(batch_id)) == 25
    batch = harness.batch(batch_id)
    assert batch.status == BatchStatus.completed
    assert (batch.items_listed, batch.tasks_created, batch.settled_succeeded) == (25, 25, 25)


def test_the_end_of_a_batch_writes_the_manifest_and_runs_the_hooks_once(harness: Harness) -> None:
    batch_id = harness.submit_urls(4)
    harness.expand(batch_id)
    ids = harness.tasks(batch_id)
    harness.finish(ids[:3])
    harness.finish(ids[3:], TaskStatus.failed, code="fetch_failed")
    harness.expand(batch_id)
    batch = harness.batch(batch_id)
    assert batch.status == BatchStatus.completed
    assert harness.finished == [(batch_id, "completed")]
    harness.expand(batch_id)  # a stray message after the end changes nothing
    assert harness.finished == [(batch_id, "completed")]
    response = harness.stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl")
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["source"] for line in lines] == [f"https://files.example/doc-{i:03d}.pdf" for i in range(4)]
    assert [line["status"] for line in lines] == ["succeeded"] * 3 + ["failed"]
    assert lines[0]["result"] == {
        "markdown": f"tasks/{ids[0]}/results/full.md",
        "layout": f"tasks/{ids[0]}/results/layout.json",
    }
    assert lines[3]["error"] == {"code": "fetch_failed", "message": "fetch_failed in a test"}
    assert lines[3]["result"] is None
    assert {line["task_id"] for line in lines} == set(ids)
    resource = harness.stack.api.get(f"/v1/batches/{batch_id}").json()
    assert resource["counts"]["succeeded"] == 3
    assert resource["counts"]["failed"] == 1
    assert resource["progress"]["documents_done"] == 4
    assert resource["progress"]["percent"] == 100.0
    assert resource["manifest"].endswith(f"/v1/batches/{batch_id}/manifest.jsonl")


def test_the_manifest_grows_while_the_batch_runs_and_failures_are_named(harness: Harness) -> None:
    batch_id = harness.submit_urls(4)
    harness.expand(batch_id)
    ids = harness.tasks(batch_id)

    def manifest() -> tuple[list[dict[str, Any]], str]:
        response = harness.stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl")
        assert response.status_code == 200
        return [json.loads(line) for line in response.text.splitlines()], response.headers[
            "x-manifest-complete"
        ]

    assert manifest() == ([], "false")
    harness.finish(ids[:1])
    harness.finish(ids[1:2], TaskStatus.failed, code="fetch_failed")
    harness.expand(batch_id)
    lines, complete = manifest()
    assert ([line["status"] for line in lines], complete) == (["succeeded", "failed"], "false")
    running = harness.stack.api.get(f"/v1/batches/{batch_id}").json()
    assert running["failures"] == [{"code": "fetch_failed", "count": 1, "message": "fetch_failed in a test"}]
    assert running["retry_hint"] is None  # still running: nothing to retry yet

    harness.finish(ids[2:], TaskStatus.failed, code="pdf_corrupt")
    harness.expand(batch_id)
    ended = harness.stack.api.get(f"/v1/batches/{batch_id}").json()
    assert ended["status"] == "completed"
    assert [(f["code"], f["count"]) for f in ended["failures"]] == [("pdf_corrupt", 2), ("fetch_failed", 1)]
    assert "3 document(s) failed" in ended["retry_hint"]
    assert f"POST /v1/batches/{batch_id}/retry-failed" in ended["retry_hint"]
    lines, complete = manifest()
    assert (len(lines), complete) == (4, "true")


def test_retry_failed_queues_the_same_tasks_again(harness: Harness) -> None:
    batch_id = harness.submit_urls(4)
    harness.expand(batch_id)
    ids = harness.tasks(batch_id)
    harness.finish(ids[:2])
    harness.finish(ids[2:], TaskStatus.failed, code="fetch_failed")
    harness.expand(batch_id)
    assert harness.batch(batch_id).status == BatchStatus.completed
    retried = harness.stack.api.post(f"/v1/batches/{batch_id}/retry-failed")
    assert retried.status_code == 202
    assert retried.json()["retrying"] == 2
    assert retried.json()["batch"]["status"] == "running"
    harness.expand(batch_id)
    assert harness.tasks(batch_id, TaskStatus.queued) == ids[2:]
    task = harness.stack.api.get(f"/v1/tasks/{ids[2]}").json()
    assert (task["attempts"], task["error"]) == (0, None)

    harness.finish(ids[2:])
    harness.expand(batch_id)
    batch = harness.batch(batch_id)
    assert batch.status == BatchStatus.completed
    assert (batch.settled_succeeded, batch.settled_failed) == (4, 0)
    assert harness.finished == [(batch_id, "completed"), (batch_id, "completed")]
    nothing = harness.stack.api.post(f"/v1/batches/{batch_id}/retry-failed")
    assert (nothing.status_code, nothing.json()["retrying"]) == (200, 0)


def test_a_batch_retry_resets_a_task_as_the_task_retry_does(harness: Harness) -> None:
    # the batch retry once left the dead-letter mark and the failed pages as they were
    batch_id = harness.submit_urls(1)
    harness.expand(batch_id)
    [task_id] = harness.tasks(batch_id)
    store = TaskStore(harness.db)
    assert store.claim(task_id, "test-worker", utcnow() - timedelta(hours=1)) is not None
    store.init_pages(task_id, [1, 2])
    store.page_failed(task_id, 2, "page_failed", "boom")
    store.finish(task_id, TaskStatus.failed, code="storage_unavailable", message="down", dead_letter=True)
    assert [t["id"] for t in harness.stack.api.get("/v1/admin/dead-letters").json()["data"]] == [task_id]
    harness.expand(batch_id)

    assert harness.stack.api.post(f"/v1/batches/{batch_id}/retry-failed").json()["retrying"] == 1
    harness.expand(batch_id)

    task = harness.stack.api.get(f"/v1/tasks/{task_id}").json()
    assert (task["status"], task["dead_lettered_at"], task["progress"]["pages_failed"]) == ("queued", None, 0)
    pages = harness.stack.api.get(f"/v1/tasks/{task_id}/pages").json()["data"]
    assert [p["status"] for p in pages] == ["pending", "pending"]
    assert harness.stack.api.get("/v1/admin/dead-letters").json()["data"] == []


def test_cancel_stops_queued_work_and_ends_once_running_tasks_stop(harness: Harness) -> None:
    batch_id = harness.submit_urls(25)
    harness.expand(batch_id)
    ids = harness.tasks(batch_id)
    store = TaskStore(harness.db)
    assert store.claim(ids[0], "test-worker", utcnow() - timedelta(hours=1)) is not None  # running
    canceled = harness.stack.api.delete(f"/v1/batches/{batch_id}")
    assert canceled.status_code == 202
    assert canceled.json()["status"] == "canceling"
    assert harness.tasks(batch_id, TaskStatus.canceled) == ids[1:]
    assert store.cancel_requested(ids[0])
    assert harness.stack.api.delete(f"/v1/batches/{batch_id}").json()["error"]["code"] == "cancel_pending"
    retry = harness.stack.api.post(f"/v1/batches/{batch_id}/retry-failed")
    assert (retry.status_code, retry.json()["error"]["code"]) == (409, "batch_canceled")

    harness.expand(batch_id)
    assert harness.batch(batch_id).status == BatchStatus.canceling  # the running task still runs
    assert len(harness.tasks(batch_id)) == 5  # nothing new was created
    assert harness.item_count(batch_id) == 10  # nothing more was listed
    store.finish(ids[0], TaskStatus.canceled, code="canceled", message="canceled by request")
    harness.expand(batch_id)
    batch = harness.batch(batch_id)
    assert batch.status == BatchStatus.canceled
    assert harness.finished == [(batch_id, "canceled")]
    lines = harness.stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl").text.splitlines()
    assert len(lines) == 10
    assert {json.loads(line)["status"] for line in lines} == {"canceled"}
    finished = harness.stack.api.delete(f"/v1/batches/{batch_id}")
    assert (finished.status_code, finished.json()["error"]["code"]) == (409, "batch_finished")


def test_the_items_of_a_batch_are_paged_in_source_order(harness: Harness) -> None:
    batch_id = harness.submit_urls(7)
    harness.expand(batch_id)
    harness.finish(harness.tasks(batch_id)[:2])
    harness.expand(batch_id)
    seen: list[dict[str, object]] = []
    cursor = "0"
    while cursor is not None:
        page = harness.stack.api.get(
            f"/v1/batches/{batch_id}/tasks", params={"limit": 3, "cursor": cursor}
        ).json()
        assert len(page["data"]) <= 3
        seen += page["data"]
        cursor = page["next_cursor"]
    assert [item["source"] for item in seen] == [f"https://files.example/doc-{i:03d}.pdf" for i in range(7)]
    assert [item["status"] for item in seen] == ["succeeded"] * 2 + ["queued"] * 5
    assert all(item["task_id"] for item in seen)


def test_members_of_an_uploaded_tar_gz_become_task_inputs_or_are_skipped(harness: Harness) -> None:
    docs = {f"scans/{i}.pdf": tiny_pdf(f"Scan {i}") for i in range(3)}
    archive = tar_bytes(
        [
            *docs.items(),
            ("scans/readme.md", b"# not a document"),
            ("scans/sneaky.pdf", zip_bytes([("x.pdf", tiny_pdf("x"))])),
            tar_link("scans/link.pdf", "scans/0.pdf", tarfile.LNKTYPE),
        ],
        mode="w:gz",
    )
    upload = harness.stack.api.post("/v1/batches/upload", files={"file": ("scans.tgz", archive)})
    assert upload.status_code == 202, upload.text
    batch_id = upload.json()["id"]
    harness.expand(batch_id)
    items = {item.source_ref: item for item in harness.items(batch_id)}
    assert {ref: item.error_code for ref, item in items.items()} == {
        "scans/0.pdf": None,
        "scans/1.pdf": None,
        "scans/2.pdf": None,
        "scans/readme.md": "member_not_document",
        "scans/sneaky.pdf": "member_nested_archive",
        "scans/link.pdf": "member_link",
    }
    storage = make_storage(harness.stack.settings)
    with session_scope(harness.db) as session:
        for name, data in docs.items():
            task = session.scalars(select(Task).where(Task.id == items[name].task_id)).one()
            assert (task.source_kind, task.filename, task.content_type) == (
                "upload",
                name[6:],
                "application/pdf",
            )
            assert task.sha256 == hashlib.sha256(data).hexdigest()
            assert task.input_key == f"tasks/{task.id}/input.pdf"
            assert storage.get_bytes(task.input_key) == data
    resource = harness.stack.api.get(f"/v1/batches/{batch_id}").json()
    assert resource["counts"]["skipped"] == 3
    assert resource["counts"]["queued"] == 3
    assert resource["source"]["exhausted"] is True
    assert resource["status"] == "running"
