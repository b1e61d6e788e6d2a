"""Webhooks: endpoints, events, deliveries and attempts.

WebhookEndpoint   one per owner + URL; a 410 answer disables it
WebhookEvent      something that happened (`task.succeeded`...), its payload fixed when recorded
WebhookDelivery   one per event x endpoint; its id is the `webhook-id` header, the same on every
                  try; `next_attempt_at` is the durable retry schedule
WebhookAttempt    one per HTTP try: status code, latency, truncated response, error
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.db.base import Base, UTCDateTime
from shared.ids import new_id


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt
    delivered = "delivered"  # a 2xx answer
    failed = "failed"  # retries exhausted, 410, or refused target: no further automatic try
    skipped = "skipped"  # the endpoint was disabled when the event happened: recorded, not sent


class AttemptOutcome(StrEnum):
    delivered = "delivered"
    retry = "retry"
    failed = "failed"


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("whe"))
    owner: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    # URLs can be 2 KiB: the uniqueness key is their hash, which every index type can hold
    url_sha256: Mapped[str] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("owner", "url_sha256"),)


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("evt"))
    owner: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(40))
    # recording the same occurrence twice (a hook run twice) returns the first event
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # storage keys turned into presigned URLs at each attempt, so that they are fresh when sent
    presign_keys: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_events_subject", "subject_kind", "subject_id"),)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("msg"))
    event_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set while a worker holds the delivery for one attempt; a crashed worker's lease runs out
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when a wake-up message was last sent; the sweep sends again only long after it
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_rows: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="WebhookAttempt.number"
    )

    __table_args__ = (Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_rows")
