"""Wake-ups of idle watchers: from another thread, kept when they come early, forgotten on
`clear`, and a wait that nobody ends times out."""

from __future__ import annotations

import asyncio
import threading

from shared.events.wakeups import Wakeups


def test_a_watcher_is_woken_from_another_thread() -> None:
    async def scenario() -> bool:
        wakeups = Wakeups()
        with wakeups.waiting("tsk_a") as waiter:
            threading.Timer(0.05, wakeups.wake, args=("tsk_a",)).start()
            return await waiter.wait(10)

    assert asyncio.run(scenario()) is True


def test_a_wake_up_before_the_wait_is_kept_until_cleared() -> None:
    async def scenario() -> tuple[bool, bool]:
        wakeups = Wakeups()
        with wakeups.waiting("tsk_a") as waiter:
            wakeups.wake("tsk_a")
            await asyncio.sleep(0)  # the wake-up reaches the loop
            kept = await waiter.wait(0.01)
            waiter.clear()
            return kept, await waiter.wait(0.01)

    assert asyncio.run(scenario()) == (True, False)


def test_only_the_watchers_of_that_task_wake() -> None:
    async def scenario() -> list[bool]:
        wakeups = Wakeups()
        with wakeups.waiting("tsk_a") as a, wakeups.waiting("tsk_b") as b:
            assert sorted(wakeups.watched()) == ["tsk_a", "tsk_b"]
            wakeups.wake("tsk_b")
            return [await a.wait(0.05), await b.wait(0.05)]

    assert asyncio.run(scenario()) == [False, True]


def test_a_watcher_that_leaves_is_no_longer_watched() -> None:
    async def scenario() -> list[str]:
        wakeups = Wakeups()
        with wakeups.waiting("tsk_a"):
            pass
        wakeups.wake("tsk_a")  # nobody to wake: no error
        return wakeups.watched()

    assert asyncio.run(scenario()) == []
