"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from shared.db.models.ops import QueueSample, WorkerHeartbeat
from shared.db.models.tasks import (
    TERMINAL_STATUSES,
    Page,
    PageStatus,
    SourceKind,
    Task,
    TaskStatus,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Page",
    "PageStatus",
    "QueueSample",
    "SourceKind",
    "Task",
    "TaskStatus",
    "WorkerHeartbeat",
]
