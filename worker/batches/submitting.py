"""Turn waiting items into tasks, only as far as the in-flight bounds allow.

In flight means queued or running. The room left is the smaller of the batch's bound and the
owner's (over all of the owner's batches), so a million-object backfill never holds more than
`batch_max_in_flight` tasks in the database's active set or messages in the broker. Tasks go to
the `ocr.batch` queue, which workers serve only when `ocr.interactive` is empty.

Each item moves `pending → submitted` (or `retry → submitted`) with a conditional update: if a
cancel or a racing run moved it first, its task is not created.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shared.archives import ArchiveFormat
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Batch, BatchItem, BatchSourceKind, ItemState, ItemStatus, Task, TaskStatus
from shared.db.models.tasks import SourceKind
from shared.db.session import session_scope
from shared.filenames import safe_filename
from shared.ids import new_id
from shared.logs import get_logger
from shared.options import Mode
from shared.outbox import outbox
from shared.queue import QUEUE_BATCH, enqueue_process, routed_queue
from shared.storage import StorageError
from shared.tasks import lifecycle
from worker.batches.context import BatchContext
from worker.batches.extract import Extracted, Skipped, extract_member

log = get_logger(__name__)
IN_FLIGHT = (TaskStatus.queued, TaskStatus.running)


@dataclass(frozen=True)
class Prepared:
    item_id: int
    retry_task: str | None = None
    task: Task | None = None
    skipped: Skipped | None = None


def free_slots(session: Session, batch: Batch, per_batch: int, per_owner: int) -> int:
    in_batch = session.scalar(
        select(func.count()).select_from(Task).where(Task.batch_id == batch.id, Task.status.in_(IN_FLIGHT))
    )
    of_owner = session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.owner == batch.owner, Task.batch_id.is_not(None), Task.status.in_(IN_FLIGHT))
    )
    return max(0, min(per_batch - int(in_batch or 0), per_owner - int(of_owner or 0)))


def _filename(ref: str) -> str | None:
    name = ref.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return safe_filename(name) if name else None


def batch_queue(batch: Batch, settings: Settings) -> str:
    """`ocr.batch`, or its mode's own queue when the batch's mode is routed (OCR_MODE_QUEUES)."""
    return routed_queue(
        QUEUE_BATCH, str((batch.options or {}).get("mode", Mode.gundam)), settings.routed_modes
    )


def _task(batch: Batch, item: BatchItem, task_id: str, queue: str) -> Task:
    now = utcnow()
    task = Task(
        id=task_id,
        owner=batch.owner,
        status=TaskStatus.queued,
        queue=queue,
        filename=_filename(item.source_ref),
        options=dict(batch.options or {}),
        batch_id=batch.id,
        created_at=now,
        enqueued_at=now,
    )
    if batch.source_kind == BatchSourceKind.s3:
        bucket = (batch.source_uri or "").removeprefix("s3://").split("/", 1)[0]
        task.source_kind, task.source_uri = SourceKind.s3, f"s3://{bucket}/{item.source_ref}"
    elif batch.source_kind == BatchSourceKind.urls:
        task.source_kind, task.source_uri = SourceKind.url, item.source_ref
    else:
        task.source_kind = SourceKind.upload
    return task


def _prepare(ctx: BatchContext, batch: Batch, items: list[BatchItem]) -> list[Prepared]:
    """Build the tasks; archive members are copied into storage here, outside any transaction."""
    prepared = [Prepared(item.id, retry_task=item.task_id) for item in items if item.state == ItemState.retry]
    fresh = [item for item in items if item.state == ItemState.pending]
    queue = batch_queue(batch, ctx.settings)
    if batch.source_kind != BatchSourceKind.archive:
        return prepared + [Prepared(item.id, task=_task(batch, item, new_id("tsk"), queue)) for item in fresh]
    if not fresh:
        return prepared
    assert batch.source_object is not None
    assert batch.source_format is not None
    fmt = ArchiveFormat(batch.source_format)
    with ctx.cache.reader(ctx.storage, batch.id, batch.source_object, fmt) as reader:
        for item in fresh:
            task = _task(batch, item, new_id("tsk"), queue)
            outcome = extract_member(
                reader, item.position, task.id, ctx.storage, ctx.settings.max_upload_bytes
            )
            if isinstance(outcome, Skipped):
                prepared.append(Prepared(item.id, skipped=outcome))
                continue
            _attach(task, outcome)
            prepared.append(Prepared(item.id, task=task))
    return prepared


def _attach(task: Task, extracted: Extracted) -> None:
    task.input_key = extracted.input_key
    task.content_type = extracted.content_type
    task.size_bytes = extracted.size
    task.sha256 = extracted.sha256


def _reset_failed_task(session: Session, task_id: str) -> bool:
    try:
        lifecycle.reset_for_retry(session, task_id)
    except lifecycle.TransitionRefused:
        return False
    return True


def _move(session: Session, item_id: int, from_state: ItemState, **values: object) -> bool:
    result = session.execute(
        update(BatchItem).where(BatchItem.id == item_id, BatchItem.state == from_state).values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _commit(session: Session, batch: Batch, prepared: list[Prepared]) -> tuple[list[str], list[str]]:
    """Returns (task ids to enqueue, storage keys of inputs nobody will use)."""
    send: list[str] = []
    orphans: list[str] = []
    skipped = failed = 0
    now = utcnow()
    for entry in prepared:
        if entry.skipped is not None:
            if _move(
                session,
                entry.item_id,
                ItemState.pending,
                state=ItemState.done,
                status=ItemStatus.failed if entry.skipped.failed else ItemStatus.skipped,
                error_code=entry.skipped.code,
                error_message=entry.skipped.message,
                settled_at=now,
            ):
                failed += entry.skipped.failed
                skipped += not entry.skipped.failed
        elif entry.retry_task is not None:
            moved = _move(session, entry.item_id, ItemState.retry, state=ItemState.submitted)
            if moved and _reset_failed_task(session, entry.retry_task):
                send.append(entry.retry_task)
        elif entry.task is not None:
            session.add(entry.task)
            session.flush()  # the item's foreign key needs the task row
            if _move(
                session, entry.item_id, ItemState.pending, state=ItemState.submitted, task_id=entry.task.id
            ):
                send.append(entry.task.id)
            else:
                session.execute(delete(Task).where(Task.id == entry.task.id))
                if entry.task.input_key:
                    orphans.append(entry.task.input_key)
    sent = set(send)
    created = sum(1 for entry in prepared if entry.task is not None and entry.task.id in sent)
    session.execute(
        update(Batch)
        .where(Batch.id == batch.id)
        .values(
            tasks_created=Batch.tasks_created + created,
            settled_skipped=Batch.settled_skipped + skipped,
            settled_failed=Batch.settled_failed + failed,
            started_at=func.coalesce(Batch.started_at, now),
        )
    )
    return send, orphans


def submit(ctx: BatchContext, batch_id: str) -> int:
    """Create (or re-queue) as many tasks as there is room for; returns how many were sent."""
    settings = ctx.settings
    with session_scope(ctx.db) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.cancel_requested or not batch.active:
            return 0
        room = free_slots(session, batch, settings.batch_max_in_flight, settings.batch_owner_max_in_flight)
        if room == 0:
            return 0
        items = list(
            session.scalars(
                select(BatchItem)
                .where(
                    BatchItem.batch_id == batch_id, BatchItem.state.in_([ItemState.pending, ItemState.retry])
                )
                .order_by(BatchItem.id)
                .limit(room)
            )
        )
    if not items:
        return 0
    prepared = _prepare(ctx, batch, items)
    queue = batch_queue(batch, ctx.settings)
    with session_scope(ctx.db) as session:
        send, orphans = _commit(session, batch, prepared)
        box = outbox(session)  # the sweep re-sends queued tasks whose message was lost
        for task_id in send:
            wake = functools.partial(enqueue_process, ctx.app, task_id, queue)
            box.add(wake, "task.enqueue.failed", task_id=task_id, batch_id=batch_id)
    for key in orphans:
        try:
            ctx.storage.delete(key)
        except StorageError:
            log.warning("batch.orphan.kept", batch_id=batch_id, key=key)
    return len(send)
