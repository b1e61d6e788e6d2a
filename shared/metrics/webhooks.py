"""Webhook delivery outcomes. The webhook delivery code calls `observe_webhook_delivery` once
per attempt; the counter is exposed on the metrics port of the worker that delivers.

    observe_webhook_delivery(WebhookOutcome.delivered, status_code=204, seconds=0.08)
    observe_webhook_delivery(WebhookOutcome.retrying, status_code=503, seconds=1.2)
    observe_webhook_delivery(WebhookOutcome.retrying, seconds=10.0)   # timeout: no status
    observe_webhook_delivery(WebhookOutcome.failed, status_code=500)  # last attempt failed
    observe_webhook_delivery(WebhookOutcome.blocked)                  # URL refused (SSRF guard)
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Histogram


class WebhookOutcome(StrEnum):
    delivered = "delivered"  # the receiver answered 2xx
    retrying = "retrying"  # this attempt failed; another one is scheduled
    failed = "failed"  # this attempt failed and it was the last: the delivery is given up
    blocked = "blocked"  # not sent: the URL is not allowed (private address, scheme, ...)


WEBHOOK_DELIVERIES = Counter(
    "ocrp_webhook_deliveries",
    "Webhook delivery attempts by outcome and HTTP status class of the receiver's answer.",
    ["outcome", "status_class"],
)
WEBHOOK_DURATION = Histogram(
    "ocrp_webhook_delivery_duration_seconds",
    "Time from sending a webhook to the receiver's answer (or the timeout).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def status_class(status_code: int | None) -> str:
    """`2xx`... `5xx`, or `none` when no HTTP answer came (connection error, timeout)."""
    if status_code is None or not 100 <= status_code <= 599:
        return "none"
    return f"{status_code // 100}xx"


def observe_webhook_delivery(
    outcome: WebhookOutcome | str, *, status_code: int | None = None, seconds: float | None = None
) -> None:
    value = WebhookOutcome(outcome).value  # an unknown outcome is a programming error: raise
    WEBHOOK_DELIVERIES.labels(value, status_class(status_code)).inc()
    if seconds is not None:
        WEBHOOK_DURATION.labels(value).observe(seconds)
