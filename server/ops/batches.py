"""Batches in progress, for the dashboard. The provider is swappable through
`app.state.batch_provider` (tests use `no_batches`); the default reads the active batches and
their live counts and ETA the same way `GET /v1/batches/{id}` does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from server.ops.schemas import RunningBatch

BatchProvider = Callable[[Session, datetime], list[RunningBatch]]


def no_batches(session: Session, now: datetime) -> list[RunningBatch]:
    """The provider while the platform has no batches."""
    return []


ACTIVE_SHOWN = 20


def batches_in_progress(session: Session, now: datetime) -> list[RunningBatch]:
    from sqlalchemy import select

    from server.batches.progress import estimate, live_counts
    from shared.db.models import ACTIVE_BATCH_STATUSES, Batch

    active = session.scalars(
        select(Batch)
        .where(Batch.status.in_([str(s) for s in ACTIVE_BATCH_STATUSES]))
        .order_by(Batch.created_at)
        .limit(ACTIVE_SHOWN)
    )
    rows = []
    for batch in active:
        counts = live_counts(session, batch)
        guess = estimate(
            done=counts.done,
            pages_done=counts.pages_done,
            listed=batch.items_listed,
            total=batch.source_total,
            started_at=batch.started_at,
            finished_at=batch.finished_at,
            now=now,
        )
        rows.append(
            RunningBatch(
                id=batch.id,
                name=batch.source_uri or batch.source_object or f"{batch.source_kind} batch",
                tasks_total=batch.source_total or batch.items_listed,
                tasks_done=counts.done,
                tasks_failed=counts.failed,
                tasks_per_minute=guess.documents_per_min,
                eta_s=guess.eta_s,
            )
        )
    return rows


def eta_seconds(total: int, done: int, per_minute: float | None) -> float | None:
    """Seconds until `total` is reached at `per_minute`; None when nothing moves yet."""
    remaining = max(0, total - done)
    if remaining == 0:
        return 0.0
    if not per_minute or per_minute <= 0:
        return None
    return round(remaining / per_minute * 60, 1)
