"""Live task events (`GET /v1/tasks/{id}/events`, `/v1/ocr`, chat completions): the event model,
the stores, and the factory that picks Redis or the database from the settings."""

from shared.events.factory import make_event_feed, make_event_publisher
from shared.events.model import EventType, Progress, StoredEvent, TaskEvent
from shared.events.store import EventFeed, EventPublisher, NullPublisher, Subscription

__all__ = [
    "EventFeed",
    "EventPublisher",
    "EventType",
    "NullPublisher",
    "Progress",
    "StoredEvent",
    "Subscription",
    "TaskEvent",
    "make_event_feed",
    "make_event_publisher",
]
