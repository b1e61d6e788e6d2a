"""Interactive settings: /v1/ocr and chat completions, live task events."""

from __future__ import annotations

from pydantic import BaseModel

from shared.config.fields import setting


class InteractiveSettings(BaseModel):
    interactive_timeout_s: float = setting(
        120.0,
        "How long `POST /v1/ocr` and `POST /v1/chat/completions` wait for the result. Past it they "
        "answer 504 `ocr_timeout` with the task id; the task keeps running and can be polled.",
        "interactive",
    )
    interactive_max_inline_bytes: int = setting(
        20 * 1024 * 1024,
        "Largest document sent inline (`image_base64`, or a `data:` URL in a chat message), in bytes "
        "once decoded (413). Inline documents are held in memory; larger ones go by upload or URL.",
        "interactive",
    )
    events_retention_s: float = setting(
        3600.0,
        "How long live task events are kept after they are published: a Redis stream expires this "
        "long after its last event; without Redis the sweep deletes older rows of `task_events`.",
        "interactive",
    )
    events_max_per_task: int = setting(
        10_000, "Redis only: the events kept per task (the oldest are trimmed).", "interactive"
    )
    events_delta_interval_ms: int = setting(
        250,
        "Text deltas of a page are sent at most this often (tokens in between are merged). The "
        "first delta of a page and its last text are sent at once. Only tasks someone watches "
        "(SSE, `/v1/ocr`, chat streams) stream text at all.",
        "interactive",
    )
    events_keepalive_s: float = setting(
        15.0, "Seconds between keep-alive comments on an idle event stream.", "interactive"
    )
    events_poll_s: float = setting(
        0.25,
        "Without Redis: how often an API process looks in the database for new events of every "
        "task it streams (one statement for all of its watchers).",
        "interactive",
    )
    events_row_check_s: float = setting(
        5.0,
        "How often a live event stream re-reads the task row, so that it ends even when an event "
        "was lost (the row is the truth).",
        "interactive",
    )
