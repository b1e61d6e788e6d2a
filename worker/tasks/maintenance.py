"""Periodic maintenance (Celery beat): the sweep that repairs what crashes left behind, and the
retention job that deletes expired inputs and results."""

from __future__ import annotations

from shared.queue import TASK_RETENTION, TASK_SWEEP
from shared.storage import make_storage
from worker.app import app, settings
from worker.maintenance.retention import expire
from worker.maintenance.sweep import sweep as run_sweep


@app.task(name=TASK_SWEEP, ignore_result=True)
def sweep() -> dict[str, int]:
    return run_sweep(settings, app)


@app.task(name=TASK_RETENTION, ignore_result=True)
def retention() -> dict[str, int]:
    return expire(settings, make_storage(settings))
