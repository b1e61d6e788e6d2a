"""Task events in Redis: one stream per task (`ocrp:events:{task_id}`).

A stream rather than pub/sub: a watcher that subscribes a moment after the worker published
still gets the event (no gap between reading the task row and subscribing), the entry id is the
SSE event id for `Last-Event-ID`, and a blocking XREAD wakes the watcher as soon as an event
lands. One thread per API process blocks on the streams of every watched task at once
(`RedisEventPoller`), so that an idle watcher costs no connection and no read. Each stream is
capped (`MAXLEN ~ OCR_EVENTS_MAX_PER_TASK`) and expires `OCR_EVENTS_RETENTION_S` after its last
event.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import redis

from shared.events.model import StoredEvent, TaskEvent, decode
from shared.events.store import WATCH_REFRESH_S, WATCH_TTL_S
from shared.events.wakeups import Waiter, Wakeups
from shared.logs import get_logger

log = get_logger(__name__)
READ_BATCH = 500
_CURSOR = re.compile(r"\d{1,20}-\d{1,20}")
BEFORE_ALL = "0-0"


STREAM_PREFIX = "ocrp:events:"


def stream_key(task_id: str) -> str:
    return f"{STREAM_PREFIX}{task_id}"


def watch_key(task_id: str) -> str:
    return f"ocrp:watched:{task_id}"


class RedisEventPublisher:
    def __init__(self, url: str, max_per_task: int, retention_s: float) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.max_per_task = max_per_task
        self.retention_s = max(1, int(retention_s))

    def publish(self, event: TaskEvent) -> None:
        key = stream_key(event.task_id)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xadd(
                key,
                {"type": event.type.value, "data": event.encode()},
                maxlen=self.max_per_task,
                approximate=True,
            )
            pipe.expire(key, self.retention_s)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("task.events.publish_failed", task_id=event.task_id, type=event.type, error=str(exc))

    def watched(self, task_id: str) -> bool:
        try:
            return bool(self.client.exists(watch_key(task_id)))
        except redis.RedisError:
            return True  # unknown: stream, as before watches were known

    def close(self) -> None:
        self.client.close()


class RedisSubscription:
    """Reads that fail (Redis restarting) return nothing after their wait: the watch goes on
    with its task-row checks, which end it when the task ends, and picks the stream up again
    when Redis is back."""

    def __init__(self, feed: RedisEventFeed, task_id: str, waiter: Waiter) -> None:
        self.feed = feed
        self.key = stream_key(task_id)
        self.task_id = task_id
        self.waiter = waiter
        self.failing = False
        self.fresh = True  # nothing read yet: the first read asks the stream itself
        self.marked_at = float("-inf")

    def _mark(self) -> None:
        self.feed.client.set(watch_key(self.task_id), "1", ex=int(WATCH_TTL_S))

    async def mark(self) -> None:
        """Tell the workers someone watches (see `shared.events.store.WATCH_TTL_S`)."""
        now = time.monotonic()
        if now - self.marked_at < WATCH_REFRESH_S:
            return
        try:
            await anyio.to_thread.run_sync(self._mark)
            self.marked_at = now
        except redis.RedisError as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            log.warning("task.events.read_failed", task_id=self.task_id, error=str(exc))
        self.failing = True

    def _latest(self) -> str:
        entries: Any = self.feed.client.xrevrange(self.key, count=1)
        return _text(entries[0][0]) if entries else BEFORE_ALL

    def _after(self, after: str) -> list[StoredEvent]:
        answer: Any = self.feed.client.xread({self.key: after}, count=READ_BATCH)
        events = []
        for _key, entries in answer or []:
            for entry_id, fields in entries:
                events.append(
                    StoredEvent(_text(entry_id), decode(_text(fields[b"type"]), _text(fields[b"data"])))
                )
        return events

    async def latest(self) -> str:
        try:
            cursor = await anyio.to_thread.run_sync(self._latest)
        except redis.RedisError as exc:
            self._failed(exc)
            return BEFORE_ALL
        self.feed.poller.follow(self.task_id, cursor)
        return cursor

    async def read(self, after: str, wait_s: float) -> list[StoredEvent]:
        """The stream is read when the feed's poller saw something new on it (and once at the
        start); otherwise the watcher sleeps until it is woken or its wait is over."""
        await self.mark()
        self.feed.poller.follow(self.task_id, after)
        deadline = time.monotonic() + wait_s
        while True:
            self.waiter.clear()  # before looking: a wake-up from now on ends the next wait
            if self.fresh or wait_s <= 0 or self.feed.poller.newer_than(self.task_id, after):
                self.fresh = False
                try:
                    events = await anyio.to_thread.run_sync(self._after, after)
                except redis.RedisError as exc:
                    self._failed(exc)
                    events = []
                else:
                    self.failing = False
                if events or wait_s <= 0:
                    return events
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.waiter.wait(remaining):
                return []


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entry_id(cursor: str) -> tuple[int, int]:
    ms, _, seq = cursor.partition("-")
    return int(ms), int(seq or 0)


class RedisEventPoller:
    """One thread per feed that blocks on every watched stream at once (one XREAD of many
    streams, `block_s` at a time) and wakes the watchers of streams that moved. Without watchers
    it sleeps; when Redis is away it retries every second."""

    def __init__(self, client: redis.Redis, wakeups: Wakeups, block_s: float = 0.1) -> None:
        self.client = client
        self.wakeups = wakeups
        self.block_ms = max(1, int(block_s * 1000))
        self._seen: dict[str, str] = {}  # the newest entry id known of each watched stream
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._failing = False

    def follow(self, task_id: str, cursor: str) -> None:
        with self._lock:
            self._seen.setdefault(task_id, cursor)

    def newer_than(self, task_id: str, cursor: str) -> bool:
        seen = self._seen.get(task_id)
        return seen is not None and _entry_id(seen) > _entry_id(cursor)

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ocrp-events-redis", daemon=True)
                self._thread.start()

    def look_once(self) -> None:
        watched = set(self.wakeups.watched())
        with self._lock:
            for gone in self._seen.keys() - watched:
                del self._seen[gone]
            streams = {stream_key(task): cursor for task, cursor in self._seen.items()}
        if not streams:
            time.sleep(self.block_ms / 1000)
            return
        try:
            answer: Any = self.client.xread(streams, count=READ_BATCH, block=self.block_ms)  # type: ignore[arg-type]
        except redis.RedisError as exc:
            if not self._failing:
                log.warning("task.events.poll_failed", error=str(exc)[:200])
            self._failing = True
            time.sleep(1.0)
            return
        self._failing = False
        for key, entries in answer or []:
            task_id = _text(key).removeprefix(STREAM_PREFIX)
            if entries:
                with self._lock:
                    if task_id in self._seen:
                        self._seen[task_id] = _text(entries[-1][0])
                self.wakeups.wake(task_id)

    def _run(self) -> None:
        while True:
            if not self.wakeups.watched():
                self.wakeups.changed.wait()
            self.wakeups.changed.clear()
            self.look_once()


class RedisEventFeed:
    def __init__(self, url: str) -> None:
        self.url = url
        # shared by every watcher of the process: the poller's blocking reads and the watchers'
        # short ones (from threads) each take a pooled connection
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.wakeups = Wakeups()
        self.poller = RedisEventPoller(self.client, self.wakeups)

    @asynccontextmanager
    async def subscribe(self, task_id: str) -> AsyncIterator[RedisSubscription]:
        self.poller.ensure_running()
        with self.wakeups.waiting(task_id) as waiter:
            subscription = RedisSubscription(self, task_id, waiter)
            await subscription.mark()
            yield subscription

    def valid_cursor(self, cursor: str) -> bool:
        return _CURSOR.fullmatch(cursor) is not None
