"""The database reads behind the dashboard. Each is one indexed query; counting is done by the
database, never by loading rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from server.ops.schemas import (
    FailedTask,
    FailureCode,
    InFlightTask,
    QueueDepthPoint,
    QueueHistory,
    TaskCounts,
    Throughput,
    ThroughputPoint,
)
from shared import queue_samples
from shared.db.models import Page, PageStatus, Task, TaskStatus

IN_FLIGHT_LIMIT = 50
FAILURES_LIMIT = 20
RATE_WINDOW_S = 300


def task_counts(session: Session) -> TaskCounts:
    rows = session.execute(select(Task.status, func.count()).group_by(Task.status))
    known = set(TaskCounts.model_fields)
    return TaskCounts(**{str(status): int(n) for status, n in rows if status in known})


def oldest_queued_age(session: Session, now: datetime) -> dict[str, float]:
    rows = session.execute(
        select(Task.queue, func.min(Task.created_at))
        .where(Task.status == TaskStatus.queued)
        .group_by(Task.queue)
    )
    return {queue: max(0.0, (now - _aware(oldest)).total_seconds()) for queue, oldest in rows if oldest}


def _aware(value: datetime) -> datetime:
    # aggregates bypass the column type, so SQLite hands back naive UTC (or even text)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _epoch_minute(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        seconds = cast(func.extract("epoch", column), BigInteger)
    else:  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        seconds = cast(func.strftime("%s", column), BigInteger)
    return seconds // 60


def throughput(session: Session, now: datetime, window_s: int) -> Throughput:
    since = now - timedelta(seconds=window_s)
    minute = _epoch_minute(session, Page.finished_at).label("minute")
    rows = session.execute(
        select(minute, Page.status, func.count())
        .where(Page.finished_at >= since, Page.status != PageStatus.pending)
        .group_by(minute, Page.status)
    )
    buckets: dict[int, dict[str, int]] = {}
    for bucket, status, count in rows:
        buckets.setdefault(int(bucket), {})[str(status)] = int(count)
    first, last = int(since.timestamp()) // 60, int(now.timestamp()) // 60
    points = [
        ThroughputPoint(
            minute=datetime.fromtimestamp(m * 60, UTC),
            pages_succeeded=buckets.get(m, {}).get(PageStatus.succeeded, 0),
            pages_failed=buckets.get(m, {}).get(PageStatus.failed, 0),
        )
        for m in range(first, last + 1)
    ]
    recent = session.scalar(
        select(func.count()).where(
            Page.finished_at >= now - timedelta(seconds=RATE_WINDOW_S), Page.status != PageStatus.pending
        )
    )
    finished = dict(
        session.execute(
            select(Task.status, func.count()).where(Task.finished_at >= since).group_by(Task.status)
        ).all()
    )
    return Throughput(
        window_s=window_s,
        pages_succeeded=sum(p.pages_succeeded for p in points),
        pages_failed=sum(p.pages_failed for p in points),
        pages_per_minute=round(int(recent or 0) * 60 / RATE_WINDOW_S, 2),
        tasks_succeeded=int(finished.get(TaskStatus.succeeded, 0)),
        tasks_failed=int(finished.get(TaskStatus.failed, 0)),
        tasks_canceled=int(finished.get(TaskStatus.canceled, 0)),
        per_minute=points,
    )


def in_flight(session: Session, now: datetime) -> list[InFlightTask]:
    tasks = session.scalars(
        select(Task)
        .where(Task.status == TaskStatus.running)
        .order_by(Task.started_at, Task.id)
        .limit(IN_FLIGHT_LIMIT)
    )
    return [
        InFlightTask(
            id=t.id,
            owner=t.owner,
            queue=t.queue,
            worker=t.worker,
            filename=t.filename,
            pages_done=t.pages_done,
            pages_total=t.pages_total,
            attempts=t.attempts,
            started_at=t.started_at,
            heartbeat_age_s=round((now - t.heartbeat_at).total_seconds(), 1) if t.heartbeat_at else None,
        )
        for t in tasks
    ]


def recent_failures(session: Session) -> list[FailedTask]:
    tasks = session.scalars(
        select(Task)
        .where(Task.status == TaskStatus.failed)
        .order_by(Task.finished_at.desc(), Task.id.desc())
        .limit(FAILURES_LIMIT)
    )
    return [
        FailedTask(
            id=t.id,
            owner=t.owner,
            queue=t.queue,
            filename=t.filename,
            code=t.error_code,
            message=t.error_message,
            finished_at=t.finished_at,
        )
        for t in tasks
    ]


def failure_codes(session: Session, since: datetime) -> list[FailureCode]:
    count = func.count().label("n")
    rows = session.execute(
        select(Task.error_code, count)
        .where(Task.status == TaskStatus.failed, Task.finished_at >= since)
        .group_by(Task.error_code)
        .order_by(count.desc(), Task.error_code)
    )
    return [FailureCode(code=code or "unknown", tasks=int(n)) for code, n in rows]


def queue_history(session: Session, since: datetime) -> list[QueueHistory]:
    series: dict[str, list[QueueDepthPoint]] = {}
    for sample in queue_samples.history(session, since):
        series.setdefault(sample.queue, []).append(
            QueueDepthPoint(
                at=sample.sampled_at,
                depth=sample.depth,
                queued_tasks=sample.queued_tasks,
                running_tasks=sample.running_tasks,
            )
        )
    return [QueueHistory(queue=queue, points=points) for queue, points in series.items()]
