"""The terminal hook that observes a finished task's end-to-end latency and outcome. It runs in
whichever process stored the terminal state (the worker that ran the task, or the sweep that
dead-lettered it), after the commit."""

from __future__ import annotations

from sqlalchemy import select

from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.metrics.pipeline import observe_task
from worker.pipeline.job import TerminalHook

log = get_logger(__name__)


def task_metrics_hook(settings: Settings) -> TerminalHook:
    def observe_finished_task(task_id: str, status: TaskStatus) -> None:
        # the sweep calls hooks without a guard: a missed observation must never stop it
        try:
            with session_scope(settings.database_url, settings.database_pool_size) as session:
                row = session.execute(
                    select(Task.queue, Task.error_code, Task.created_at, Task.finished_at).where(
                        Task.id == task_id
                    )
                ).first()
        except Exception as exc:
            log.warning("task.metrics.failed", task_id=task_id, reason=str(exc)[:200])
            return
        if row is None:  # deleted in the meantime
            return
        queue, code, created_at, finished_at = row
        observe_task(queue, str(status), code, created_at, finished_at)

    return observe_finished_task
