"""What waiting for a task needs to know, shared by both clients. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
BATCH_TERMINAL = frozenset({"completed", "failed", "canceled"})
EVENTS_READ_TIMEOUT_S = 60.0
"""Longer than the server's keep-alive comments (15 s by default): a silent stream is dead."""


@dataclass
class PollSchedule:
    """Polling intervals: quick at first (short tasks end in a second), then slower."""

    first_s: float = 0.25
    max_s: float = 5.0
    _next: float = 0.0

    def next(self, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_s)
        self._next = self.first_s if self._next == 0.0 else min(self._next * 2, self.max_s)
        return self._next


def is_terminal_event(event: str, data: object) -> bool:
    return event == "status" and isinstance(data, dict) and data.get("status") in TERMINAL


@dataclass(frozen=True)
class ResultFiles:
    """Where `download` put a task's results."""

    markdown: Path
    layout: Path
    images: list[Path]
