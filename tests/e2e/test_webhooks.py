"""Webhooks end to end with real worker processes and a real receiver (the docs' example):
signed deliveries with retries and Retry-After on the embedded stack, presigned URLs on
PostgreSQL + Redis + S3, a webhook worker killed mid-retry, 410 and redelivery over the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.db.models import TaskStatus
from shared.queue import enqueue_webhook_delivery
from shared.webhooks.signing import new_secret
from tests.fixtures.stack import ProcessHandle, Stack
from tests.fixtures.webhook_receiver import TEST_SECRET, Receiver
from tests.shared.webhooks.factories import finished_task

pytestmark = pytest.mark.slow

OCR_AND_WEBHOOKS = ("--queues", "ocr.interactive,webhooks")


def configure(stack: Stack, **values: Any) -> None:
    """Settings the API (same object) and every worker started afterwards (its env) will use."""
    values.setdefault("webhook_secrets", TEST_SECRET)
    for name, value in values.items():
        setattr(stack.settings, name, value)


def deliveries(stack: Stack, task_id: str) -> list[dict[str, Any]]:
    response = stack.api.get(f"/v1/tasks/{task_id}/webhook-deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def wait_delivery(stack: Stack, task_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = deliveries(stack, task_id)
        if found and found[0]["status"] == status:
            return found[0]
        time.sleep(0.2)
    logs = "\n".join(p.log()[-3000:] for p in stack.processes)
    raise TimeoutError(f"delivery of {task_id} not {status}: {found}\n{logs}")


def test_embedded_retries_a_signed_delivery_until_it_is_accepted(
    embedded_stack: Stack, webhook_receiver: Receiver, data_dir: Path
) -> None:
    stack = embedded_stack
    # rotation: the worker signs with a new secret and the old one; this receiver has the old one
    configure(stack, webhook_secrets=f"{new_secret()},{TEST_SECRET}", webhook_retry_schedule="0.5,0.5,0.5")
    webhook_receiver.script += [(500, {}), (429, {"retry-after": "2"})]
    stack.start_worker(*OCR_AND_WEBHOOKS)
    task = stack.submit_file(data_dir / "olmo-page-1.pdf", webhook_url=webhook_receiver.url)

    received = webhook_receiver.wait_for(3, timeout=120)
    assert webhook_receiver.rejected == 0, "every request verified with standardwebhooks"
    assert [r.answered for r in received] == [500, 429, 204]
    assert len({r.webhook_id for r in received}) == 1, "one webhook-id across retries"
    assert len(received[0].headers["webhook-signature"].split(" ")) == 2
    assert received[2].at - received[1].at >= 1.9, "Retry-After: 2 was honoured"
    event = received[2].event
    assert event["type"] == "task.succeeded"
    assert event["data"]["id"] == task["id"]
    assert event["data"]["status"] == "succeeded"
    assert event["data"]["pages"]["done"] == 1
    task_url = f"{stack.settings.public_url}/v1/tasks/{task['id']}"
    assert event["data"]["result"]["markdown"] == f"{task_url}/result.md"
    assert "presigned" not in event["data"], "local storage has no presigned URLs"
    assert webhook_receiver.handled == [event], "the example handled the event once"

    delivery = wait_delivery(stack, task["id"], "delivered")
    assert delivery["id"] == received[0].webhook_id
    assert delivery["attempt_count"] == 3
    attempts = delivery["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 429, 204]
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
    assert all(isinstance(a["latency_ms"], int) for a in attempts)


def test_production_stack_sends_presigned_result_urls(
    production_stack: Stack, webhook_receiver: Receiver, data_dir: Path
) -> None:
    stack = production_stack
    configure(stack)
    stack.start_worker(*OCR_AND_WEBHOOKS)
    task = stack.submit_file(data_dir / "olmo-page-1.pdf", webhook_url=webhook_receiver.url)

    [received] = webhook_receiver.wait_for(1, timeout=120)
    data = received.event["data"]
    assert received.answered == 204
    assert data["status"] == "succeeded"
    presigned = data["presigned"]
    assert set(presigned) == {"markdown", "layout", "expires_at"}
    markdown = httpx.get(presigned["markdown"], timeout=30)
    assert markdown.status_code == 200
    assert markdown.text == stack.api.get(f"/v1/tasks/{task['id']}/result.md").text
    assert httpx.get(presigned["layout"], timeout=30).json()["task_id"] == task["id"]
    assert wait_delivery(stack, task["id"], "delivered")["attempts"][0]["status_code"] == 204


def deliveries_received(worker: ProcessHandle) -> int:
    """`webhooks.deliver` messages the worker took, countdown messages included."""
    return sum("webhooks.deliver[" in line and "] received" in line for line in worker.log().splitlines())


def test_a_webhook_worker_killed_mid_retry_delivers_after_restart(
    embedded_stack: Stack, webhook_receiver: Receiver
) -> None:
    stack = embedded_stack
    configure(stack, webhook_retry_schedule="4", webhook_sweep_interval_s=1)
    webhook_receiver.script.append((500, {}))
    task_id, pending = finished_task(stack.settings, webhook_receiver.url, TaskStatus.failed)
    [delivery_id] = pending.delivery_ids
    enqueue_webhook_delivery(stack.api.app.state.celery, delivery_id)  # type: ignore[attr-defined]

    worker = stack.start_worker("--queues", "webhooks", "--beat")
    webhook_receiver.wait_for(1)
    # wait until the worker holds the 4 s countdown message of the retry, then kill it
    deadline = time.monotonic() + 30
    while deliveries_received(worker) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert deliveries_received(worker) == 2, worker.log()[-3000:]
    worker.kill()
    time.sleep(6)
    assert len(webhook_receiver.received) == 1, "the retry died with the worker"

    restarted = stack.start_worker("--queues", "webhooks", "--beat")
    received = webhook_receiver.wait_for(2, timeout=60)
    assert [r.answered for r in received] == [500, 204]
    assert received[0].webhook_id == received[1].webhook_id == delivery_id
    delivery = wait_delivery(stack, task_id, "delivered")
    assert delivery["attempt_count"] == 2
    assert "webhook.sweep.resent" in restarted.log(), "the sweep re-sent the lost retry"


def test_410_disables_the_endpoint_and_redelivery_over_the_api_reaches_it(
    embedded_stack: Stack, webhook_receiver: Receiver
) -> None:
    stack = embedded_stack
    configure(stack)
    webhook_receiver.script.append((410, {}))
    stack.start_worker("--queues", "webhooks")

    def cancel_new_task() -> str:
        body = {"url": "http://127.0.0.1:9/doc.pdf", "webhook_url": webhook_receiver.url}
        task_id = str(stack.api.post("/v1/tasks", json=body).json()["id"])
        assert stack.api.post(f"/v1/tasks/{task_id}/cancel").status_code == 200
        return task_id

    gone_task = cancel_new_task()
    gone = wait_delivery(stack, gone_task, "failed")
    assert (gone["failure_code"], gone["last_status_code"], gone["endpoint_disabled"]) == (
        "endpoint_gone",
        410,
        True,
    )
    skipped_task = cancel_new_task()
    skipped = deliveries(stack, skipped_task)[0]
    assert (skipped["status"], skipped["failure_code"]) == ("skipped", "endpoint_disabled")
    assert len(webhook_receiver.received) == 1, "nothing is sent to a disabled endpoint"

    for task_id, delivery in ((skipped_task, skipped), (gone_task, gone)):
        response = stack.api.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver")
        assert response.status_code == 202
        done = wait_delivery(stack, task_id, "delivered")
        assert done["endpoint_disabled"] is False
    received = webhook_receiver.wait_for(3)
    assert [r.answered for r in received] == [410, 204, 204]
    assert [r.webhook_id for r in received] == [gone["id"], skipped["id"], gone["id"]]
    assert [r.event["type"] for r in received] == ["task.canceled"] * 3
    assert [a["status_code"] for a in deliveries(stack, gone_task)[0]["attempts"]] == [410, 204]
