"""Polling a task: the `?wait=S` long-poll of `GET /v1/tasks/{id}`, and a queued task's place
in its queue with the `Retry-After` hint that follows from it.

A long-poll waits on the task's live events (the same feed `/events` streams), not on the
database: it answers as soon as the task ends, or after S seconds with its state then. The wait
comes before the route reads the task, so a waiting client holds no pooled connection.
"""

from __future__ import annotations

import time

from server.events.state import read_state
from server.events.watch import WatchTiming, watch_task
from shared.config import Settings
from shared.events.store import EventFeed

MAX_WAIT_S = 60
# how often the wait checks its deadline (and the row, when no event came)
_TICK_S = 0.5
MAX_RETRY_AFTER_S = 30


def retry_after_s(queue_position: int) -> int:
    """Seconds a client should wait before polling a queued task again: soon at the head of
    the queue, less often further back."""
    return max(1, min(MAX_RETRY_AFTER_S, 1 + queue_position))


async def wait_for_end(settings: Settings, feed: EventFeed, owner: str, task_id: str, wait: float) -> None:
    """Until the task ends or `wait` seconds pass. The route calls it only when asked to wait,
    so a plain poll walks no extra dependency."""
    if wait <= 0:
        return
    deadline = time.monotonic() + wait
    timing = WatchTiming(idle_s=_TICK_S, row_check_s=min(settings.events_row_check_s, 2.0))
    events = watch_task(feed, task_id, lambda: read_state(settings, owner, task_id), timing=timing)
    try:
        async for stored in events:
            if stored is not None and stored.event.is_terminal:
                return
            if time.monotonic() >= deadline:
                return
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # an async generator
