"""`GET /v1/tasks/{id}/events`: a task's live events as Server-Sent Events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from server.deps import CallerDep, SettingsDep
from server.errors import responses
from server.events import sse
from server.events.deps import EventFeedDep
from server.events.state import read_state, require_state
from server.events.watch import WatchTiming, watch_task
from shared.config import Settings
from shared.errors import InvalidRequest
from shared.events import StoredEvent

router = APIRouter(prefix="/v1/tasks", tags=["events"])


def _stream_timing(settings: Settings) -> WatchTiming:
    """Idle ticks only as often as a keep-alive or a row check may be due: Starlette itself
    ends the stream when the client goes, and hundreds of idle watchers should sleep."""
    idle_s = min(settings.events_keepalive_s, settings.events_row_check_s)
    return WatchTiming(idle_s=idle_s, row_check_s=settings.events_row_check_s)


def event_frame(stored: StoredEvent) -> str:
    return sse.frame(stored.event.encode(), stored.event.type.value, stored.id)


async def _stream(
    request: Request, settings: Settings, events: AsyncIterator[StoredEvent | None]
) -> AsyncIterator[str]:
    yield sse.retry()
    last_write = time.monotonic()
    async for stored in events:
        if stored is not None:
            yield event_frame(stored)
            last_write = time.monotonic()
            continue
        if await request.is_disconnected():
            return
        if time.monotonic() - last_write >= settings.events_keepalive_s:
            yield sse.comment("keep-alive")
            last_write = time.monotonic()


@router.get(
    "/{task_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {sse.MEDIA_TYPE: {}}, "description": "status, page and delta events"},
        **responses(400, 404),
    },
    summary="Follow a task: its state, then live status, page and text events, until it ends",
)
async def task_events(
    task_id: str,
    request: Request,
    settings: SettingsDep,
    caller: CallerDep,
    feed: EventFeedDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    await require_state(settings, caller.owner, task_id)
    if last_event_id is not None and not feed.valid_cursor(last_event_id):
        raise InvalidRequest(
            f"Last-Event-ID {last_event_id!r} is not an event id of this stream", "invalid_last_event_id"
        )

    events = watch_task(
        feed,
        task_id,
        lambda: read_state(settings, caller.owner, task_id),
        after=last_event_id,
        timing=_stream_timing(settings),
    )
    return StreamingResponse(
        _stream(request, settings, events), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS
    )
