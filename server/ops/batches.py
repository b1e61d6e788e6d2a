"""Batches in progress, for the dashboard. Batches are built on their own branch; until they are
wired in, the provider is `no_batches` and the dashboard says that no batch runs. Wiring them in
means passing a provider that returns the batches in progress (`BatchProgress`, with `eta_s`
from `eta_seconds`) to `create_app`'s ops router through `app.state.batch_provider`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from server.ops.schemas import BatchProgress

BatchProvider = Callable[[Session, datetime], list[BatchProgress]]


def no_batches(session: Session, now: datetime) -> list[BatchProgress]:
    """The provider while the platform has no batches."""
    return []


def eta_seconds(total: int, done: int, per_minute: float | None) -> float | None:
    """Seconds until `total` is reached at `per_minute`; None when nothing moves yet."""
    remaining = max(0, total - done)
    if remaining == 0:
        return 0.0
    if not per_minute or per_minute <= 0:
        return None
    return round(remaining / per_minute * 60, 1)
