"""Deliveries against a real local receiver, one attempt at a time (no Celery): retries with
Retry-After, the delivery log, the already-delivered guard, 410, refused targets, the lease."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Task, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shared.db.session import session_scope
from shared.storage import make_storage
from shared.webhooks.task_notifications import record_task_notification
from tests.fixtures.services import wait_for
from tests.fixtures.webhook_receiver import Receiver
from tests.shared.webhooks.factories import finished_task, webhook_settings
from worker.webhooks.delivery import claim, deliver_once
from worker.webhooks.sender import make_client


def deliver(settings: Settings, delivery_id: str) -> float | None:
    with make_client(settings) as client:
        return deliver_once(settings, make_storage(settings), client, delivery_id)


def delivery_row(settings: Settings, delivery_id: str) -> WebhookDelivery:
    with session_scope(settings.database_url) as session:
        row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        session.expunge(row)
        return row


def attempt_rows(settings: Settings, delivery_id: str) -> list[WebhookAttempt]:
    with session_scope(settings.database_url) as session:
        rows = list(
            session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.number)
            )
        )
        session.expunge_all()
        return rows


def test_failed_attempts_are_retried_until_delivered(tmp_path: Path, webhook_receiver: Receiver) -> None:
    settings = webhook_settings(tmp_path)
    webhook_receiver.script += [(500, {}), (429, {"retry-after": "1"})]
    task_id, pending = finished_task(settings, webhook_receiver.url)
    [delivery_id] = pending.delivery_ids

    assert deliver(settings, delivery_id) is not None, "a 500 schedules a retry"
    countdown = deliver(settings, delivery_id)
    assert countdown is not None
    assert countdown >= 1, "Retry-After: 1 lengthens the zero wait"
    assert deliver(settings, delivery_id) is None, "not due yet: nothing is sent"
    assert len(webhook_receiver.received) == 2
    # asking before it is due sends nothing; once due, it is delivered with nothing more to schedule
    wait_for(
        lambda: deliver(settings, delivery_id) is None and len(webhook_receiver.received) == 3,
        countdown + 10,
        "the retry to fall due",
    )

    received = webhook_receiver.wait_for(3)
    assert webhook_receiver.rejected == 0, "every request verified"
    assert {r.webhook_id for r in received} == {delivery_id}, "one webhook-id across retries"
    assert received[2].at - received[1].at >= 1.0
    assert received[0].event["type"] == "task.failed"
    assert received[0].event["data"]["id"] == task_id
    assert received[0].event["data"]["error"]["code"] == "all_pages_failed"

    row = delivery_row(settings, delivery_id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 204)
    assert row.delivered_at is not None
    assert row.next_attempt_at is None
    attempts = attempt_rows(settings, delivery_id)
    assert [a.status_code for a in attempts] == [500, 429, 204]
    assert [a.outcome for a in attempts] == ["retry", "retry", "delivered"]
    assert all(a.latency_ms is not None and a.url == webhook_receiver.url for a in attempts)

    assert deliver(settings, delivery_id) is None
    assert len(attempt_rows(settings, delivery_id)) == 3, "a re-run after delivery sends nothing"
    assert len(webhook_receiver.received) == 3


def test_retries_stop_at_the_end_of_the_schedule(tmp_path: Path, webhook_receiver: Receiver) -> None:
    settings = webhook_settings(tmp_path, webhook_retry_schedule="0")
    webhook_receiver.script += [(500, {}), (503, {})]
    _, pending = finished_task(settings, webhook_receiver.url)
    [delivery_id] = pending.delivery_ids
    deliver(settings, delivery_id)
    deliver(settings, delivery_id)
    row = delivery_row(settings, delivery_id)
    assert (row.status, row.failure_code, row.attempts, row.max_attempts) == (
        "failed",
        "retries_exhausted",
        2,
        2,
    )
    assert [a.outcome for a in attempt_rows(settings, delivery_id)] == ["retry", "failed"]


def test_410_disables_the_endpoint_and_later_events_are_recorded_not_sent(
    tmp_path: Path, webhook_receiver: Receiver
) -> None:
    settings = webhook_settings(tmp_path)
    webhook_receiver.script.append((410, {}))
    _, first = finished_task(settings, webhook_receiver.url)
    _, queued_before = finished_task(settings, webhook_receiver.url)
    deliver(settings, first.delivery_ids[0])
    row = delivery_row(settings, first.delivery_ids[0])
    assert (row.status, row.failure_code, row.last_status_code) == ("failed", "endpoint_gone", 410)
    with session_scope(settings.database_url) as session:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        assert endpoint is not None
        assert endpoint.disabled
        assert "410" in (endpoint.disabled_reason or "")

    assert deliver(settings, queued_before.delivery_ids[0]) is None
    assert delivery_row(settings, queued_before.delivery_ids[0]).status == "skipped"
    _, later = finished_task(settings, webhook_receiver.url)
    assert later.delivery_ids == [], "nothing to send to a disabled endpoint"
    with session_scope(settings.database_url) as session:
        statuses = session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)).all()
    assert statuses == ["failed", "skipped", "skipped"], "every event is still recorded"
    assert len(webhook_receiver.received) == 1


def test_a_target_refused_at_delivery_time_fails_at_once(tmp_path: Path, webhook_receiver: Receiver) -> None:
    accepted = webhook_settings(tmp_path)
    _, pending = finished_task(accepted, webhook_receiver.url)
    allowlist_removed = accepted.model_copy(update={"url_allowlist": ""})
    assert deliver(allowlist_removed, pending.delivery_ids[0]) is None
    row = delivery_row(accepted, pending.delivery_ids[0])
    assert (row.status, row.failure_code) == ("failed", "url_not_allowed")
    [attempt] = attempt_rows(accepted, pending.delivery_ids[0])
    assert attempt.status_code is None
    assert "private or reserved address" in (attempt.error or "")
    assert webhook_receiver.received == []


def test_without_a_signing_secret_nothing_is_sent_and_the_attempt_says_why(
    tmp_path: Path, webhook_receiver: Receiver
) -> None:
    settings = webhook_settings(tmp_path)
    _, pending = finished_task(settings, webhook_receiver.url)
    assert deliver(settings.model_copy(update={"webhook_secrets": ""}), pending.delivery_ids[0]) is not None
    [attempt] = attempt_rows(settings, pending.delivery_ids[0])
    assert attempt.outcome == "retry"
    assert "OCR_WEBHOOK_SECRETS" in (attempt.error or "")
    assert webhook_receiver.received == []


def test_a_claimed_delivery_is_held_until_its_lease_runs_out(tmp_path: Path) -> None:
    settings = webhook_settings(tmp_path)
    _, pending = finished_task(settings, "http://127.0.0.1:9/hook")
    now = utcnow()
    with session_scope(settings.database_url) as session:
        assert claim(session, pending.delivery_ids[0], now, lease_s=30) is not None
    with session_scope(settings.database_url) as session:
        assert claim(session, pending.delivery_ids[0], now, lease_s=30) is None
    with session_scope(settings.database_url) as session:
        later = now + timedelta(seconds=31)
        assert claim(session, pending.delivery_ids[0], later, lease_s=30) is not None


def test_an_occurrence_is_recorded_once_and_only_with_a_target(tmp_path: Path) -> None:
    settings = webhook_settings(tmp_path)
    task_id, pending = finished_task(settings, None)
    assert pending.delivery_ids == [], "no URL and no default: no event"
    with session_scope(settings.database_url) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.webhook_url = "http://127.0.0.1:9/hook"
        first = record_task_notification(session, settings, task)
        again = record_task_notification(session, settings, task)
    assert len(first.delivery_ids) == 1
    assert again.delivery_ids == []
    with session_scope(settings.database_url) as session:
        assert len(session.scalars(select(WebhookEvent)).all()) == 1


def test_the_default_url_receives_events_of_tasks_without_their_own(tmp_path: Path) -> None:
    settings = webhook_settings(tmp_path, webhook_default_url="http://127.0.0.1:9/default")
    _, pending = finished_task(settings, None)
    row = delivery_row(settings, pending.delivery_ids[0])
    with session_scope(settings.database_url) as session:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        assert endpoint is not None
        assert endpoint.url == "http://127.0.0.1:9/default"
