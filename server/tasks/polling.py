"""Polling a task: the `?wait=S` long-poll of `GET /v1/tasks/{id}`, and a queued task's place
in its queue with the `Retry-After` hint that follows from it.

A long-poll waits on the task's live events (the same feed `/events` streams), not on the
database: it answers as soon as the task ends, or after S seconds with its state then. The wait
runs as a dependency, before the route opens its database session, so a waiting client holds
no pooled connection.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.deps import CallerDep, SettingsDep
from server.events.deps import EventFeedDep
from server.events.state import read_state
from server.events.watch import WatchTiming, watch_task
from shared.db.models import Task, TaskStatus

MAX_WAIT_S = 60
# how often the wait checks its deadline (and the row, when no event came)
_TICK_S = 0.5
MAX_RETRY_AFTER_S = 30


def queue_position(session: Session, task: Task) -> int:
    """How many tasks of the same queue are ahead of this queued one (0: it is next)."""
    ahead = session.scalar(
        select(func.count())
        .select_from(Task)
        .where(
            Task.status == TaskStatus.queued,
            Task.queue == task.queue,
            Task.created_at < task.created_at,
        )
    )
    return int(ahead or 0)


def retry_after_s(queue_position: int) -> int:
    """Seconds a client should wait before polling a queued task again: soon at the head of
    the queue, less often further back."""
    return max(1, min(MAX_RETRY_AFTER_S, 1 + queue_position))


async def wait_for_end(
    task_id: str,
    settings: SettingsDep,
    caller: CallerDep,
    feed: EventFeedDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_S,
            description=f"Long-poll: answer when the task ends or after this many seconds "
            f"(at most {MAX_WAIT_S}), whichever comes first. 0 answers at once.",
        ),
    ] = 0,
) -> None:
    if wait <= 0:
        return
    deadline = time.monotonic() + wait
    timing = WatchTiming(idle_s=_TICK_S, row_check_s=min(settings.events_row_check_s, 2.0))
    events = watch_task(feed, task_id, lambda: read_state(settings, caller.owner, task_id), timing=timing)
    try:
        async for stored in events:
            if stored is not None and stored.event.is_terminal:
                return
            if time.monotonic() >= deadline:
                return
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # an async generator


WaitForEnd = Annotated[None, Depends(wait_for_end)]
