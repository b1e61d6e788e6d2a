"""Recording events: the one call every side (worker hooks, the API, batches) uses.

    pending = record_event(session, settings, event_type=..., owner=..., subject_kind=...,
                           subject_id=..., data={...}, url=row.webhook_url, dedupe_key=...)
    pending.send_after_commit(session, celery)   # wake the webhook workers once committed
    session.commit()          # the caller's boundary owns the transaction

`record_event` only adds rows and flushes. A message that cannot be sent is not lost: the
delivery row says it is due, and the webhook sweep sends it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import Celery
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.ids import new_id
from shared.logs import get_logger
from shared.outbox import outbox
from shared.queue import enqueue_webhook_delivery
from shared.webhooks.payload import WebhookEventType, envelope

log = get_logger(__name__)
DISABLED_MESSAGE = "the endpoint is disabled (it answered 410 Gone); redeliver to enable it again"


@dataclass(frozen=True)
class PendingDeliveries:
    """Deliveries recorded in a transaction that is not committed yet."""

    delivery_ids: list[str] = field(default_factory=list)

    def send_after_commit(self, session: Session, celery: Celery) -> None:
        """Wake the webhook workers once `session` commits (`shared.outbox`); nothing is sent
        if it rolls back. Failures are logged: the sweep sends what could not be sent."""
        box = outbox(session)
        for delivery_id in self.delivery_ids:
            wake = functools.partial(enqueue_webhook_delivery, celery, delivery_id)
            box.add(wake, "webhook.enqueue.failed", delivery_id=delivery_id)


def resolve_target(explicit: str | None, settings: Settings, key_default: str | None = None) -> str | None:
    """Where an event goes, first match wins: the task's or batch's own `webhook_url`, then the
    default URL of the API key that submitted it (once keys exist), then `OCR_WEBHOOK_DEFAULT_URL`."""
    return explicit or key_default or settings.webhook_default_url or None


def record_event(
    session: Session,
    settings: Settings,
    *,
    event_type: WebhookEventType,
    owner: str,
    subject_kind: str,
    subject_id: str,
    data: dict[str, Any],
    url: str | None,
    key_default_url: str | None = None,
    dedupe_key: str | None = None,
    presign_keys: dict[str, str] | None = None,
    timestamp: datetime | None = None,
) -> PendingDeliveries:
    """Record `event_type` about `subject_id` and its delivery to the resolved URL, inside the
    caller's transaction. `dedupe_key` names the occurrence: recording it again (a hook that ran
    twice) adds nothing. Returns the deliveries to send after the commit."""
    target = resolve_target(url, settings, key_default_url)
    if target is None:
        return PendingDeliveries()
    now = utcnow()
    event_id = new_id("evt")
    values = {
        "id": event_id,
        "owner": owner,
        "type": str(event_type),
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "dedupe_key": dedupe_key,
        "payload": envelope(event_type, timestamp or now, data),
        "presign_keys": presign_keys,
        "created_at": now,
    }
    if dedupe_key is not None:
        _insert_ignoring_conflict(session, WebhookEvent.__table__, values, "dedupe_key")  # type: ignore[arg-type]
        stored = session.scalar(select(WebhookEvent.id).where(WebhookEvent.dedupe_key == dedupe_key))
        if stored != event_id:
            log.info("webhook.event.duplicate", event_id=stored, dedupe_key=dedupe_key)
            return PendingDeliveries()
    else:
        session.add(WebhookEvent(**values))
    endpoint = _endpoint(session, owner, target)
    delivery = WebhookDelivery(
        id=new_id("msg"),
        event_id=event_id,
        endpoint_id=endpoint.id,
        owner=owner,
        max_attempts=1 + len(settings.webhook_retry_delays),
        created_at=now,
        updated_at=now,
    )
    if endpoint.disabled:
        delivery.status = DeliveryStatus.skipped
        delivery.failure_code = "endpoint_disabled"
        delivery.last_error = DISABLED_MESSAGE
    else:
        delivery.status, delivery.next_attempt_at, delivery.enqueued_at = DeliveryStatus.pending, now, now
    session.add(delivery)
    session.flush()
    log.info(
        "webhook.event.recorded",
        event_id=event_id,
        type=str(event_type),
        subject_id=subject_id,
        delivery_id=delivery.id,
        status=delivery.status,
    )
    return PendingDeliveries([delivery.id] if delivery.status == DeliveryStatus.pending else [])


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _endpoint(session: Session, owner: str, url: str) -> WebhookEndpoint:
    """The owner's endpoint row for `url`, created on first use. Many workers finishing tasks of
    one batch race here; INSERT .. ON CONFLICT DO NOTHING lets all of them through unharmed."""
    digest = url_digest(url)
    values = {
        "id": new_id("whe"),
        "owner": owner,
        "url": url,
        "url_sha256": digest,
        "disabled": False,
        "created_at": utcnow(),
    }
    _insert_ignoring_conflict(session, WebhookEndpoint.__table__, values, "owner", "url_sha256")  # type: ignore[arg-type]
    endpoint = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.owner == owner, WebhookEndpoint.url_sha256 == digest)
    )
    assert endpoint is not None
    return endpoint


def _insert_ignoring_conflict(session: Session, table: Table, values: dict[str, Any], *keys: str) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=keys))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=keys))
    else:
        raise RuntimeError(f"webhooks support PostgreSQL and SQLite, not {dialect}")
