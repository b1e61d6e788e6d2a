"""The event envelope `{type, timestamp, data}` and the bytes that go on the wire. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class WebhookEventType(StrEnum):
    task_succeeded = "task.succeeded"
    task_failed = "task.failed"
    task_canceled = "task.canceled"
    batch_completed = "batch.completed"


def iso(moment: datetime) -> str:
    """`2026-11-22T10:15:02.412Z`: UTC, milliseconds, the `Z` every JSON parser reads."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(event_type: WebhookEventType | str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": str(event_type), "timestamp": iso(timestamp), "data": data}


def with_presigned(payload: dict[str, Any], urls: dict[str, str], expires_at: datetime) -> dict[str, Any]:
    """A copy of `payload` whose `data.presigned` holds direct download URLs and their expiry."""
    data = {**payload["data"], "presigned": {**urls, "expires_at": iso(expires_at)}}
    return {**payload, "data": data}


def body_of(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent: compact JSON, UTF-8, keys in a stable order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
