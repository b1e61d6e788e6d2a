"""Who waits for which task's events, and how to wake them from another thread.

The event feeds (`db_store`, `redis_store`) watch the store for every watcher of the process at
once, from one background thread: a watcher registers here, sleeps on its event loop without
touching the store, and is woken when its task has something new. Waiters may live on different
event loops (one per uvicorn process; tests start many), so a wake-up is handed to the waiter's
own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Waiter:
    """A wake-up flag on one event loop. Waiting is a bare future and a timer (no task, as
    `asyncio.wait_for` would create): hundreds of idle watchers wait all the time."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._woken = False
        self._future: asyncio.Future[bool] | None = None

    def wake(self) -> None:  # any thread
        self.loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        self._woken = True
        if self._future is not None and not self._future.done():
            self._future.set_result(True)

    def clear(self) -> None:
        """Forget past wake-ups: call before reading the store, so that one arriving during the
        read is kept for the next wait."""
        self._woken = False

    async def wait(self, timeout_s: float) -> bool:
        """True when woken (since the last `clear`) within `timeout_s`."""
        if self._woken:
            return True
        future: asyncio.Future[bool] = self.loop.create_future()
        self._future = future
        timer = self.loop.call_later(timeout_s, _time_up, future)
        try:
            return await future
        finally:
            timer.cancel()
            self._future = None


def _time_up(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


class Wakeups:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self.changed = threading.Event()  # set on every registration: the watcher thread looks again

    @contextmanager
    def waiting(self, task_id: str) -> Iterator[Waiter]:
        waiter = Waiter()
        with self._lock:
            self._waiters.setdefault(task_id, set()).add(waiter)
        self.changed.set()
        try:
            yield waiter
        finally:
            with self._lock:
                waiters = self._waiters.get(task_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[task_id]

    def watched(self) -> list[str]:
        with self._lock:
            return list(self._waiters)

    def wake(self, task_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(task_id, ()))
        for waiter in waiters:
            waiter.wake()
