"""Task rows read for event streams: one statement each (`server.reads`), on a connection held
only for it, since a stream may last minutes and must not hold a pooled connection that long."""

from __future__ import annotations

from server.reads import make_reads
from server.tasks.reads import find_task
from shared.config import Settings
from shared.errors import NotFound
from shared.events import TaskEvent
from shared.events.model import status_of


async def read_state(settings: Settings, owner: str, task_id: str) -> TaskEvent | None:
    """The task row as a `status` event, or None when the owner has no such task."""
    try:
        task = await find_task(make_reads(settings), owner, task_id)
    except NotFound:
        return None
    return status_of(task)


async def require_state(settings: Settings, owner: str, task_id: str) -> TaskEvent:
    state = await read_state(settings, owner, task_id)
    if state is None:  # another owner's task is as absent as a missing one
        raise NotFound(f"no task {task_id!r}", "task_not_found")
    return state
