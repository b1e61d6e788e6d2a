"""Task events in the database (`task_events`), for installations without Redis.

Why a table rather than files under the data folder: the API and the workers already share the
database, a task's events go away with the task (foreign key), and the row id gives ordered,
resumable cursors for free. Writes are serialised per process so that ids become visible in
order (on PostgreSQL a sequence value is taken before the commit); readers poll by
`(task_id, id)`: one thread per API process looks for new events of every watched task at once
(`DbEventPoller`), and a watcher reads the table only when its task has some. Size stays
bounded: the CPU engine writes about three rows a page, deltas are coalesced
(`OCR_EVENTS_DELTA_INTERVAL_MS`) and written only for watched tasks (a watcher adds a `watch`
row every 10 s, which readers and the poller skip), and the sweep deletes rows older than
`OCR_EVENTS_RETENTION_S` (`prune_events`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db.models import TaskEventRow
from shared.db.session import session_scope
from shared.events.model import StoredEvent, TaskEvent, decode
from shared.events.store import WATCH_REFRESH_S, WATCH_TTL_S
from shared.events.wakeups import Waiter, Wakeups
from shared.logs import get_logger

log = get_logger(__name__)
READ_BATCH = 500
# a watcher's mark (`shared.events.store.WATCH_TTL_S`) is a row of its own type in the same table:
# no other table to migrate, and it goes away with the task and with the sweep's pruning
WATCH_TYPE = "watch"
POLL_CHUNK = 500  # watched tasks per polling statement (well under every bound-parameter limit)


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

    def watched(self, task_id: str) -> bool:
        since = utcnow() - timedelta(seconds=WATCH_TTL_S)
        try:
            with session_scope(self.url, self.pool_size) as session:
                newest = session.scalar(
                    select(func.max(TaskEventRow.created_at)).where(
                        TaskEventRow.task_id == task_id, TaskEventRow.type == WATCH_TYPE
                    )
                )
        except Exception:
            return True  # unknown: stream, as before watches were known
        return newest is not None and newest >= since

    def close(self) -> None:
        return None


class DbSubscription:
    def __init__(self, feed: DbEventFeed, task_id: str, waiter: Waiter) -> None:
        self.feed = feed
        self.task_id = task_id
        self.waiter = waiter
        self.marked_at = float("-inf")

    def _mark(self) -> None:
        try:
            with session_scope(self.feed.url, self.feed.pool_size) as session:
                session.add(TaskEventRow(task_id=self.task_id, type=WATCH_TYPE, data="{}"))
        except Exception as exc:  # a deleted task (foreign key), a database hiccup
            log.warning("task.events.watch_failed", task_id=self.task_id, error=str(exc))

    async def mark(self) -> None:
        """Tell the workers someone watches (see `shared.events.store.WATCH_TTL_S`)."""
        now = time.monotonic()
        if now - self.marked_at >= WATCH_REFRESH_S:
            self.marked_at = now
            await anyio.to_thread.run_sync(self._mark)

    def _latest(self) -> str:
        with session_scope(self.feed.url, self.feed.pool_size) as session:
            newest = session.scalar(
                select(func.max(TaskEventRow.id)).where(
                    TaskEventRow.task_id == self.task_id, TaskEventRow.type != WATCH_TYPE
                )
            )
            return str(newest or 0)

    def _after(self, after: int) -> list[StoredEvent]:
        with session_scope(self.feed.url, self.feed.pool_size) as session:
            rows = session.execute(
                select(TaskEventRow.id, TaskEventRow.type, TaskEventRow.data)
                .where(
                    TaskEventRow.task_id == self.task_id,
                    TaskEventRow.id > after,
                    TaskEventRow.type != WATCH_TYPE,
                )
                .order_by(TaskEventRow.id)
                .limit(READ_BATCH)
            ).all()
            return [StoredEvent(str(row_id), decode(type_, data)) for row_id, type_, data in rows]

    async def latest(self) -> str:
        return await anyio.to_thread.run_sync(self._latest)

    async def read(self, after: str, wait_s: float) -> list[StoredEvent]:
        """The table is read only when the feed's poller saw an event newer than `after` (or has
        not looked at this task yet); otherwise the watcher sleeps until it is woken."""
        await self.mark()
        cursor = int(after)
        if wait_s <= 0:
            return await anyio.to_thread.run_sync(self._after, cursor)
        deadline = time.monotonic() + wait_s
        while True:
            self.waiter.clear()  # before looking: a wake-up from now on ends the next wait
            newest = self.feed.poller.newest(self.task_id)
            if newest is None or newest > cursor:
                events = await anyio.to_thread.run_sync(self._after, cursor)
                if events:
                    return events
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.waiter.wait(remaining):
                return []


class DbEventPoller:
    """One thread per feed that asks the table, every `poll_s`, for the newest event id of every
    watched task (one statement per 500 tasks, over the `(task_id, id)` index) and wakes the
    watchers of tasks that have a newer one. Without watchers it sleeps."""

    def __init__(self, url: str, pool_size: int, poll_s: float, wakeups: Wakeups) -> None:
        self.url, self.pool_size, self.poll_s = url, pool_size, poll_s
        self.wakeups = wakeups
        self._newest: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._failing = False

    def newest(self, task_id: str) -> int | None:
        """The newest event id of a watched task at the last look (0: none); None: not looked yet."""
        return self._newest.get(task_id)

    def ensure_running(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ocrp-events-db", daemon=True)
                self._thread.start()

    def _maxima(self, task_ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = dict.fromkeys(task_ids, 0)
        with session_scope(self.url, self.pool_size) as session:
            for start in range(0, len(task_ids), POLL_CHUNK):
                chunk = task_ids[start : start + POLL_CHUNK]
                rows = session.execute(
                    select(TaskEventRow.task_id, func.max(TaskEventRow.id))
                    # watch marks are not events: they must not wake the watchers
                    .where(TaskEventRow.task_id.in_(chunk), TaskEventRow.type != WATCH_TYPE)
                    .group_by(TaskEventRow.task_id)
                ).all()
                found.update({task_id: int(newest) for task_id, newest in rows})
        return found

    def look_once(self) -> None:
        watched = self.wakeups.watched()
        try:
            maxima = self._maxima(watched) if watched else {}
        except Exception as exc:  # the database is away: the watchers' row checks carry on
            if not self._failing:
                log.warning("task.events.poll_failed", error=str(exc)[:200])
            self._failing = True
            return
        self._failing = False
        for task_id, newest in maxima.items():
            if self._newest.get(task_id) != newest:
                self._newest[task_id] = newest
                self.wakeups.wake(task_id)
        for gone in self._newest.keys() - maxima.keys():
            del self._newest[gone]

    def _run(self) -> None:
        while True:
            if not self.wakeups.watched():
                self.wakeups.changed.wait()
            self.wakeups.changed.clear()
            self.look_once()
            time.sleep(self.poll_s)


class DbEventFeed:
    def __init__(self, database_url: str, pool_size: int = 10, poll_s: float = 0.25) -> None:
        self.url = database_url
        self.pool_size = pool_size
        self.poll_s = poll_s
        self.wakeups = Wakeups()
        self.poller = DbEventPoller(database_url, pool_size, poll_s, self.wakeups)

    @asynccontextmanager
    async def subscribe(self, task_id: str) -> AsyncIterator[DbSubscription]:
        self.poller.ensure_running()
        with self.wakeups.waiting(task_id) as waiter:
            subscription = DbSubscription(self, task_id, waiter)
            await subscription.mark()
            yield subscription

    def valid_cursor(self, cursor: str) -> bool:
        return cursor.isascii() and cursor.isdigit() and len(cursor) <= 19


def prune_events(session: Session, before: datetime) -> int:
    """Delete events stored before `before`; returns how many. The caller commits."""
    result = session.execute(delete(TaskEventRow).where(TaskEventRow.created_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result
