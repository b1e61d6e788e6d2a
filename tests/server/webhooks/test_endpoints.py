"""The delivery log API on the embedded stack (no worker): submit-time checks, the task.canceled
event of a queued task, owner isolation, redelivery and its errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import TaskStatus, WebhookDelivery, WebhookEndpoint
from shared.db.session import session_scope
from tests.fixtures.stack import Stack
from tests.fixtures.webhook_receiver import TEST_SECRET
from tests.shared.webhooks.factories import finished_task

HOOK = "http://127.0.0.1:9/hooks/ocr"


@pytest.fixture
def stack(embedded_stack: Stack) -> Stack:
    embedded_stack.settings.webhook_secrets = TEST_SECRET
    return embedded_stack


def submit(stack: Stack, webhook_url: str) -> tuple[int, dict[str, Any]]:
    response = stack.api.post(
        "/v1/tasks", json={"url": "http://127.0.0.1:9/doc.pdf", "webhook_url": webhook_url}
    )
    return response.status_code, response.json()


def test_a_webhook_url_is_refused_while_no_signing_secret_is_set(embedded_stack: Stack) -> None:
    status, answer = submit(embedded_stack, HOOK)
    assert status == 400
    assert answer["error"]["code"] == "webhooks_not_configured"
    assert "OCR_WEBHOOK_SECRETS" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://10.1.2.3/hook", "url_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "url_not_allowed"),
        ("http://[::1]:8080/hook", "url_not_allowed"),
        ("ftp://hooks.example.com/x", "invalid_url"),
        ("http://user:pw@127.0.0.1/hook", "invalid_url"),
    ],
)
def test_private_or_malformed_targets_are_refused_at_submit(stack: Stack, url: str, code: str) -> None:
    status, answer = submit(stack, url)
    assert status == 400
    assert answer["error"]["code"] == code


def test_a_private_target_is_refused_on_upload_too(stack: Stack) -> None:
    response = stack.api.post(
        "/v1/tasks/upload",
        files={"file": ("p.pdf", b"%PDF-1.4\n")},
        data={"webhook_url": "http://192.168.1.20/hook"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_not_allowed"


def test_canceling_a_queued_task_records_its_task_canceled_delivery(stack: Stack) -> None:
    status, task = submit(stack, HOOK)
    assert status == 202
    assert stack.api.post(f"/v1/tasks/{task['id']}/cancel").json()["status"] == "canceled"
    listing = stack.api.get(f"/v1/tasks/{task['id']}/webhook-deliveries").json()
    [delivery] = listing["data"]
    assert delivery["event_type"] == "task.canceled"
    assert (delivery["status"], delivery["url"], delivery["attempts"]) == ("pending", HOOK, [])
    assert delivery["payload"]["data"]["status"] == "canceled"
    assert delivery["payload"]["data"]["error"]["code"] == "canceled"
    assert delivery["id"].startswith("msg_")
    assert delivery["subject_id"] == task["id"]
    same = stack.api.get(f"/v1/webhook-deliveries/{delivery['id']}").json()
    assert same["id"] == delivery["id"]
    assert same["event_id"] == delivery["event_id"]


def test_another_owner_cannot_see_or_redeliver(stack: Stack) -> None:
    task_id, pending = finished_task(stack.settings, HOOK, owner="someone-else")
    [delivery_id] = pending.delivery_ids
    listing = stack.api.get(f"/v1/tasks/{task_id}/webhook-deliveries")
    assert listing.status_code == 404
    assert listing.json()["error"]["code"] == "task_not_found"
    for response in (
        stack.api.get(f"/v1/webhook-deliveries/{delivery_id}"),
        stack.api.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver"),
        stack.api.post("/v1/webhook-deliveries/not-an-id/redeliver"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "webhook_delivery_not_found"


def test_redelivery_makes_a_finished_delivery_due_with_one_more_attempt(stack: Stack) -> None:
    _, pending = finished_task(stack.settings, HOOK, status=TaskStatus.succeeded)
    [delivery_id] = pending.delivery_ids
    with session_scope(stack.settings.database_url) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        delivery.status, delivery.attempts, delivery.failure_code = "failed", 4, "endpoint_gone"
        delivery.next_attempt_at = None
        session.execute(update(WebhookEndpoint).values(disabled=True, disabled_reason="answered 410 Gone"))

    response = stack.api.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver")
    assert response.status_code == 202
    body = response.json()
    assert body["id"] == delivery_id, "the same webhook-id"
    assert (body["status"], body["attempt_count"], body["max_attempts"]) == ("pending", 4, 5)
    assert body["next_attempt_at"] is not None
    assert body["failure_code"] is None
    assert body["endpoint_disabled"] is False, "redelivery enables the endpoint again"


def test_redelivery_waits_for_an_attempt_under_way(stack: Stack) -> None:
    _, pending = finished_task(stack.settings, HOOK)
    [delivery_id] = pending.delivery_ids
    with session_scope(stack.settings.database_url) as session:
        session.execute(update(WebhookDelivery).values(locked_until=utcnow() + timedelta(seconds=30)))
    response = stack.api.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webhook_delivery_in_flight"
    assert response.headers["retry-after"] == "5"


def test_the_routes_and_their_errors_are_in_the_openapi_document(stack: Stack) -> None:
    paths = stack.api.get("/openapi.json").json()["paths"]
    listing = paths["/v1/tasks/{task_id}/webhook-deliveries"]["get"]["responses"]
    redeliver = paths["/v1/webhook-deliveries/{delivery_id}/redeliver"]["post"]["responses"]
    assert "200" in listing
    assert "404" in listing
    assert {"202", "404", "409"} <= set(redeliver)
    assert redeliver["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
