"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from shared.db.models.batches import (
    ACTIVE_BATCH_STATUSES,
    Batch,
    BatchItem,
    BatchSourceKind,
    BatchStatus,
    ItemState,
    ItemStatus,
)
from shared.db.models.tasks import (
    TERMINAL_STATUSES,
    Page,
    PageStatus,
    SourceKind,
    Task,
    TaskStatus,
)

__all__ = [
    "ACTIVE_BATCH_STATUSES",
    "TERMINAL_STATUSES",
    "Batch",
    "BatchItem",
    "BatchSourceKind",
    "BatchStatus",
    "ItemState",
    "ItemStatus",
    "Page",
    "PageStatus",
    "SourceKind",
    "Task",
    "TaskStatus",
]
