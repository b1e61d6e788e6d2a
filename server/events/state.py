"""Task rows read for event streams, each in a short session of its own: a stream may last
minutes and must not hold a pooled database connection all that time."""

from __future__ import annotations

import anyio.to_thread

from shared.config import Settings
from shared.db.models import Task
from shared.db.session import session_scope
from shared.errors import NotFound
from shared.events import TaskEvent
from shared.events.model import status_of
from shared.ids import is_valid_id


def _read_state(settings: Settings, owner: str, task_id: str) -> TaskEvent | None:
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        task = session.get(Task, task_id) if is_valid_id(task_id, "tsk") else None
        if task is None or task.owner != owner:
            return None
        return status_of(task)


async def read_state(settings: Settings, owner: str, task_id: str) -> TaskEvent | None:
    """The task row as a `status` event, or None when the owner has no such task."""
    return await anyio.to_thread.run_sync(_read_state, settings, owner, task_id)


async def require_state(settings: Settings, owner: str, task_id: str) -> TaskEvent:
    state = await read_state(settings, owner, task_id)
    if state is None:  # another owner's task is as absent as a missing one
        raise NotFound(f"no task {task_id!r}", "task_not_found")
    return state
