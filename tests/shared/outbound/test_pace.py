"""The download rate floor, on plain numbers: a window below the floor ends the download."""

from __future__ import annotations

import pytest

from shared.outbound.pace import MinimumRate, TooSlow


def test_a_fast_enough_transfer_passes_every_window() -> None:
    floor = MinimumRate(bytes_per_s=100, window_s=10, started_at=0)
    for second in range(1, 60):
        floor.observe(100, now=second)


def test_a_drip_is_stopped_at_the_end_of_the_first_window() -> None:
    floor = MinimumRate(bytes_per_s=100, window_s=10, started_at=0)
    for second in range(1, 10):
        floor.observe(1, now=second)  # nothing is judged before the window is over
    with pytest.raises(TooSlow) as caught:
        floor.observe(1, now=10)
    assert caught.value.rate == 1.0
    assert "1 bytes/s over the last 10s, below the minimum of 100 bytes/s" in str(caught.value)


def test_a_fast_start_does_not_pay_for_a_drip_later() -> None:
    floor = MinimumRate(bytes_per_s=100, window_s=10, started_at=0)
    floor.observe(1_000_000, now=10)  # the first window is far above the floor
    for second in range(11, 20):
        floor.observe(1, now=second)
    with pytest.raises(TooSlow):
        floor.observe(1, now=20)


def test_a_floor_of_zero_is_off() -> None:
    floor = MinimumRate(bytes_per_s=0, window_s=1, started_at=0)
    floor.observe(0, now=1000)
