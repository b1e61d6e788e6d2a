"""Periodic maintenance (Celery beat): the sweep that repairs what crashes left behind."""

from __future__ import annotations

from shared.queue import TASK_SWEEP
from worker.app import app, settings
from worker.maintenance.sweep import sweep as run_sweep


@app.task(name=TASK_SWEEP, ignore_result=True)
def sweep() -> dict[str, int]:
    return run_sweep(settings, app)
