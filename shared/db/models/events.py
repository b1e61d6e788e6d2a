"""Live task events of installations without Redis (the embedded default).

An append-only table: the worker inserts, the API polls by `(task_id, id)`. The autoincrement
id is the SSE event id, so a client that reconnects with `Last-Event-ID` resumes where it left.
Rows are small (a status, a page, or a page's text) and short-lived: the sweep deletes those
older than `OCR_EVENTS_RETENTION_S`, and deleting a task deletes its events (foreign key).
With Redis configured, events go to Redis streams instead and this table stays empty.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.db.base import Base, UTCDateTime


class TaskEventRow(Base):
    __tablename__ = "task_events"

    # SQLite only autoincrements an INTEGER PRIMARY KEY
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[str] = mapped_column(String(40), ForeignKey("tasks.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_task_events_task_id_id", "task_id", "id"),
        Index("ix_task_events_created_at", "created_at"),
    )
