"""Batches (backfills of whole archives) and their items, one item per source object.

A batch is expanded in the background: its source is listed page by page into items (the
unique `(batch_id, source_key)` makes listing twice harmless), and items become tasks only
while the in-flight bounds allow. The batch row holds the listing cursor and the counters of
settled items, so a restarted expander continues where the last one stopped.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.db.base import Base, UTCDateTime
from shared.ids import new_id


class BatchStatus(StrEnum):
    expanding = "expanding"  # the source is still being listed
    running = "running"  # everything is listed; tasks are still in flight
    canceling = "canceling"  # canceled; waiting for running tasks to stop
    completed = "completed"
    failed = "failed"  # the source itself failed (unreadable bucket, broken archive)
    canceled = "canceled"


ACTIVE_BATCH_STATUSES = frozenset({BatchStatus.expanding, BatchStatus.running, BatchStatus.canceling})


class BatchSourceKind(StrEnum):
    s3 = "s3"
    urls = "urls"
    archive = "archive"


class ItemState(StrEnum):
    pending = "pending"  # listed, no task yet (waiting for room under the bounds)
    submitted = "submitted"  # its task exists and is not settled yet
    retry = "retry"  # its failed task is to be queued again
    done = "done"  # settled: `status` holds the outcome


class ItemStatus(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"
    skipped = "skipped"  # never became a task (unsafe or non-document archive member)


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bat"))
    owner: Mapped[str] = mapped_column(String(100), default="default")
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.expanding)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))

    source_kind: Mapped[str] = mapped_column(String(16))
    source_uri: Mapped[str | None] = mapped_column(Text)
    source_glob: Mapped[str | None] = mapped_column(String(500))
    source_object: Mapped[str | None] = mapped_column(String(512))
    source_format: Mapped[str | None] = mapped_column(String(16))
    source_total: Mapped[int | None] = mapped_column(Integer)
    source_exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    cursor: Mapped[str | None] = mapped_column(Text)

    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_prefix: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    dedupe: Mapped[bool] = mapped_column(Boolean, default=False)

    items_listed: Mapped[int] = mapped_column(Integer, default=0)
    tasks_created: Mapped[int] = mapped_column(Integer, default=0)
    settled_succeeded: Mapped[int] = mapped_column(Integer, default=0)
    settled_failed: Mapped[int] = mapped_column(Integer, default=0)
    settled_canceled: Mapped[int] = mapped_column(Integer, default=0)
    settled_skipped: Mapped[int] = mapped_column(Integer, default=0)
    settled_pages: Mapped[int] = mapped_column(Integer, default=0)
    settled_reused: Mapped[int] = mapped_column(Integer, default=0)

    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    expand_token: Mapped[str | None] = mapped_column(String(40))
    expand_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manifest_key: Mapped[str | None] = mapped_column(String(512))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_batches_owner_id", "owner", "id"),
        Index("ix_batches_status", "status"),
        UniqueConstraint("owner", "idempotency_key", name="uq_batches_owner_idempotency_key"),
    )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_BATCH_STATUSES


class BatchItem(Base):
    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    batch_id: Mapped[str] = mapped_column(String(40), ForeignKey("batches.id", ondelete="CASCADE"))
    # sha256 of `source_ref`: S3 keys and URLs can be longer than an index entry may be
    source_key: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))

    state: Mapped[str] = mapped_column(String(16), default=ItemState.pending)
    status: Mapped[str | None] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("tasks.id", ondelete="SET NULL"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pages: Mapped[int | None] = mapped_column(Integer)  # the task's pages, counted when settled

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("batch_id", "source_key", name="uq_batch_items_batch_id_source_key"),
        Index("ix_batch_items_batch_state_id", "batch_id", "state", "id"),
        Index("ix_batch_items_batch_id_id", "batch_id", "id"),
        Index("ix_batch_items_task_id", "task_id"),
    )
