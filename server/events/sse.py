"""Server-Sent Events framing (the `text/event-stream` wire format). Pure."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"
# what proxies must not do to a stream: buffer it (nginx honours X-Accel-Buffering), cache it
# or transform it
HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
RECONNECT_MS = 3000


def frame(data: str, event: str | None = None, id: str | None = None) -> str:
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    # a data field cannot hold a newline: each line of the payload is a data line of its own
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return "\n".join(lines) + "\n\n"


def json_frame(payload: Any, event: str | None = None, id: str | None = None) -> str:
    return frame(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), event, id)


def comment(text: str) -> str:
    return f": {text}\n\n"


def retry(milliseconds: int = RECONNECT_MS) -> str:
    return f"retry: {milliseconds}\n\n"


DONE = frame("[DONE]")
