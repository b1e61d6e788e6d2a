"""Response bodies of the webhook delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.db.models import WebhookAttempt, WebhookDelivery


class WebhookAttemptResource(BaseModel):
    number: int = Field(description="1 for the first try.")
    started_at: datetime
    url: str = Field(description="The URL tried last (differs from the endpoint's after a redirect).")
    status_code: int | None = Field(description="The HTTP status answered; null when none came back.")
    latency_ms: int | None
    response_body: str | None = Field(description="The first 2048 characters of the answer.")
    error: str | None = Field(description="Why the try failed, when it did.")
    outcome: Literal["delivered", "retry", "failed"]

    @classmethod
    def of(cls, row: WebhookAttempt) -> WebhookAttemptResource:
        return cls(
            number=row.number,
            started_at=row.started_at,
            url=row.url,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            response_body=row.response_body,
            error=row.error,
            outcome=row.outcome,
        )


class WebhookDeliveryResource(BaseModel):
    object: Literal["webhook_delivery"] = "webhook_delivery"
    id: str = Field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    event_id: str
    event_type: str
    subject_kind: str = Field(description="`task` or `batch`.")
    subject_id: str
    url: str
    status: Literal["pending", "delivered", "failed", "skipped"]
    endpoint_disabled: bool
    attempt_count: int
    max_attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    failure_code: str | None = Field(
        description="Why no further automatic attempt is made: `retries_exhausted`, `endpoint_gone`, "
        "`endpoint_disabled`, `url_not_allowed`, `invalid_url`."
    )
    last_error: str | None
    created_at: datetime
    payload: dict[str, Any] = Field(description="The event as sent, without per-attempt presigned URLs.")
    attempts: list[WebhookAttemptResource]

    @classmethod
    def of(cls, row: WebhookDelivery) -> WebhookDeliveryResource:
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event.type,
            subject_kind=row.event.subject_kind,
            subject_id=row.event.subject_id,
            url=row.endpoint.url,
            status=row.status,
            endpoint_disabled=row.endpoint.disabled,
            attempt_count=row.attempts,
            max_attempts=row.max_attempts,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            last_status_code=row.last_status_code,
            failure_code=row.failure_code,
            last_error=row.last_error,
            created_at=row.created_at,
            payload=row.event.payload,
            attempts=[WebhookAttemptResource.of(a) for a in row.attempt_rows],
        )


class WebhookDeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookDeliveryResource]
