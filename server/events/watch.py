"""Following one task: its current state first, then live events, until it ends.

The task row is the truth. A watch starts with the row as a `status` event, then reads the
event store; every `row_check_s` it reads the row again, so that a stream ends even when an
event was lost (Redis restarted, a worker killed between its commit and its publish): on a
terminal row it drains what the store still holds, then ends with the row's state.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from shared.config import Settings
from shared.events import EventFeed, StoredEvent, TaskEvent

StateLoader = Callable[[], Awaitable[TaskEvent | None]]  # the row as an event; None: task gone


@dataclass(frozen=True)
class WatchTiming:
    idle_s: float = 1.0  # how long a read waits before the watch yields None (an idle tick)
    row_check_s: float = 5.0


def timing_of(settings: Settings) -> WatchTiming:
    return WatchTiming(idle_s=min(1.0, settings.events_keepalive_s), row_check_s=settings.events_row_check_s)


async def watch_task(
    feed: EventFeed,
    task_id: str,
    load_state: StateLoader,
    *,
    after: str | None = None,
    timing: WatchTiming = WatchTiming(),
) -> AsyncIterator[StoredEvent | None]:
    """Yields stored events in order, and None after each idle `idle_s` (so the caller can
    send keep-alives, check its client and its deadline). Ends after a terminal `status`."""
    async with feed.subscribe(task_id) as subscription:
        cursor = after if after is not None else await subscription.latest()
        state = await load_state()
        if state is None:
            return
        yield StoredEvent(cursor, state)
        if state.is_terminal:
            return
        next_check = time.monotonic() + timing.row_check_s
        while True:
            events = await subscription.read(cursor, timing.idle_s)
            for stored in events:
                cursor = stored.id
                yield stored
                if stored.event.is_terminal:
                    return
            if not events:
                yield None
            if time.monotonic() < next_check:
                continue
            next_check = time.monotonic() + timing.row_check_s
            state = await load_state()
            if state is not None and not state.is_terminal:
                continue
            for stored in await subscription.read(cursor, 0):
                cursor = stored.id
                yield stored
                if stored.event.is_terminal:
                    return
            if state is not None:
                yield StoredEvent(cursor, state)
            return
