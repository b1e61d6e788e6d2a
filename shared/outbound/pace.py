"""The slowest a download may be: at least `bytes_per_s`, measured over windows of `window_s`.

A per-read timeout alone lets a server that sends one byte every few seconds hold a worker for
as long as it likes; the total deadline (`transport.py`) bounds the whole exchange, and this
floor ends a crawl early instead of at the deadline. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class TooSlow(Exception):
    def __init__(self, rate: float, floor: MinimumRate) -> None:
        super().__init__(
            f"the server sent {rate:,.0f} bytes/s over the last {floor.window_s:g}s, below the "
            f"minimum of {floor.bytes_per_s:,.0f} bytes/s"
        )
        self.rate = rate


@dataclass
class MinimumRate:
    bytes_per_s: float
    window_s: float
    started_at: float
    _window_start: float = field(init=False)
    _window_bytes: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._window_start = self.started_at

    def observe(self, received: int, now: float) -> None:
        """Count `received` bytes that arrived at `now`; raise TooSlow when a window ends
        below the floor. A floor of 0 never raises."""
        self._window_bytes += received
        elapsed = now - self._window_start
        if elapsed < self.window_s or self.bytes_per_s <= 0:
            return
        rate = self._window_bytes / elapsed
        if rate < self.bytes_per_s:
            raise TooSlow(rate, self)
        self._window_start, self._window_bytes = now, 0
