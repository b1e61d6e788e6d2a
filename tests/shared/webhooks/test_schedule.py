"""The retry schedule: Standard Webhooks waits with jitter, and Retry-After only lengthens them."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from shared.clock import utcnow
from shared.config import Settings
from shared.webhooks.schedule import JITTER, parse_retry_after, parse_schedule, retry_delay

SCHEDULE = [5.0, 300.0, 1800.0]


def test_the_default_schedule_is_the_standard_webhooks_one() -> None:
    delays = Settings(_env_file=None).webhook_retry_delays  # type: ignore[call-arg]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


def test_each_failed_attempt_waits_its_step_with_bounded_jitter() -> None:
    for attempts_made, base in [(1, 5.0), (2, 300.0), (3, 1800.0)]:
        assert retry_delay(attempts_made, SCHEDULE, uniform=lambda lo, hi: lo) == pytest.approx(
            base * (1 - JITTER)
        )
        assert retry_delay(attempts_made, SCHEDULE, uniform=lambda lo, hi: hi) == pytest.approx(
            base * (1 + JITTER)
        )
        spread = {round(retry_delay(attempts_made, SCHEDULE), 6) for _ in range(20)}
        assert len(spread) > 1, "jitter spreads retries"


def test_past_the_end_the_last_wait_repeats() -> None:
    assert retry_delay(9, SCHEDULE, uniform=lambda lo, hi: 1.0) == 1800.0


def test_retry_after_lengthens_but_never_shortens_the_wait() -> None:
    assert retry_delay(1, SCHEDULE, retry_after=60, uniform=lambda lo, hi: 1.0) == 60
    assert retry_delay(2, SCHEDULE, retry_after=60, uniform=lambda lo, hi: 1.0) == 300


def test_retry_after_reads_seconds_and_http_dates_and_ignores_garbage() -> None:
    now = utcnow().replace(microsecond=0)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0
    assert parse_retry_after("10000000", now) == 24 * 3600, "capped at a day"
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_a_malformed_schedule_is_refused_when_settings_load() -> None:
    assert parse_schedule(" 0.5, 1 ,2") == [0.5, 1.0, 2.0]
    with pytest.raises(ValidationError, match="'5m' is not a number"):
        Settings(_env_file=None, webhook_retry_schedule="5,5m")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="between 0 and"):
        Settings(_env_file=None, webhook_retry_schedule="-1")  # type: ignore[call-arg]
