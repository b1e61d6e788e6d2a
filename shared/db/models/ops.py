"""What operators watch: worker heartbeats and the history of queue depths.

Heartbeats live in the database, not in Redis: the embedded default has no Redis, the API and
`GET /v1/models` already read the database, and a row that stops being refreshed is exactly the
"stale worker" an operator must see (a Redis key with a TTL would just vanish). One row per
worker process, rewritten every `worker_heartbeat_s`: a hundred workers are ten small writes a
second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime


class WorkerLiveness(Base):
    """The latest heartbeat of one worker process. Deleted on a clean shutdown; a killed
    worker's row stays, ages past `worker_stale_after_s` and is pruned later."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    node: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(255))
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    gpu_present: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{index, name, memory_used_bytes, memory_total_bytes, utilization_percent}]
    gpus: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    tasks_in_flight: Mapped[int] = mapped_column(Integer, default=0)
    metrics_port: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class QueueSample(Base):
    """One queue's depth at one moment, recorded by the `ops.sample` beat task."""

    __tablename__ = "queue_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queue: Mapped[str] = mapped_column(String(40))
    # messages waiting in the broker; None when the broker could not be read
    depth: Mapped[int | None] = mapped_column(Integer)
    queued_tasks: Mapped[int] = mapped_column(Integer, default=0)
    running_tasks: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_queue_samples_sampled_at", "sampled_at"),)
