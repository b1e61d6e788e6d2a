"""What went wrong in a batch, for its resource: the failed documents grouped by error code,
with one message of each, and how to queue them again. A client that re-runs a batch (the same
idempotency key, `ocrp backfill` again) learns why documents failed, not only how many."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.batches.schemas import FailureGroup
from shared.db.models import Batch, BatchItem, ItemState, ItemStatus, Task

MAX_GROUPS = 10


def failure_groups(session: Session, batch: Batch) -> list[FailureGroup]:
    code = func.coalesce(BatchItem.error_code, Task.error_code, "unknown")
    rows = session.execute(
        select(code, func.count(), func.min(func.coalesce(BatchItem.error_message, Task.error_message)))
        .select_from(BatchItem)
        .outerjoin(Task, Task.id == BatchItem.task_id)
        .where(
            BatchItem.batch_id == batch.id,
            BatchItem.state == ItemState.done,
            BatchItem.status == ItemStatus.failed,
        )
        .group_by(code)
        .order_by(func.count().desc(), code)
        .limit(MAX_GROUPS)
    ).all()
    return [FailureGroup(code=str(c), count=int(n), message=str(m or "")) for c, n, m in rows]


def retry_hint(batch: Batch, failed: int, active: bool) -> str | None:
    if not failed or active:
        return None
    return (
        f"{failed} document(s) failed (see `failures` and manifest.jsonl); "
        f"POST /v1/batches/{batch.id}/retry-failed queues them again"
    )
