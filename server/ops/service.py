"""Assemble `OpsStats` from the database, the broker and the worker heartbeats."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy.orm import Session

from server.ops import queries
from server.ops.batches import BatchProvider
from server.ops.schemas import GpuStats, OpsStats, QueueStats, WorkerStats
from shared import queue_samples, worker_liveness
from shared.config import Settings
from shared.queue import ALL_QUEUES, queue_depth

WINDOW_S = 3600


def queue_stats(session: Session, celery: Celery, now: datetime) -> list[QueueStats]:
    loads = queue_samples.current_load(session, ALL_QUEUES, lambda queue: queue_depth(celery, queue))
    oldest = queries.oldest_queued_age(session, now)
    return [
        QueueStats(
            name=load.queue,
            depth=load.depth,
            queued_tasks=load.queued_tasks,
            running_tasks=load.running_tasks,
            oldest_queued_age_s=round(oldest[load.queue], 1) if load.queue in oldest else None,
        )
        for load in loads
    ]


def worker_stats(worker: worker_liveness.WorkerState, now: datetime, stale_after_s: float) -> WorkerStats:
    return WorkerStats(
        id=worker.id,
        node=worker.node,
        host=worker.host,
        pid=worker.pid,
        engine=worker.engine,
        model=worker.model,
        modes=list(worker.modes),
        gpu_present=worker.gpu_present,
        gpus=[GpuStats(**gpu.to_json()) for gpu in worker.gpus],
        queues=list(worker.queues),
        concurrency=worker.concurrency,
        tasks_in_flight=worker.tasks_in_flight,
        metrics_port=worker.metrics_port,
        started_at=worker.started_at,
        last_seen=worker.seen_at,
        heartbeat_age_s=round(worker.age_s(now), 1),
        state="alive" if worker.alive(now, stale_after_s) else "stale",
    )


def ops_stats(
    session: Session, celery: Celery, settings: Settings, batches: BatchProvider, now: datetime
) -> OpsStats:
    since = now - timedelta(seconds=WINDOW_S)
    return OpsStats(
        generated_at=now,
        queues=queue_stats(session, celery, now),
        tasks=queries.task_counts(session),
        throughput=queries.throughput(session, now, WINDOW_S),
        queue_history=queries.queue_history(session, since),
        in_flight=queries.in_flight(session, now),
        recent_failures=queries.recent_failures(session),
        failure_codes=queries.failure_codes(session, since),
        workers=[
            worker_stats(w, now, settings.worker_stale_after_s) for w in worker_liveness.list_workers(session)
        ],
        batches=batches(session, now),
        refresh_s=settings.ops_refresh_s,
    )
