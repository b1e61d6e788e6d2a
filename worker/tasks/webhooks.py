"""The `webhooks` queue: `webhooks.deliver` (one attempt of one delivery, a wake-up call carrying
its id) and `webhooks.sweep` (beat: re-sends due deliveries whose message was lost)."""

from __future__ import annotations

from functools import lru_cache

from shared.outbound.client import OutboundClient
from shared.queue import TASK_WEBHOOK_DELIVER, TASK_WEBHOOK_SWEEP, enqueue_webhook_delivery
from shared.storage import Storage, make_storage
from worker.app import app, settings
from worker.webhooks.delivery import deliver_once
from worker.webhooks.sender import make_client
from worker.webhooks.sweep import record_missed_task_notifications, sweep_deliveries


# one connection pool and one storage client per process, built on first use, so that a worker
# that only runs OCR never builds them
@lru_cache(maxsize=1)
def http_client() -> OutboundClient:
    return make_client(settings)


@lru_cache(maxsize=1)
def storage() -> Storage:
    return make_storage(settings)


@app.task(name=TASK_WEBHOOK_DELIVER, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(delivery_id: str) -> None:
    countdown = deliver_once(settings, storage(), http_client(), delivery_id)
    if countdown is not None:
        # if this send is lost, the sweep finds the delivery due and sends it
        enqueue_webhook_delivery(app, delivery_id, countdown)


@app.task(name=TASK_WEBHOOK_SWEEP, ignore_result=True)
def sweep() -> int:
    record_missed_task_notifications(settings, app)
    return sweep_deliveries(settings, app)
