"""Exactly one beat scheduler: the beat child of a worker killed with SIGKILL dies with it, and
a second beat on the same data folder waits until the first is gone."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from tests.fixtures.services import wait_for
from tests.fixtures.stack import ProcessHandle, Stack

pytestmark = pytest.mark.slow
HELD = re.compile(r"beat\.lock\.held.*?pid=(\d+)")


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def beat_pid(worker: ProcessHandle) -> int:
    worker.wait_for_log("beat.lock.held", timeout=60)
    found = HELD.search(worker.log())
    assert found, worker.log()[-2000:]
    return int(found.group(1))


def test_a_killed_workers_beat_dies_with_it_and_a_second_beat_waits(embedded_stack: Stack) -> None:
    first = embedded_stack.start_worker("--beat", "-Q", "maintenance")
    first_beat = beat_pid(first)
    assert alive(first_beat)
    assert first_beat != first.proc.pid

    second = embedded_stack.start_worker("--beat", "-Q", "maintenance")
    second.wait_for_log("beat.waiting", timeout=60)
    assert "beat.lock.held" not in second.log()

    os.kill(first.proc.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
    first.proc.wait(timeout=10)
    wait_for(lambda: not alive(first_beat), 20, "the killed worker's beat gone")

    second_beat = beat_pid(second)  # took over only now
    assert alive(second_beat)
    assert second_beat != first_beat
