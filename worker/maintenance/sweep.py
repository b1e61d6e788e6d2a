"""The sweep: the database row is the truth, and this repairs the broker's view of it.

- A running task whose heartbeat stopped (its worker was killed) goes back to the queue, or to
  the dead-letter state (`failed`, `max_attempts_exceeded`) once it used up its attempts.
- A queued task whose cancel was requested is canceled: nothing would ever claim it (a requeue
  left such tasks behind before the lifecycle ended them itself).
- A queued task whose message was lost (the embedded broker loses the messages a killed worker
  held; a flushed Redis loses everything) is sent again, but only while its queue is empty, so a
  deep backfill queue is never flooded with duplicates.
- Old files of the embedded broker's processed folder are pruned.
- Without Redis, live task events older than `events_retention_s` are deleted.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.events.db_store import prune_events
from shared.leftovers import remove_leftovers
from shared.logs import get_logger
from shared.queue import enqueue_process, queue_depth
from shared.tasks import lifecycle
from worker.hooks import terminal_hooks

log = get_logger(__name__)
PROCESSED_MAX_AGE_S = 24 * 3600
BATCH = 500


def sweep(settings: Settings, app: Celery) -> dict[str, int]:
    counts = {
        "requeued_stale": 0,
        "dead_lettered": 0,
        "canceled": 0,
        "resent": 0,
        "pruned": 0,
        "events_pruned": 0,
    }
    hooks = terminal_hooks(settings, app)
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.task_stale_after_s)
    finished: list[tuple[str, TaskStatus]] = []
    requeue: list[tuple[str, str]] = []
    with session_scope(settings.database_url) as session:
        stale = session.scalars(
            select(Task)
            .where(Task.status == TaskStatus.running, Task.heartbeat_at < stale_before)
            .limit(BATCH)
        ).all()
        for task in stale:
            outcome = _repair_stale(session, task, settings.task_max_attempts)
            if outcome is None:
                continue  # it finished meanwhile
            counts[outcome] += 1
            if outcome == "requeued_stale":
                requeue.append((task.id, task.queue))
            else:
                finished.append(
                    (task.id, TaskStatus.canceled if outcome == "canceled" else TaskStatus.failed)
                )
        for task_id in session.scalars(
            select(Task.id)
            .where(Task.status == TaskStatus.queued, Task.cancel_requested.is_(True))
            .limit(BATCH)
        ).all():
            with contextlib.suppress(lifecycle.TransitionRefused):
                lifecycle.cancel_queued(session, task_id)
                finished.append((task_id, TaskStatus.canceled))
                counts["canceled"] += 1
    for task_id, queue in requeue:
        enqueue_process(app, task_id, queue)
    for task_id, status in finished:
        log.warning("task.swept", task_id=task_id, status=status)
        for hook in hooks:
            hook(task_id, status)

    counts["resent"] = _resend_lost(settings, app)
    if settings.embedded_broker:
        counts["pruned"] = _prune_processed(settings)
    if not settings.effective_redis_url:
        with session_scope(settings.database_url) as session:
            counts["events_pruned"] = prune_events(
                session, utcnow() - timedelta(seconds=settings.events_retention_s)
            )
    local_storage = settings.storage_dir if settings.storage_backend == "local" else None
    counts["leftovers"] = remove_leftovers(local_storage, settings.leftover_max_age_s)
    if any(counts.values()):
        log.info("sweep.done", **counts)
    return counts


def _repair_stale(session: Session, task: Task, max_attempts: int) -> str | None:
    """The count the stale task's repair adds to, or None when it is no longer running."""
    try:
        if task.cancel_requested:
            lifecycle.stop_canceled(session, task.id)
            return "canceled"
        if task.attempts >= max_attempts:
            lifecycle.dead_letter(session, task.id, attempts=task.attempts)
            return "dead_lettered"
        lifecycle.requeue(
            session, task.id, code=task.error_code, message=task.error_message, not_before=utcnow()
        )
        return "requeued_stale"
    except lifecycle.TransitionRefused:
        return None


def _resend_lost(settings: Settings, app: Celery) -> int:
    resent = 0
    cutoff = utcnow() - timedelta(seconds=settings.requeue_queued_after_s)
    with session_scope(settings.database_url) as session:
        queues = session.scalars(
            select(Task.queue).where(Task.status == TaskStatus.queued, Task.enqueued_at < cutoff).distinct()
        ).all()
        for queue in queues:
            if queue_depth(app, queue) != 0:
                continue  # messages are still waiting there: nothing was lost yet
            ids = session.scalars(
                select(Task.id)
                .where(Task.status == TaskStatus.queued, Task.queue == queue, Task.enqueued_at < cutoff)
                .order_by(Task.id)
                .limit(BATCH)
            ).all()
            session.execute(update(Task).where(Task.id.in_(ids)).values(enqueued_at=utcnow()))
            session.commit()
            for task_id in ids:
                enqueue_process(app, task_id, queue)
            resent += len(ids)
    return resent


def _prune_processed(settings: Settings) -> int:
    folder = settings.broker_dir / "processed"
    cutoff = time.time() - PROCESSED_MAX_AGE_S
    pruned = 0
    for path in folder.glob("*.msg"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                pruned += 1
        except FileNotFoundError:
            continue
    return pruned
