"""When a failed delivery is tried again: the retry schedule, its jitter and `Retry-After`.

Pure functions of plain data; the clock and the random source are parameters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime

JITTER = 0.2  # each wait is stretched or shrunk by up to 20 %, so retries of many events spread out
RETRY_AFTER_MAX_S = 24 * 3600.0  # a receiver cannot park a delivery for longer than a day


def parse_schedule(spec: str) -> list[float]:
    """`5,300,1800` → [5.0, 300.0, 1800.0]; raises ValueError on anything else."""
    delays: list[float] = []
    for item in spec.split(","):
        if not item.strip():
            continue
        try:
            delay = float(item)
        except ValueError:
            raise ValueError(f"retry schedule entry {item.strip()!r} is not a number of seconds") from None
        if not 0 <= delay <= 7 * 24 * 3600:
            raise ValueError(f"retry schedule entry {delay:g} must be between 0 and 604800 seconds")
        delays.append(delay)
    return delays


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a `Retry-After` header (delta-seconds or an HTTP date), capped at a day;
    None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def retry_delay(
    attempts_made: int,
    schedule: Sequence[float],
    retry_after: float | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds until the next try after `attempts_made` failed tries (1 = the first try failed).
    Past the end of the schedule its last wait repeats; `Retry-After` only ever lengthens it."""
    base = schedule[min(max(attempts_made, 1), len(schedule)) - 1] if schedule else 0.0
    delay = base * uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
