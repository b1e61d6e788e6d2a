"""Where live task events go and how they are read back: two small interfaces with a Redis
implementation (production) and a database one (the embedded default, no server needed).

Publishing never fails the caller: an event that cannot be stored is logged and dropped. The
task row stays the truth, and readers re-read it, so a lost event delays a watcher, never
misleads it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from shared.events.model import StoredEvent, TaskEvent

# A watcher marks its task as watched when it subscribes and again every WATCH_REFRESH_S while
# it reads; a mark counts for WATCH_TTL_S. Workers stream a page's text only for watched
# tasks: storing ~125 deltas a page that nobody reads cost the GPU worker most of its CPU.
WATCH_REFRESH_S = 10.0
WATCH_TTL_S = 30.0


class EventPublisher(Protocol):
    def publish(self, event: TaskEvent) -> None:
        """Store the event for its task's watchers; never raises."""
        ...

    def watched(self, task_id: str) -> bool:
        """Whether someone follows the task's events now (a stale answer is fine; never raises)."""
        ...

    def close(self) -> None: ...


class Subscription(Protocol):
    """One watcher's view of one task's events."""

    async def latest(self) -> str:
        """The cursor of the newest stored event (a cursor before every event when none)."""
        ...

    async def read(self, after: str, wait_s: float) -> list[StoredEvent]:
        """Events after the cursor, oldest first; waits up to `wait_s` while there are none."""
        ...


class EventFeed(Protocol):
    def subscribe(self, task_id: str) -> AbstractAsyncContextManager[Subscription]: ...

    def valid_cursor(self, cursor: str) -> bool:
        """Whether `cursor` (a client's Last-Event-ID) is one of this store's cursors."""
        ...


class NullPublisher:
    """Events go nowhere (a worker built without a store, unit tests)."""

    def publish(self, event: TaskEvent) -> None:
        return None

    def watched(self, task_id: str) -> bool:
        return False

    def close(self) -> None:
        return None
