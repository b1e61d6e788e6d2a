"""Task events in Redis: one stream per task (`ocrp:events:{task_id}`).

A stream rather than pub/sub: a watcher that subscribes a moment after the worker published
still gets the event (no gap between reading the task row and subscribing), the entry id is the
SSE event id for `Last-Event-ID`, and a blocking XREAD wakes the watcher as soon as an event
lands. Each stream is capped (`MAXLEN ~ OCR_EVENTS_MAX_PER_TASK`) and expires
`OCR_EVENTS_RETENTION_S` after its last event.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import redis
import redis.asyncio

from shared.events.model import StoredEvent, TaskEvent, decode
from shared.events.store import WATCH_REFRESH_S, WATCH_TTL_S
from shared.logs import get_logger

log = get_logger(__name__)
READ_BATCH = 500
_CURSOR = re.compile(r"\d{1,20}-\d{1,20}")
BEFORE_ALL = "0-0"


def stream_key(task_id: str) -> str:
    return f"ocrp:events:{task_id}"


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

    def __init__(self, client: redis.asyncio.Redis, task_id: str) -> None:
        self.client = client
        self.key = stream_key(task_id)
        self.task_id = task_id
        self.failing = False
        self.marked_at = float("-inf")

    async def mark(self) -> None:
        """Tell the workers someone watches (see `shared.events.store.WATCH_TTL_S`)."""
        now = time.monotonic()
        if now - self.marked_at < WATCH_REFRESH_S:
            return
        try:
            await self.client.set(watch_key(self.task_id), "1", ex=int(WATCH_TTL_S))
            self.marked_at = now
        except redis.RedisError as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            log.warning("task.events.read_failed", task_id=self.task_id, error=str(exc))
        self.failing = True

    async def latest(self) -> str:
        try:
            entries = await self.client.xrevrange(self.key, count=1)
        except redis.RedisError as exc:
            self._failed(exc)
            return BEFORE_ALL
        return str(entries[0][0]) if entries else BEFORE_ALL

    async def read(self, after: str, wait_s: float) -> list[StoredEvent]:
        await self.mark()
        block = int(wait_s * 1000)
        try:
            # Redis reads BLOCK 0 as "forever": no wait means no BLOCK argument at all
            answer: Any = await self.client.xread({self.key: after}, count=READ_BATCH, block=block or None)
        except redis.RedisError as exc:
            self._failed(exc)
            await anyio.sleep(wait_s)
            return []
        self.failing = False
        events = []
        for _key, entries in answer or []:
            for entry_id, fields in entries:
                events.append(StoredEvent(str(entry_id), decode(fields["type"], fields["data"])))
        return events


class RedisEventFeed:
    def __init__(self, url: str) -> None:
        self.url = url

    @asynccontextmanager
    async def subscribe(self, task_id: str) -> AsyncIterator[RedisSubscription]:
        # one client per watcher: it lives on the watcher's event loop and holds the one
        # connection its blocking reads need
        client = redis.asyncio.Redis.from_url(self.url, decode_responses=True, socket_connect_timeout=5)
        try:
            subscription = RedisSubscription(client, task_id)
            await subscription.mark()
            yield subscription
        finally:
            await client.aclose()

    def valid_cursor(self, cursor: str) -> bool:
        return _CURSOR.fullmatch(cursor) is not None
