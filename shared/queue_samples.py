"""Queue depth now and over time.

The broker knows how many messages wait; the database knows how many tasks are queued or
running. The `ops.sample` beat task records both for every queue every `ops_sample_interval_s`
(`record`), so that the dashboard can draw the last hour; old samples are pruned (`prune`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.db.models import QueueSample, Task, TaskStatus

DepthReader = Callable[[str], int | None]


@dataclass(frozen=True)
class QueueLoad:
    queue: str
    depth: int | None  # broker messages waiting; None when the broker could not be read
    queued_tasks: int
    running_tasks: int


def task_counts_by_queue(session: Session) -> dict[tuple[str, str], int]:
    """{(queue, status): tasks} for the tasks not finished yet."""
    rows = session.execute(
        select(Task.queue, Task.status, func.count())
        .where(Task.status.in_([TaskStatus.queued, TaskStatus.running]))
        .group_by(Task.queue, Task.status)
    )
    return {(queue, status): int(count) for queue, status, count in rows}


def current_load(session: Session, queues: Iterable[str], depth_of: DepthReader) -> list[QueueLoad]:
    """Every known queue plus any other queue that holds unfinished tasks."""
    counts = task_counts_by_queue(session)
    names = list(dict.fromkeys([*queues, *sorted({queue for queue, _ in counts})]))
    return [
        QueueLoad(
            queue=name,
            depth=depth_of(name),
            queued_tasks=counts.get((name, TaskStatus.queued), 0),
            running_tasks=counts.get((name, TaskStatus.running), 0),
        )
        for name in names
    ]


def record(session: Session, now: datetime, loads: list[QueueLoad]) -> None:
    for load in loads:
        session.add(
            QueueSample(
                sampled_at=now,
                queue=load.queue,
                depth=load.depth,
                queued_tasks=load.queued_tasks,
                running_tasks=load.running_tasks,
            )
        )
    session.flush()


def prune(session: Session, now: datetime, keep_s: float) -> int:
    cutoff = now - timedelta(seconds=keep_s)
    result = session.execute(delete(QueueSample).where(QueueSample.sampled_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result


def history(session: Session, since: datetime) -> list[QueueSample]:
    return list(
        session.scalars(
            select(QueueSample)
            .where(QueueSample.sampled_at >= since)
            .order_by(QueueSample.sampled_at, QueueSample.queue)
        )
    )
