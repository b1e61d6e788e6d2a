"""Tasks and their pages: the durable truth about every piece of work.

The broker only carries wake-up calls holding a task id; whatever a worker or the API needs to
know is read from these rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.db.base import Base, UTCDateTime
from shared.ids import new_id


class TaskStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({TaskStatus.succeeded, TaskStatus.failed, TaskStatus.canceled})


class PageStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class SourceKind(StrEnum):
    upload = "upload"
    url = "url"
    s3 = "s3"


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tsk"))
    owner: Mapped[str] = mapped_column(String(100), default="default", index=True)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.queued)
    queue: Mapped[str] = mapped_column(String(40), default="ocr.interactive")

    source_kind: Mapped[str] = mapped_column(String(16))
    source_uri: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    input_key: Mapped[str | None] = mapped_column(String(512))

    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the client's own flat object, echoed back unchanged (shared.task_metadata); the column is
    # `metadata`, a name SQLAlchemy keeps for itself on the class
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    webhook_url: Mapped[str | None] = mapped_column(Text)

    page_count: Mapped[int | None] = mapped_column(Integer)
    pages_total: Mapped[int | None] = mapped_column(Integer)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    pages_truncated: Mapped[int] = mapped_column(Integer, default=0)

    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    engine: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(255))
    result_keys: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # set on tasks a batch created; reused_from names the task whose results a deduplicated
    # task copied (see docs/batches.md)
    batch_id: Mapped[str | None] = mapped_column(String(40))
    reused_from: Mapped[str | None] = mapped_column(String(40))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the task failed for good after its attempts ran out (listed for operators)
    dead_lettered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # retention: when the stored input and results were deleted
    input_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pages: Mapped[list[Page]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Page.number"
    )

    __table_args__ = (
        Index("ix_tasks_status_created", "status", "created_at"),
        Index("ix_tasks_owner_id", "owner", "id"),
        Index("ix_tasks_owner_status", "owner", "status"),
        Index("ix_tasks_dead_lettered_at", "dead_lettered_at"),
        Index("ix_tasks_finished_at", "finished_at"),
        # the ops dashboard's "recent failures" and finished-in-the-last-hour counts
        Index("ix_tasks_status_finished", "status", "finished_at"),
        Index("ix_tasks_batch_id_status", "batch_id", "status"),
    )

    @property
    def status_enum(self) -> TaskStatus:
        return TaskStatus(self.status)


class Page(Base):
    __tablename__ = "task_pages"

    task_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=PageStatus.pending)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    dpi: Mapped[int | None] = mapped_column(Integer)
    blocks: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    retried: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    render_ms: Mapped[int | None] = mapped_column(Integer)
    engine_ms: Mapped[int | None] = mapped_column(Integer)
    # text_layer or ocr, once the page succeeded (see docs/layout-json.md, "Text layer or OCR")
    source: Mapped[str | None] = mapped_column(String(16))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task: Mapped[Task] = relationship(back_populates="pages")

    # throughput over the last hour is read from page finish times
    __table_args__ = (Index("ix_task_pages_finished_at", "finished_at"),)
