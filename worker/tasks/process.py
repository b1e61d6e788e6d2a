"""The `ocr.process` task: a wake-up call carrying a task id. Everything else is in the row."""

from __future__ import annotations

from shared.queue import TASK_PROCESS
from worker.app import app, get_context
from worker.pipeline.job import run_task


@app.task(name=TASK_PROCESS, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process(task_id: str) -> None:
    run_task(get_context(), task_id)
