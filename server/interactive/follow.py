"""A request that waits on its task: the task's events until it ends, the request's deadline,
and its client. A client that goes away cancels the task (as `DELETE /v1/tasks/{id}` would):
nobody is left to read the result, and the queue has other work."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from celery import Celery
from fastapi import Request

from server.events.state import read_state
from server.events.watch import timing_of, watch_task
from server.tasks import service
from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.errors import Conflict
from shared.events import EventFeed, EventPublisher, TaskEvent
from shared.events.model import status_of
from shared.logs import get_logger
from shared.storage import Storage
from shared.webhooks.task_notifications import record_task_notification

log = get_logger(__name__)
DISCONNECT_CHECK_S = 1.0


class ClientGone(Exception):
    """The client closed the connection before the task ended."""


class TimedOut(Exception):
    """The task did not end within the request's time limit."""


async def follow_task(
    request: Request, settings: Settings, feed: EventFeed, owner: str, task_id: str, deadline: float
) -> AsyncIterator[TaskEvent | None]:
    """The task's events, oldest first, ending after its terminal `status`; None on idle ticks.
    Raises ClientGone or TimedOut."""
    next_look = 0.0
    async for stored in watch_task(
        feed, task_id, lambda: read_state(settings, owner, task_id), timing=timing_of(settings)
    ):
        now = time.monotonic()
        if now > deadline:
            raise TimedOut
        # while events flow there are no idle ticks: look at the client once a second anyway
        if stored is None or now >= next_look:
            next_look = now + DISCONNECT_CHECK_S
            if await request.is_disconnected():
                raise ClientGone
        yield None if stored is None else stored.event


def _cancel(
    settings: Settings, storage: Storage, celery: Celery, publisher: EventPublisher, task_id: str
) -> None:
    announce = None
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        task = session.get(Task, task_id)
        if task is None or TaskStatus(task.status).terminal:
            return
        try:
            outcome = service.cancel_or_delete(session, storage, task)
        except Conflict:  # cancellation is already under way
            return
        if outcome == "canceled":  # a queued task ends here, as with DELETE
            record_task_notification(session, settings, task).send_after_commit(session, celery)
            announce = status_of(task)
    if announce is not None:
        publisher.publish(announce)
    log.info("interactive.client_gone", task_id=task_id, outcome=outcome)


async def cancel_abandoned(
    settings: Settings, storage: Storage, celery: Celery, publisher: EventPublisher, task_id: str
) -> None:
    """Cancel the task of a client that went away. Shielded: it runs while the request's own
    task is being cancelled."""
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(_cancel, settings, storage, celery, publisher, task_id)
        except Exception:
            log.exception("interactive.cancel_failed", task_id=task_id)


@dataclass
class Waiting:
    """One request waiting on its task: what it follows, until when, and how it gives up."""

    request: Request
    settings: Settings
    storage: Storage
    celery: Celery
    feed: EventFeed
    publisher: EventPublisher
    owner: str
    task_id: str
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.settings.interactive_timeout_s

    def events(self) -> AsyncIterator[TaskEvent | None]:
        return follow_task(self.request, self.settings, self.feed, self.owner, self.task_id, self.deadline)

    async def abandon(self) -> None:
        await cancel_abandoned(self.settings, self.storage, self.celery, self.publisher, self.task_id)
