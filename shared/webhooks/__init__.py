"""Webhook callbacks: events recorded in the database, delivered by the `webhooks` queue with
Standard Webhooks signatures, durable retries and a delivery log. See docs/webhooks.md.

To emit an event from any side, inside the transaction that stores the state it announces:

    pending = record_event(session, settings, event_type=EventType.batch_completed, ...)
    session.commit()
    pending.send(celery)
"""

from shared.webhooks.emit import PendingDeliveries, record_event, resolve_target
from shared.webhooks.payload import EventType
from shared.webhooks.task_events import record_task_event, task_event_hook

__all__ = [
    "EventType",
    "PendingDeliveries",
    "record_event",
    "record_task_event",
    "resolve_target",
    "task_event_hook",
]
