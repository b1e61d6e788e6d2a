"""The webhook sweep (Celery beat): the delivery rows hold the schedule, and this sends a wake-up
message for every delivery that is due but was not attempted.

It also records task events that a worker failed to record: the terminal hook runs after the
terminal state is committed, so a worker killed between the two would otherwise lose the event.

Delivery repair covers a killed webhook worker (the embedded broker loses the messages it held, and
countdown messages live in worker memory), a send that failed after a commit, a worker that died
mid-attempt (its lease runs out), and waits too long for a countdown message. A delivery is sent
again at most once per sweep interval, so a stopped webhook worker does not pile up messages.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery
from sqlalchemy import exists, or_, select, update

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import TERMINAL_STATUSES, DeliveryStatus, Task, WebhookDelivery, WebhookEvent
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.queue import enqueue_webhook_delivery

log = get_logger(__name__)
BATCH = 500
# how far back the sweep looks for terminal tasks whose event was never recorded
MISSED_EVENT_WINDOW = timedelta(hours=6)


def record_missed_task_notifications(settings: Settings, celery: Celery) -> int:
    """Record the events of recently finished tasks that have none; returns how many."""
    from shared.webhooks.task_notifications import record_task_notification

    now = utcnow()
    # give the worker's own hook one sweep interval to record the event first
    settled = now - timedelta(seconds=settings.webhook_sweep_interval_s)
    has_event = exists().where(WebhookEvent.subject_kind == "task", WebhookEvent.subject_id == Task.id)
    query = select(Task).where(
        Task.status.in_([str(s) for s in TERMINAL_STATUSES]),
        Task.finished_at > now - MISSED_EVENT_WINDOW,
        Task.finished_at <= settled,
        ~has_event,
    )
    if not settings.webhook_default_url:
        query = query.where(Task.webhook_url.is_not(None))
    recorded = 0
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        for task in session.scalars(query.order_by(Task.finished_at).limit(BATCH)):
            record_task_notification(session, settings, task).send_after_commit(session, celery)
            recorded += 1
    if recorded:
        log.warning("webhook.sweep.recorded_missed_events", count=recorded)
    return recorded


def sweep_deliveries(settings: Settings, celery: Celery) -> int:
    """Send the due deliveries that nothing is about to attempt; returns how many were sent."""
    now = utcnow()
    # a delivery just due is probably about to run from its own message: give it one interval
    overdue = now - timedelta(seconds=settings.webhook_sweep_interval_s)
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        ids = list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.pending,
                    WebhookDelivery.next_attempt_at <= overdue,
                    or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
                    or_(WebhookDelivery.enqueued_at.is_(None), WebhookDelivery.enqueued_at <= overdue),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(BATCH)
            )
        )
        if ids:
            session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(enqueued_at=now)
            )
    for delivery_id in ids:
        enqueue_webhook_delivery(celery, delivery_id)
    if ids:
        log.info("webhook.sweep.resent", count=len(ids))
    return len(ids)
