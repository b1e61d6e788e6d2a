"""The `batch.completed` event: sent once a batch reaches its final state (completed, failed or
canceled), with its counts and the manifest link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.models import Batch
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.webhooks.emit import PendingDeliveries, record_event
from shared.webhooks.payload import WebhookEventType, iso

log = get_logger(__name__)


def batch_data(batch: Batch, public_url: str) -> dict[str, Any]:
    url = f"{public_url.rstrip('/')}/v1/batches/{batch.id}"
    return {
        "object": "batch",
        "id": batch.id,
        "status": batch.status,
        "url": url,
        "documents": {
            "total": batch.source_total,
            "succeeded": batch.settled_succeeded,
            "failed": batch.settled_failed,
            "canceled": batch.settled_canceled,
            "skipped": batch.settled_skipped,
            "reused": batch.settled_reused,
        },
        "pages_done": batch.settled_pages,
        "manifest": f"{url}/manifest.jsonl" if batch.manifest_key else None,
        "error": {"code": batch.error_code, "message": batch.error_message or ""}
        if batch.error_code
        else None,
        "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at) if batch.finished_at else None,
    }


def record_batch_notification(session: Session, settings: Settings, batch: Batch) -> PendingDeliveries:
    """Record a finished batch's event in the caller's transaction; send after the commit."""
    return record_event(
        session,
        settings,
        event_type=WebhookEventType.batch_completed,
        owner=batch.owner,
        subject_kind="batch",
        subject_id=batch.id,
        data=batch_data(batch, settings.public_url),
        url=batch.webhook_url,
        dedupe_key=f"batch:{batch.id}:completed",
        timestamp=batch.finished_at,
    )


def batch_notification_hook(settings: Settings, celery: Celery) -> Callable[[str, str], None]:
    """A batch hook (`worker/batches/hooks.py`): runs after the batch's final state is committed."""

    def record_batch_webhook(batch_id: str, status: str) -> None:
        try:
            with session_scope(settings.database_url, settings.database_pool_size) as session:
                batch = session.get(Batch, batch_id)
                if batch is None:
                    return
                record_batch_notification(session, settings, batch).send_after_commit(session, celery)
        except Exception:
            log.exception("webhook.event.record_failed", batch_id=batch_id, status=status)

    return record_batch_webhook
