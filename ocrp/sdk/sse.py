"""An incremental parser of Server-Sent Events (`text/event-stream`). Pure: feed it lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return json.loads(self.data)


class EventParser:
    """Collects the fields of one event until its blank line, as the SSE spec reads them."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self.last_id: str | None = None

    def feed(self, line: str) -> Event | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> Event | None:
        if not self._data and not self._event:
            return None
        event = Event(self._event or "message", "\n".join(self._data), self._id)
        if self._id is not None:
            self.last_id = self._id
        self._data, self._event, self._id = [], "", None
        return event
