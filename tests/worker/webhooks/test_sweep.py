"""The webhook sweep sends due deliveries whose wake-up message was lost, once per interval."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import WebhookDelivery
from shared.db.session import session_scope
from shared.queue import QUEUE_WEBHOOKS, make_celery, queue_depth
from tests.shared.webhooks.factories import finished_task, webhook_settings
from worker.webhooks.sweep import sweep_deliveries


def test_only_overdue_unheld_deliveries_are_sent_again_once_per_interval(tmp_path: Path) -> None:
    settings = webhook_settings(tmp_path, webhook_sweep_interval_s=5)
    celery = make_celery(settings)
    url = "http://127.0.0.1:9/hook"
    ids = {
        name: finished_task(settings, url)[1].delivery_ids[0] for name in ("lost", "fresh", "held", "done")
    }
    long_ago = utcnow() - timedelta(minutes=10)
    with session_scope(settings.database_url) as session:
        for name in ("lost", "held", "done"):
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == ids[name])
                .values(next_attempt_at=long_ago, enqueued_at=long_ago)
            )
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == ids["held"])
            .values(locked_until=utcnow() + timedelta(seconds=30))
        )
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == ids["done"]).values(status="delivered")
        )

    assert sweep_deliveries(settings, celery) == 1
    assert queue_depth(celery, QUEUE_WEBHOOKS) == 1
    assert sweep_deliveries(settings, celery) == 0, "just sent: not again within the interval"
    with session_scope(settings.database_url) as session:
        lost = session.get(WebhookDelivery, ids["lost"])
        assert lost is not None
        assert lost.enqueued_at is not None
        assert lost.enqueued_at > long_ago


def test_a_task_whose_event_was_never_recorded_gets_it_from_the_sweep(tmp_path: Path) -> None:
    """A worker killed between the terminal commit and its hook leaves a task with no event."""
    from shared.clock import utcnow as now
    from shared.db.models import Task, WebhookEvent
    from shared.ids import new_id
    from worker.webhooks.sweep import record_missed_task_notifications

    settings = webhook_settings(tmp_path, webhook_sweep_interval_s=5)
    celery = make_celery(settings)
    finished = now() - timedelta(seconds=30)
    with session_scope(settings.database_url) as session:
        for url, when in (
            ("http://127.0.0.1:9/hook", finished),
            (None, finished),
            ("http://127.0.0.1:9/hook", now()),
        ):  # no target; too fresh
            session.add(
                Task(
                    id=new_id("tsk"),
                    owner="default",
                    status="succeeded",
                    source_kind="upload",
                    options={},
                    webhook_url=url,
                    created_at=when,
                    finished_at=when,
                )
            )
    already_recorded, _ = finished_task(settings, "http://127.0.0.1:9/hook")
    with session_scope(settings.database_url) as session:
        session.execute(update(Task).where(Task.id == already_recorded).values(finished_at=finished))

    assert record_missed_task_notifications(settings, celery) == 1
    assert record_missed_task_notifications(settings, celery) == 0, "recorded once"
    assert queue_depth(celery, QUEUE_WEBHOOKS) == 1
    with session_scope(settings.database_url) as session:
        types = sorted(e.payload["type"] for e in session.query(WebhookEvent))
    assert types == ["task.failed", "task.succeeded"]
