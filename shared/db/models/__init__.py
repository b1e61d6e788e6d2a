"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from shared.db.models.api_keys import ApiKey
from shared.db.models.idempotency import IdempotencyRecord
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
    "ApiKey",
    "IdempotencyRecord",
    "Page",
    "PageStatus",
    "SourceKind",
    "Task",
    "TaskStatus",
]
