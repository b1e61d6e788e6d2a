"""Delivery log logic of the API: read an owner's deliveries, redeliver one. Functions flush; the
endpoint commits and then sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.db.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.errors import Conflict, NotFound
from shared.ids import is_valid_id

REDELIVER_RETRY_AFTER_S = 5


def _with_children() -> tuple[object, ...]:
    return (
        selectinload(WebhookDelivery.event),
        selectinload(WebhookDelivery.endpoint),
        selectinload(WebhookDelivery.attempt_rows),
    )


def list_for_subject(session: Session, owner: str, kind: str, subject_id: str) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .join(WebhookEvent, WebhookDelivery.event_id == WebhookEvent.id)
        .where(
            WebhookDelivery.owner == owner,
            WebhookEvent.subject_kind == kind,
            WebhookEvent.subject_id == subject_id,
        )
        .options(*_with_children())  # type: ignore[arg-type]
        .order_by(WebhookDelivery.id)
    )
    return list(session.scalars(query))


def get_delivery(session: Session, owner: str, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id) if is_valid_id(delivery_id, "msg") else None
    if delivery is None or delivery.owner != owner:
        raise NotFound(f"no webhook delivery {delivery_id!r}", "webhook_delivery_not_found")
    return delivery


def redeliver(session: Session, owner: str, delivery_id: str, now: datetime) -> WebhookDelivery:
    """Make the delivery due now, with the same `webhook-id`. A delivery that had finished (delivered,
    failed, skipped) gets exactly one new attempt; a pending one keeps its remaining retries.
    Asking for it is taken as the owner's word that the endpoint works again: a disabled endpoint
    is enabled (another 410 disables it again)."""
    delivery = get_delivery(session, owner, delivery_id)
    if delivery.locked_until is not None and delivery.locked_until > now:
        raise Conflict(
            "an attempt of this delivery is under way; ask again once it has finished",
            "webhook_delivery_in_flight",
            retry_after=REDELIVER_RETRY_AFTER_S,
        )
    if delivery.status != DeliveryStatus.pending:
        delivery.max_attempts = delivery.attempts + 1
    delivery.status = DeliveryStatus.pending
    delivery.next_attempt_at = delivery.enqueued_at = delivery.updated_at = now
    delivery.failure_code = None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is not None and endpoint.disabled:
        endpoint.disabled, endpoint.disabled_at, endpoint.disabled_reason = False, None, None
    session.flush()
    return delivery
