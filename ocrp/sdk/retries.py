"""When the SDK sends a request again, and how long it waits first. Pure.

Retried: 429 and 503 on any method (the server did nothing and says when to come back), and
connection failures of calls that are safe to repeat: reads, and submissions that carry an
`Idempotency-Key` (the server answers a repeat with the first request's task)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries in all, the first included."""
    backoff_s: float = 0.5
    """The first wait when the server gives no Retry-After; doubled at each try."""
    max_wait_s: float = 30.0
    """No single wait is longer, whatever Retry-After says."""

    def wait_after_status(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait_s)
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """The wait before try `attempt + 1` (attempt counts from 1)."""
        return min(self.backoff_s * 2.0 ** (attempt - 1), self.max_wait_s)


NO_RETRIES = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
