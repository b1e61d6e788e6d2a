"""Retention: delete what the platform no longer needs to keep.

- the input document of a task finished more than OCR_INPUT_RETENTION_S ago;
- the results (full.md, layout.json, crops) and page checkpoints of a task finished more than
  OCR_RESULT_RETENTION_S ago; the result routes then answer 410 `result_expired`;
- idempotency keys past their lifetime.

The task row stays (its status, timings and errors are small and useful), marked with
`input_expired_at` / `results_expired_at`. Objects are deleted before the row is marked, so a
crash in between only means the next run deletes nothing again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import TERMINAL_STATUSES, IdempotencyRecord, Task
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.storage import Storage, StorageError
from shared.storage.keys import pages_prefix, results_prefix

log = get_logger(__name__)
BATCH = 200


def _delete_input(storage: Storage, task_id: str, input_key: str | None) -> None:
    if input_key:
        storage.delete(input_key)


def _delete_results(storage: Storage, task_id: str, input_key: str | None) -> None:
    storage.delete_prefix(results_prefix(task_id))
    storage.delete_prefix(pages_prefix(task_id))


def _expire(
    settings: Settings,
    storage: Storage,
    cutoff: datetime,
    marker: str,
    remove: Callable[[Storage, str, str | None], None],
    now: datetime,
) -> int:
    column = getattr(Task, marker)
    expired = 0
    while True:
        with session_scope(settings.database_url) as session:
            rows = session.execute(
                select(Task.id, Task.input_key)
                .where(
                    Task.status.in_(TERMINAL_STATUSES),
                    Task.finished_at < cutoff,
                    column.is_(None),
                )
                .order_by(Task.finished_at)
                .limit(BATCH)
            ).all()
        done: list[str] = []
        for task_id, input_key in rows:
            try:
                remove(storage, task_id, input_key)
                done.append(task_id)
            except StorageError as exc:
                log.warning("retention.delete.failed", task_id=task_id, error=str(exc))
        if done:
            with session_scope(settings.database_url) as session:
                session.execute(update(Task).where(Task.id.in_(done)).values({column: now}))
            expired += len(done)
        if len(rows) < BATCH or not done:
            return expired


def expire(settings: Settings, storage: Storage, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    counts = {"inputs": 0, "results": 0, "idempotency_keys": 0}
    if settings.input_retention_s > 0:
        cutoff = now - timedelta(seconds=settings.input_retention_s)
        counts["inputs"] = _expire(settings, storage, cutoff, "input_expired_at", _delete_input, now)
    if settings.result_retention_s > 0:
        cutoff = now - timedelta(seconds=settings.result_retention_s)
        counts["results"] = _expire(settings, storage, cutoff, "results_expired_at", _delete_results, now)
    with session_scope(settings.database_url) as session:
        result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
        counts["idempotency_keys"] = int(getattr(result, "rowcount", 0) or 0)
    if any(counts.values()):
        log.info("retention.done", **counts)
    return counts
