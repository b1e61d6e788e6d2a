"""Stopping a batch's work, shared by the API (DELETE) and the expander (which repeats it for
anything that raced the request). Flushes only; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.models import Batch, BatchItem, ItemState, ItemStatus
from shared.tasks import lifecycle


def _settle_waiting(
    session: Session, batch_id: str, state: ItemState, status: ItemStatus, now: datetime
) -> int:
    result = session.execute(
        update(BatchItem)
        .where(BatchItem.batch_id == batch_id, BatchItem.state == state)
        .values(state=ItemState.done, status=status, settled_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def stop_batch_work(session: Session, batch_id: str, now: datetime) -> None:
    """Cancel queued tasks, ask running ones to stop, settle the items that have no task yet
    (canceled) or were waiting for a retry (failed, as they were)."""
    lifecycle.cancel_batch_tasks(session, batch_id)
    retry_pages = session.scalars(
        select(BatchItem.pages).where(BatchItem.batch_id == batch_id, BatchItem.state == ItemState.retry)
    ).all()
    failed = _settle_waiting(session, batch_id, ItemState.retry, ItemStatus.failed, now)
    canceled = _settle_waiting(session, batch_id, ItemState.pending, ItemStatus.canceled, now)
    session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(
            settled_failed=Batch.settled_failed + failed,
            settled_canceled=Batch.settled_canceled + canceled,
            settled_pages=Batch.settled_pages + sum(p or 0 for p in retry_pages),
        )
    )
