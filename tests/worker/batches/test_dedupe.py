"""Dedupe: an identical document of the same owner, with the same options, takes a copy of the
earlier result; anything less and the task runs."""

from __future__ import annotations

from sqlalchemy import select, update

from shared.clock import utcnow
from shared.db.models import Page, Task, TaskStatus
from shared.db.session import session_scope
from shared.layout import LayoutDocument
from shared.queue import QUEUE_BATCH, QUEUE_INTERACTIVE
from shared.storage import make_storage
from tests.worker.batches.conftest import Harness
from worker.batches.dedupe import Deduper

SHA = "ab" * 32


def original_task(harness: Harness, options: dict[str, str]) -> str:
    """A succeeded task with real result objects, as the pipeline leaves them."""
    storage = make_storage(harness.stack.settings)
    task_id = "tsk_01m7zzzzzzzzzzzzzzzzzzzzzz"
    layout = LayoutDocument(task_id=task_id, engine="tesseract", model=None, options=options, pages=[])
    storage.put_bytes(f"tasks/{task_id}/results/full.md", b"# Hello\n")
    storage.put_bytes(f"tasks/{task_id}/results/layout.json", layout.model_dump_json().encode())
    storage.put_bytes(f"tasks/{task_id}/results/images/1_1.jpg", b"\xff\xd8\xff jpeg")
    with session_scope(harness.db) as session:
        session.add(
            Task(
                id=task_id,
                owner="default",
                status=TaskStatus.succeeded,
                source_kind="upload",
                sha256=SHA,
                options=options,
                page_count=1,
                pages_total=1,
                pages_done=1,
                result_keys={"markdown": "m", "layout": "l", "images": ["1_1.jpg"]},
                finished_at=utcnow(),
            )
        )
        session.add(
            Page(task_id=task_id, number=1, status="succeeded", width=10, height=10, blocks=3, engine_ms=900)
        )
    return task_id


def batch_task(harness: Harness, dedupe: bool, options: dict[str, str]) -> str:
    batch_id = harness.submit_urls(1, dedupe=dedupe)
    harness.expand(batch_id)
    [task_id] = harness.tasks(batch_id)
    with session_scope(harness.db) as session:
        session.execute(update(Task).where(Task.id == task_id).values(sha256=SHA, options=options))
    return task_id


def test_an_identical_document_copies_the_earlier_result(harness: Harness) -> None:
    options = {"mode": "gundam", "prompt": "document"}
    origin = original_task(harness, options)
    task_id = batch_task(harness, dedupe=True, options=options)
    storage = make_storage(harness.stack.settings)
    keys = Deduper(harness.db, storage)(task_id, QUEUE_BATCH)
    assert keys == {
        "markdown": f"tasks/{task_id}/results/full.md",
        "layout": f"tasks/{task_id}/results/layout.json",
        "images": ["1_1.jpg"],
    }
    assert storage.get_bytes(keys["markdown"]) == b"# Hello\n"
    assert LayoutDocument.model_validate_json(storage.get_bytes(keys["layout"])).task_id == task_id
    assert storage.get_bytes(f"tasks/{task_id}/results/images/1_1.jpg") == b"\xff\xd8\xff jpeg"
    with session_scope(harness.db) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert (task.reused_from, task.pages_done, task.page_count) == (origin, 1, 1)
        page = session.scalars(select(Page).where(Page.task_id == task_id)).one()
        assert (page.status, page.blocks, page.engine_ms) == ("succeeded", 3, None)  # no engine ran


def test_without_dedupe_or_with_other_options_the_task_runs(harness: Harness) -> None:
    options = {"mode": "gundam", "prompt": "document"}
    original_task(harness, options)
    reuse = Deduper(harness.db, make_storage(harness.stack.settings))
    assert reuse(batch_task(harness, dedupe=False, options=options), QUEUE_BATCH) is None
    other = batch_task(harness, dedupe=True, options={"mode": "tiny", "prompt": "document"})
    assert reuse(other, QUEUE_BATCH) is None
    assert reuse(batch_task(harness, dedupe=True, options=options), QUEUE_INTERACTIVE) is None
