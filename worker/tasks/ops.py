"""Periodic ops work (Celery beat): the queue-depth sample behind the dashboard's history."""

from __future__ import annotations

from shared.queue import TASK_OPS_SAMPLE
from worker.app import app, settings
from worker.ops.sampler import sample as run_sample


@app.task(name=TASK_OPS_SAMPLE, ignore_result=True)
def sample() -> dict[str, int]:
    return run_sample(settings, app)
