"""Batches wired to the rest of the platform: the `batch.completed` webhook and the dashboard."""

from __future__ import annotations

import base64

from sqlalchemy import select

from shared.db.models import TaskStatus, WebhookDelivery, WebhookEvent
from shared.db.session import session_scope
from tests.worker.batches.conftest import Harness
from worker.batches.hooks import batch_hooks

SECRET = "whsec_" + base64.b64encode(b"b" * 24).decode()


def test_a_finished_batch_records_one_batch_completed_event_for_its_webhook(harness: Harness) -> None:
    harness.stack.settings.webhook_secrets = SECRET
    ctx = harness.new_context()
    ctx.hooks = batch_hooks(harness.stack.settings, ctx.app)
    batch_id = harness.submit_urls(3, webhook_url="http://127.0.0.1:9/batches")

    harness.expand(batch_id, ctx)
    stats = harness.stack.api.get("/v1/ops/stats").json()
    [shown] = [b for b in stats["batches"] if b["id"] == batch_id]
    assert (shown["tasks_total"], shown["tasks_done"]) == (3, 0)

    ids = harness.tasks(batch_id)
    harness.finish(ids[:2])
    harness.finish(ids[2:], TaskStatus.failed, code="fetch_failed")
    harness.expand(batch_id, ctx)
    harness.expand(batch_id, ctx)  # a stray run after the end records nothing more

    with session_scope(harness.db) as session:
        events = session.scalars(select(WebhookEvent).where(WebhookEvent.subject_kind == "batch")).all()
        assert len(events) == 1
        payload = events[0].payload
        deliveries = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id == events[0].id)
        ).all()
    assert payload["type"] == "batch.completed"
    assert payload["data"]["id"] == batch_id
    assert payload["data"]["status"] == "completed"
    assert payload["data"]["documents"]["succeeded"] == 2
    assert payload["data"]["documents"]["failed"] == 1
    assert payload["data"]["manifest"].endswith(f"/v1/batches/{batch_id}/manifest.jsonl")
    assert [d.status for d in deliveries] == ["pending"]
    assert not [b for b in harness.stack.api.get("/v1/ops/stats").json()["batches"] if b["id"] == batch_id]


def test_batch_tasks_of_a_routed_mode_go_to_its_own_batch_queue(harness: Harness) -> None:
    from shared.db.models import Task

    harness.stack.settings.mode_queues = "base"
    ctx = harness.new_context()
    routed = harness.submit_urls(2, mode="base")
    shared = harness.submit_urls(1, mode="gundam")
    harness.expand(routed, ctx)
    harness.expand(shared, ctx)
    with session_scope(harness.db) as session:
        queues = {t.batch_id: t.queue for t in session.scalars(select(Task))}
    assert queues == {routed: "ocr.batch.base", shared: "ocr.batch"}
