"""Exactly one beat scheduler runs per data folder, and none outlives its worker.

`ocrp worker --beat` runs Celery beat as a child process. When the worker was killed with
SIGKILL, that child used to keep running, and the restarted worker started a second one: two
schedulers queueing every sweep twice. Two guards, in the scheduler class every beat uses
(`SCHEDULER`), before it opens its schedule file:

- the embedded beat asks the kernel for SIGTERM when its parent dies (Linux `prctl`
  PR_SET_PDEATHSIG), so it ends with the worker however the worker ends;
- every beat (embedded or `ocrp beat`) holds an exclusive `flock` on `<schedule>.lock` (in
  the data folder) while it runs; a second one waits for it instead of scheduling next to it. The kernel drops
  the lock when its holder dies, so a killed beat never blocks the next.

Across hosts one beat is a deployment rule (the chart's single beat pod, or `--beat` on one
worker only): see docs/operations.md.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
from pathlib import Path
from typing import IO, Any

from billiard.process import current_process
from celery.beat import PersistentScheduler

from shared.logs import get_logger

log = get_logger(__name__)
PR_SET_PDEATHSIG = 1
_held: IO[bytes] | None = None  # open for the life of the beat process: closing drops the lock


def bind_to_parent(parent_pid: int) -> None:
    """SIGTERM this process when its parent dies; exit now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("beat.pdeathsig_failed", errno=ctypes.get_errno())
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        log.warning("beat.orphaned", parent=parent_pid)
        os._exit(0)


def hold_beat_lock(schedule: Path) -> IO[bytes]:
    """Block until this process is the only beat of `schedule`; returns the open lock."""
    path = schedule.with_name(schedule.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("beat.waiting", lock=str(path), reason="another beat scheduler runs")
        fcntl.flock(handle, fcntl.LOCK_EX)
    log.info("beat.lock.held", lock=str(path), pid=os.getpid())
    return handle


class GuardedScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, opened only once this process is the one beat: two
    schedulers sharing the schedule file would also corrupt it (seen: a truncated pickle)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        global _held
        process = current_process()
        parent_pid = getattr(process, "_parent_pid", None)
        if process.name == "Beat" and parent_pid:  # embedded in a worker
            bind_to_parent(int(parent_pid))
        if _held is None:
            _held = hold_beat_lock(Path(kwargs.get("schedule_filename") or "celerybeat-schedule"))
        super().__init__(*args, **kwargs)


SCHEDULER = f"{__name__}:GuardedScheduler"
