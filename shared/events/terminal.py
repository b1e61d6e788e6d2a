"""The terminal hook (see `worker/hooks.py`) that announces a task's end to its live watchers,
with the error and the final counts read from the committed row. The worker and the sweep both
run it, so a watcher hears of every end, whoever stored it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.events.factory import make_event_publisher
from shared.events.model import status_of
from shared.events.store import EventPublisher
from shared.logs import get_logger

log = get_logger(__name__)


_publishers: dict[tuple[str | None, str], EventPublisher] = {}
_publishers_lock = threading.Lock()


def process_publisher(settings: Settings) -> EventPublisher:
    """One publisher per process and store: the sweep builds its hooks on every run."""
    key = (settings.effective_redis_url, settings.database_url)
    with _publishers_lock:
        if key not in _publishers:
            _publishers[key] = make_event_publisher(settings)
        return _publishers[key]


def task_status_hook(settings: Settings) -> Callable[[str, TaskStatus], None]:
    publisher = process_publisher(settings)

    def announce_task_end(task_id: str, status: TaskStatus) -> None:
        with session_scope(settings.database_url, settings.database_pool_size) as session:
            task = session.get(Task, task_id)
            if task is None or task.status != status:
                return
            event = status_of(task)
        publisher.publish(event)

    return announce_task_end
