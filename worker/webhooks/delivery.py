"""One attempt of one delivery: claim it, sign and send it, record what happened.

    claim    a short transaction: the delivery must be pending, due, and not held by another
             worker; it is then held for a lease (a worker killed mid-attempt lets it run out)
    send     outside any transaction: the HTTP request (see `sender.py`)
    record   a short transaction: the attempt row, the delivery's new state, and on 410 the
             endpoint disabled

Running the task twice is harmless: a delivered (or not yet due) delivery is not claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.metrics.webhooks import WebhookOutcome, observe_webhook_delivery
from shared.outbound.client import OutboundClient
from shared.storage import Storage
from shared.webhooks.emit import DISABLED_MESSAGE
from shared.webhooks.owner_secrets import signing_secrets
from shared.webhooks.payload import body_of, with_presigned
from shared.webhooks.schedule import parse_retry_after, retry_delay
from shared.webhooks.secret_box import SecretUnreadable
from shared.webhooks.signing import signed_headers
from worker.webhooks.sender import SendPolicy, SendResult, post

log = get_logger(__name__)

# Waits up to this long ride on a Celery countdown message; longer ones are left to the sweep,
# because countdown messages live in a worker's memory (and Redis hands them to another worker
# after its visibility timeout).
COUNTDOWN_MAX_S = 300.0
LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    event_type: str
    subject_id: str
    owner: str
    endpoint_id: str
    url: str
    endpoint_disabled: bool
    attempt: int  # the number of this attempt, from 1
    max_attempts: int
    payload: dict[str, Any]
    presign_keys: dict[str, str] | None


@dataclass(frozen=True)
class Verdict:
    outcome: AttemptOutcome
    failure_code: str | None = None
    delay_s: float | None = None  # until the next attempt, when the outcome is `retry`


def lease_seconds(settings: Settings) -> float:
    return settings.webhook_timeout_s * (1 + settings.webhook_max_redirects) + LEASE_MARGIN_S


def claim(session: Session, delivery_id: str, now: datetime, lease_s: float) -> Claimed | None:
    held = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
        )
        .values(locked_until=now + timedelta(seconds=lease_s))
    )
    if held.rowcount != 1:  # type: ignore[attr-defined]
        return None
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return Claimed(
        delivery_id=delivery.id,
        event_type=delivery.event.type,
        subject_id=delivery.event.subject_id,
        owner=delivery.owner,
        endpoint_id=delivery.endpoint_id,
        url=delivery.endpoint.url,
        endpoint_disabled=delivery.endpoint.disabled,
        attempt=delivery.attempts + 1,
        max_attempts=delivery.max_attempts,
        payload=dict(delivery.event.payload),
        presign_keys=dict(delivery.event.presign_keys) if delivery.event.presign_keys else None,
    )


def judge(
    result: SendResult, attempt: int, max_attempts: int, schedule: list[float], now: datetime
) -> Verdict:
    """What an attempt's result means for the delivery. Pure."""
    if result.ok:
        return Verdict(AttemptOutcome.delivered)
    if result.refused_code is not None:
        return Verdict(AttemptOutcome.failed, result.refused_code)
    if result.status_code == 410:
        return Verdict(AttemptOutcome.failed, "endpoint_gone")
    if attempt >= max_attempts:
        return Verdict(AttemptOutcome.failed, "retries_exhausted")
    delay = retry_delay(attempt, schedule, parse_retry_after(result.retry_after, now))
    return Verdict(AttemptOutcome.retry, delay_s=delay)


def deliver_once(
    settings: Settings, storage: Storage, client: OutboundClient, delivery_id: str
) -> float | None:
    """Make the delivery's next attempt if it is due. Returns the seconds after which the caller
    should send a wake-up message for the following attempt, or None (done, or left to the sweep)."""
    bound = get_logger(__name__, delivery_id=delivery_id)
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        claimed = claim(session, delivery_id, utcnow(), lease_seconds(settings))
    if claimed is None:
        bound.info("webhook.claim.skipped")
        return None
    bound = bound.bind(type=claimed.event_type, subject_id=claimed.subject_id)
    if claimed.endpoint_disabled:
        with session_scope(settings.database_url, settings.database_pool_size) as session:
            _skip_disabled(session, claimed)
        bound.info("webhook.skipped", reason="endpoint_disabled")
        return None

    started = utcnow()
    try:
        result = _attempt(settings, storage, client, claimed, started)
    except Exception as exc:
        # a bug or a storage hiccup while building the request: record it and retry like a
        # failed request instead of leaving the delivery held until its lease runs out
        bound.exception("webhook.attempt.crashed")
        result = SendResult(claimed.url, error=f"internal error before sending: {type(exc).__name__}")
    verdict = judge(result, claimed.attempt, claimed.max_attempts, settings.webhook_retry_delays, utcnow())
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        countdown = record(session, claimed, started, result, verdict)
    observe_webhook_delivery(
        _metric_outcome(result, verdict),
        status_code=result.status_code,
        seconds=result.latency_ms / 1000 if result.latency_ms is not None else None,
    )
    bound.info(
        f"webhook.{verdict.outcome}",
        attempt=claimed.attempt,
        status=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        failure=verdict.failure_code,
        retry_in_s=round(verdict.delay_s, 1) if verdict.delay_s is not None else None,
    )
    return countdown


def _metric_outcome(result: SendResult, verdict: Verdict) -> WebhookOutcome:
    if verdict.outcome == AttemptOutcome.delivered:
        return WebhookOutcome.delivered
    if verdict.outcome == AttemptOutcome.retry:
        return WebhookOutcome.retrying
    return WebhookOutcome.blocked if result.refused_code is not None else WebhookOutcome.failed


def _attempt(
    settings: Settings, storage: Storage, client: OutboundClient, claimed: Claimed, now: datetime
) -> SendResult:
    payload = claimed.payload
    if claimed.presign_keys:
        # minted per attempt, so that a retry a day later still carries working links
        expires_at = now + timedelta(seconds=settings.presign_expires_s)
        urls = {
            name: storage.presign_get(key, settings.presign_expires_s)
            for name, key in claimed.presign_keys.items()
        }
        present = {name: url for name, url in urls.items() if url}
        if present:
            payload = with_presigned(payload, present, expires_at)
    body = body_of(payload)
    try:
        with session_scope(settings.database_url, settings.database_pool_size) as session:
            secrets = signing_secrets(session, settings, claimed.owner, now)
    except SecretUnreadable:
        return SendResult(
            claimed.url,
            error="the owner's webhook secret cannot be opened (OCR_MASTER_SECRET changed?); not sent",
        )
    if not secrets:
        return SendResult(
            claimed.url,
            error="no signing secret for this owner (OCR_MASTER_SECRET, OCR_WEBHOOK_SECRETS); not sent",
        )
    headers = signed_headers(secrets, claimed.delivery_id, now, body)
    policy = SendPolicy(
        timeout_s=settings.webhook_timeout_s,
        max_redirects=settings.webhook_max_redirects,
    )
    return post(client, claimed.url, body.encode(), headers, policy)


def record(
    session: Session, claimed: Claimed, started: datetime, result: SendResult, verdict: Verdict
) -> float | None:
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=claimed.delivery_id,
            number=claimed.attempt,
            started_at=started,
            url=result.url,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_body=result.response_body,
            error=result.error,
            outcome=verdict.outcome,
        )
    )
    delivery = session.get(WebhookDelivery, claimed.delivery_id)
    assert delivery is not None
    delivery.attempts = claimed.attempt
    delivery.locked_until = None
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    delivery.failure_code = verdict.failure_code
    delivery.updated_at = now
    countdown: float | None = None
    if verdict.outcome == AttemptOutcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.delivered, now, None
    elif verdict.outcome == AttemptOutcome.retry:
        assert verdict.delay_s is not None
        delivery.next_attempt_at = now + timedelta(seconds=verdict.delay_s)
        if verdict.delay_s <= COUNTDOWN_MAX_S:
            countdown, delivery.enqueued_at = verdict.delay_s, now
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.failed, None
        if verdict.failure_code == "endpoint_gone":
            _disable(session, claimed, now)
    return countdown


def _disable(session: Session, claimed: Claimed, now: datetime) -> None:
    endpoint = session.get(WebhookEndpoint, claimed.endpoint_id)
    if endpoint is not None and not endpoint.disabled:
        endpoint.disabled, endpoint.disabled_at = True, now
        endpoint.disabled_reason = f"answered 410 Gone to delivery {claimed.delivery_id}"
        log.warning("webhook.endpoint.disabled", endpoint_id=endpoint.id, delivery_id=claimed.delivery_id)


def _skip_disabled(session: Session, claimed: Claimed) -> None:
    delivery = session.get(WebhookDelivery, claimed.delivery_id)
    assert delivery is not None
    delivery.status, delivery.next_attempt_at, delivery.locked_until = DeliveryStatus.skipped, None, None
    delivery.failure_code = "endpoint_disabled"
    delivery.last_error = DISABLED_MESSAGE
    delivery.updated_at = utcnow()
