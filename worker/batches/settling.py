"""Settle the items whose task reached a terminal state: mirror the results under the output
prefix, then record the outcome on the item and add it to the batch's counters, all in one
transaction. An item is settled once (conditional update), so counters never count twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from shared.clock import utcnow
from shared.db.models import TERMINAL_STATUSES, Batch, BatchItem, ItemState, Task, TaskStatus
from shared.db.session import session_scope
from shared.logs import get_logger
from worker.batches.context import BatchContext
from worker.batches.mirror import OutputFailed, mirror_result

log = get_logger(__name__)
SETTLE_PAGE = 500


@dataclass(frozen=True)
class Finished:
    item_id: int
    source_ref: str
    status: str
    pages: int
    reused: bool
    result_keys: dict[str, Any] | None


def _finished(ctx: BatchContext, batch_id: str) -> list[Finished]:
    with session_scope(ctx.db) as session:
        rows = session.execute(
            select(
                BatchItem.id,
                BatchItem.source_ref,
                Task.status,
                Task.pages_done,
                Task.reused_from,
                Task.result_keys,
            )
            .outerjoin(Task, Task.id == BatchItem.task_id)
            .where(BatchItem.batch_id == batch_id, BatchItem.state == ItemState.submitted)
            .where((Task.status.in_(list(TERMINAL_STATUSES))) | (Task.id.is_(None)))
            .order_by(BatchItem.id)
            .limit(SETTLE_PAGE)
        ).all()
    return [
        # a task deleted through the task API leaves its item without one: it failed
        Finished(item_id, ref, status or TaskStatus.failed, pages or 0, reused is not None, keys)
        for item_id, ref, status, pages, reused, keys in rows
    ]


def settle(ctx: BatchContext, batch: Batch) -> int:
    finished = _finished(ctx, batch.id)
    if not finished:
        return 0
    outputs: dict[int, dict[str, Any]] = {}
    for entry in finished:
        if batch.output_prefix and entry.status == TaskStatus.succeeded and entry.result_keys:
            try:
                outputs[entry.item_id] = {
                    "output": mirror_result(ctx.s3, ctx.storage, batch, entry.source_ref, entry.result_keys)
                }
            except OutputFailed as exc:
                outputs[entry.item_id] = {"error_code": "output_failed", "error_message": exc.message}
    now = utcnow()
    counts: Counter[str] = Counter()
    pages = reused = 0
    with session_scope(ctx.db) as session:
        for entry in finished:
            values: dict[str, Any] = {"state": ItemState.done, "status": entry.status, "pages": entry.pages}
            values.update(outputs.get(entry.item_id, {}))
            result = session.execute(
                update(BatchItem)
                .where(BatchItem.id == entry.item_id, BatchItem.state == ItemState.submitted)
                .values(settled_at=now, **values)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                counts[entry.status] += 1
                pages += entry.pages
                reused += entry.reused and entry.status == TaskStatus.succeeded
        session.execute(
            update(Batch)
            .where(Batch.id == batch.id)
            .values(
                settled_succeeded=Batch.settled_succeeded + counts[TaskStatus.succeeded],
                settled_failed=Batch.settled_failed + counts[TaskStatus.failed],
                settled_canceled=Batch.settled_canceled + counts[TaskStatus.canceled],
                settled_pages=Batch.settled_pages + pages,
                settled_reused=Batch.settled_reused + reused,
            )
        )
    return sum(counts.values())
