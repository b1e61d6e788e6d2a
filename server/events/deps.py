"""The event store of the app (`app.state`): the feed watchers read, the publisher the API
writes with (a queued task canceled by the API is announced from here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.events import EventFeed, EventPublisher


async def get_event_feed(request: Request) -> EventFeed:
    feed: EventFeed = request.app.state.event_feed
    return feed


async def get_event_publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.event_publisher
    return publisher


EventFeedDep = Annotated[EventFeed, Depends(get_event_feed)]
EventPublisherDep = Annotated[EventPublisher, Depends(get_event_publisher)]
