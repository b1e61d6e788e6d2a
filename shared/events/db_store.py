"""Task events in the database (`task_events`), for installations without Redis.

Why a table rather than files under the data folder: the API and the workers already share the
database, a task's events go away with the task (foreign key), and the row id gives ordered,
resumable cursors for free. Writes are serialised per process so that ids become visible in
order (on PostgreSQL a sequence value is taken before the commit); readers poll by
`(task_id, id)`. Size stays bounded: the CPU engine writes about three rows a page, deltas are
coalesced (`OCR_EVENTS_DELTA_INTERVAL_MS`), and the sweep deletes rows older than
`OCR_EVENTS_RETENTION_S` (`prune_events`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import anyio.to_thread
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.db.models import TaskEventRow
from shared.db.session import session_scope
from shared.events.model import StoredEvent, TaskEvent, decode
from shared.logs import get_logger

log = get_logger(__name__)
READ_BATCH = 500


class DbEventPublisher:
    def __init__(self, database_url: str, pool_size: int = 10) -> None:
        self.url = database_url
        self.pool_size = pool_size
        self._lock = threading.Lock()

    def publish(self, event: TaskEvent) -> None:
        try:
            with self._lock, session_scope(self.url, self.pool_size) as session:
                session.add(TaskEventRow(task_id=event.task_id, type=event.type.value, data=event.encode()))
        except Exception as exc:  # a deleted task (foreign key), a database hiccup
            log.warning("task.events.publish_failed", task_id=event.task_id, type=event.type, error=str(exc))

    def close(self) -> None:
        return None


class DbSubscription:
    def __init__(self, feed: DbEventFeed, task_id: str) -> None:
        self.feed = feed
        self.task_id = task_id

    def _latest(self) -> str:
        with session_scope(self.feed.url, self.feed.pool_size) as session:
            newest = session.scalar(
                select(func.max(TaskEventRow.id)).where(TaskEventRow.task_id == self.task_id)
            )
            return str(newest or 0)

    def _after(self, after: int) -> list[StoredEvent]:
        with session_scope(self.feed.url, self.feed.pool_size) as session:
            rows = session.execute(
                select(TaskEventRow.id, TaskEventRow.type, TaskEventRow.data)
                .where(TaskEventRow.task_id == self.task_id, TaskEventRow.id > after)
                .order_by(TaskEventRow.id)
                .limit(READ_BATCH)
            ).all()
            return [StoredEvent(str(row_id), decode(type_, data)) for row_id, type_, data in rows]

    async def latest(self) -> str:
        return await anyio.to_thread.run_sync(self._latest)

    async def read(self, after: str, wait_s: float) -> list[StoredEvent]:
        deadline = time.monotonic() + wait_s
        while True:
            events = await anyio.to_thread.run_sync(self._after, int(after))
            if events or time.monotonic() >= deadline:
                return events
            await anyio.sleep(min(self.feed.poll_s, max(0.0, deadline - time.monotonic())))


class DbEventFeed:
    def __init__(self, database_url: str, pool_size: int = 10, poll_s: float = 0.25) -> None:
        self.url = database_url
        self.pool_size = pool_size
        self.poll_s = poll_s

    @asynccontextmanager
    async def subscribe(self, task_id: str) -> AsyncIterator[DbSubscription]:
        yield DbSubscription(self, task_id)

    def valid_cursor(self, cursor: str) -> bool:
        return cursor.isascii() and cursor.isdigit() and len(cursor) <= 19


def prune_events(session: Session, before: datetime) -> int:
    """Delete events stored before `before`; returns how many. The caller commits."""
    result = session.execute(delete(TaskEventRow).where(TaskEventRow.created_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result
