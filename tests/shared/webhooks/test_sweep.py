"""The webhook sweep sends due deliveries whose wake-up message was lost, once per interval."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import WebhookDelivery
from shared.db.session import session_scope
from shared.queue import QUEUE_WEBHOOKS, make_celery, queue_depth
from shared.webhooks.sweep import sweep_deliveries
from tests.shared.webhooks.factories import finished_task, webhook_settings


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
