"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from shared.db.models.api_keys import ApiKey
from shared.db.models.batches import (
    ACTIVE_BATCH_STATUSES,
    Batch,
    BatchItem,
    BatchSourceKind,
    BatchStatus,
    ItemState,
    ItemStatus,
)
from shared.db.models.events import TaskEventRow
from shared.db.models.idempotency import IdempotencyRecord
from shared.db.models.ops import QueueSample, WorkerLiveness
from shared.db.models.tasks import (
    TERMINAL_STATUSES,
    Page,
    PageStatus,
    SourceKind,
    Task,
    TaskStatus,
)
from shared.db.models.webhook_secrets import WebhookSecret
from shared.db.models.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "ACTIVE_BATCH_STATUSES",
    "TERMINAL_STATUSES",
    "ApiKey",
    "AttemptOutcome",
    "Batch",
    "BatchItem",
    "BatchSourceKind",
    "BatchStatus",
    "DeliveryStatus",
    "IdempotencyRecord",
    "ItemState",
    "ItemStatus",
    "Page",
    "PageStatus",
    "QueueSample",
    "SourceKind",
    "Task",
    "TaskEventRow",
    "TaskStatus",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookSecret",
    "WorkerLiveness",
]
