"""Batch expansion tasks (maintenance queue): `ocr.batch.expand` re-arms itself until the batch
is finished; `ocr.batch.watchdog` (beat) re-arms chains that died with their worker."""

from __future__ import annotations

import threading

from shared.batches.sources import archive_limits
from shared.queue import TASK_BATCH_EXPAND, TASK_BATCH_WATCHDOG
from shared.storage import make_storage
from worker.app import app, settings
from worker.batches.archive_cache import ArchiveCache
from worker.batches.context import BatchContext
from worker.batches.expander import expand as run_expand
from worker.batches.hooks import batch_hooks
from worker.batches.watchdog import rearm_stalled

_context: BatchContext | None = None
_lock = threading.Lock()


def batch_context() -> BatchContext:
    global _context
    with _lock:
        if _context is None:
            _context = BatchContext(
                settings=settings,
                storage=make_storage(settings),
                app=app,
                cache=ArchiveCache(settings.data_dir.resolve() / "archive-cache", archive_limits(settings)),
                hooks=batch_hooks(settings, app),
            )
        return _context


@app.task(name=TASK_BATCH_EXPAND, ignore_result=True)
def expand(batch_id: str, token: str) -> None:
    run_expand(batch_context(), batch_id, token)


@app.task(name=TASK_BATCH_WATCHDOG, ignore_result=True)
def watchdog() -> dict[str, int]:
    return rearm_stalled(batch_context())
