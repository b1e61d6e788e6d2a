"""The `ops.sample` beat task's work: record every queue's depth, prune old samples and forget
workers that have been silent for long."""

from __future__ import annotations

from celery import Celery

from shared import queue_samples, worker_liveness
from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import session_scope
from shared.queue import ALL_QUEUES, queue_depth


def sample(settings: Settings, app: Celery) -> dict[str, int]:
    now = utcnow()
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        loads = queue_samples.current_load(session, ALL_QUEUES, lambda queue: queue_depth(app, queue))
        queue_samples.record(session, now, loads)
        pruned_samples = queue_samples.prune(session, now, settings.ops_history_s)
        forgotten = worker_liveness.prune(session, now, settings.worker_forget_after_s)
    return {"queues": len(loads), "pruned_samples": pruned_samples, "forgotten_workers": forgotten}
