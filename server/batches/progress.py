"""A batch's live counts, throughput and ETA.

Settled items are counted on the batch row by the expander; what is still in flight is read
from the tasks of the batch's unsettled items, which the in-flight bound keeps few. The rate is
the average since the first task was created: backfills run for hours and an average over the
whole run is steadier than a short window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import Batch, BatchItem, ItemState, Page, PageStatus, Task, TaskStatus


@dataclass(frozen=True)
class LiveCounts:
    pending: int
    queued: int
    running: int
    succeeded: int
    failed: int
    canceled: int
    skipped: int
    reused: int
    pages_done: int

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.canceled + self.skipped


@dataclass(frozen=True)
class Estimate:
    documents_per_min: float | None
    pages_per_min: float | None
    eta_s: float | None
    partial: bool


def pages_by_source(session: Session, batch: Batch) -> dict[str, int]:
    """Succeeded pages of the batch's tasks by where their text came from (text_layer, ocr)."""
    rows = session.execute(
        select(Page.source, func.count())
        .join(BatchItem, BatchItem.task_id == Page.task_id)
        .where(BatchItem.batch_id == batch.id, Page.status == PageStatus.succeeded)
        .group_by(Page.source)
    )
    return {str(source): int(count) for source, count in rows if source is not None}


def live_counts(session: Session, batch: Batch) -> LiveCounts:
    in_flight = {
        status: (count, pages or 0)
        for status, count, pages in session.execute(
            select(Task.status, func.count(), func.sum(Task.pages_done))
            .join(BatchItem, BatchItem.task_id == Task.id)
            .where(BatchItem.batch_id == batch.id, BatchItem.state == ItemState.submitted)
            .group_by(Task.status)
        )
    }
    waiting = session.scalar(
        select(func.count())
        .select_from(BatchItem)
        .where(BatchItem.batch_id == batch.id, BatchItem.state.in_([ItemState.pending, ItemState.retry]))
    )

    def count(status: TaskStatus) -> int:
        return int(in_flight.get(status, (0, 0))[0])

    return LiveCounts(
        pending=int(waiting or 0),
        queued=count(TaskStatus.queued),
        running=count(TaskStatus.running),
        succeeded=batch.settled_succeeded + count(TaskStatus.succeeded),
        failed=batch.settled_failed + count(TaskStatus.failed),
        canceled=batch.settled_canceled + count(TaskStatus.canceled),
        skipped=batch.settled_skipped,
        reused=batch.settled_reused,
        pages_done=batch.settled_pages + sum(int(pages) for _, pages in in_flight.values()),
    )


def estimate(
    *,
    done: int,
    pages_done: int,
    listed: int,
    total: int | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    now: datetime,
) -> Estimate:
    """Throughput since the start and the time left at that rate (pure)."""
    end = finished_at or now
    elapsed = (end - started_at).total_seconds() if started_at else 0.0
    if elapsed <= 0 or done == 0:
        return Estimate(None, None, None, total is None)
    per_s = done / elapsed
    known = total if total is not None else listed
    eta = None if finished_at else round(max(known - done, 0) / per_s, 1)
    return Estimate(round(per_s * 60, 2), round(pages_done / elapsed * 60, 2), eta, total is None)
