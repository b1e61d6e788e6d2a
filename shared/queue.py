"""The Celery app both sides share, its queues and the names of the tasks.

The API never imports worker code: it sends tasks by name. Messages carry ids only; the database
row is the truth and the broker is a wake-up call.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from shared.config import Settings

QUEUE_INTERACTIVE = "ocr.interactive"
QUEUE_BATCH = "ocr.batch"
QUEUE_WEBHOOKS = "webhooks"
QUEUE_MAINTENANCE = "maintenance"
OCR_QUEUES = (QUEUE_INTERACTIVE, QUEUE_BATCH)
ALL_QUEUES = (QUEUE_INTERACTIVE, QUEUE_BATCH, QUEUE_WEBHOOKS, QUEUE_MAINTENANCE)

TASK_PROCESS = "ocr.process"
TASK_SWEEP = "ocr.sweep"
TASK_RETENTION = "ocr.retention"
TASK_OPS_SAMPLE = "ops.sample"
TASK_WEBHOOK_DELIVER = "webhooks.deliver"
TASK_WEBHOOK_SWEEP = "webhooks.sweep"
TASK_BATCH_EXPAND = "ocr.batch.expand"
TASK_BATCH_WATCHDOG = "ocr.batch.watchdog"


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.embedded_broker:
        base = settings.broker_dir
        for sub in ("queue", "processed", "control"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(base / "queue"),
            "data_folder_out": str(base / "queue"),
            # Received messages are moved here. It must be on the same filesystem as the queue
            # folder so that the move is an atomic rename: two workers racing for one message
            # then see exactly one winner. The sweep prunes it.
            "store_processed": True,
            "processed_folder": str(base / "processed"),
            "control_folder": str(base / "control"),
            "polling_interval": 0.1,
        }
    return {
        "visibility_timeout": settings.broker_visibility_timeout_s,
        # serve queues in the order a worker lists them (interactive before batch) instead of
        # round robin, so backfills never starve interactive work
        "queue_order_strategy": "priority",
    }


def make_celery(settings: Settings) -> Celery:
    app = Celery("ocrp")
    broker_url = settings.broker_url
    if settings.embedded_broker:
        from shared.embedded_broker import SCHEME

        broker_url = f"{SCHEME}://"
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE_INTERACTIVE,
        task_create_missing_queues=True,
        task_routes={
            TASK_SWEEP: {"queue": QUEUE_MAINTENANCE},
            TASK_RETENTION: {"queue": QUEUE_MAINTENANCE},
            TASK_OPS_SAMPLE: {"queue": QUEUE_MAINTENANCE},
            TASK_WEBHOOK_DELIVER: {"queue": QUEUE_WEBHOOKS},
            # on the webhook queue: whoever delivers webhooks also repairs their schedule
            TASK_WEBHOOK_SWEEP: {"queue": QUEUE_WEBHOOKS},
            TASK_BATCH_EXPAND: {"queue": QUEUE_MAINTENANCE},
            TASK_BATCH_WATCHDOG: {"queue": QUEUE_MAINTENANCE},
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        beat_schedule={
            "sweep": {"task": TASK_SWEEP, "schedule": settings.sweep_interval_s},
            "retention": {"task": TASK_RETENTION, "schedule": settings.retention_interval_s},
            # queue depths for the dashboard's history; expires so that a backlog of samples
            # never piles up behind a stopped maintenance worker
            "ops-sample": {
                "task": TASK_OPS_SAMPLE,
                "schedule": settings.ops_sample_interval_s,
                "options": {"expires": settings.ops_sample_interval_s},
            },
            "webhooks-sweep": {"task": TASK_WEBHOOK_SWEEP, "schedule": settings.webhook_sweep_interval_s},
            "batch-watchdog": {"task": TASK_BATCH_WATCHDOG, "schedule": settings.sweep_interval_s},
        },
        timezone="UTC",
    )
    return app


def routed_queue(queue: str, mode: str, routed_modes: set[str]) -> str:
    """The queue a task of `mode` goes to: `ocr.batch.base` when Base has queues of its own
    (OCR_MODE_QUEUES), else the shared one. GPU workers serve one resolution mode each."""
    return f"{queue}.{mode}" if mode in routed_modes and queue in OCR_QUEUES else queue


def worker_queues(settings: Settings) -> list[str]:
    """Queues `ocrp worker` consumes: a GPU worker whose mode has queues of its own takes those;
    a CPU worker (any mode) takes the shared queues and every routed one."""
    queues = settings.queue_list
    routed = settings.routed_modes
    if not routed:
        return queues
    if settings.engine == "deepseek":
        return [routed_queue(q, str(settings.deepseek_mode), routed) for q in queues]
    extra = [f"{q}.{m}" for q in queues if q in OCR_QUEUES for m in sorted(routed)]
    return queues + extra


def is_ocr_queue(queue: str) -> bool:
    return queue in OCR_QUEUES or any(queue.startswith(f"{q}.") for q in OCR_QUEUES)


def enqueue_process(app: Celery, task_id: str, queue: str) -> None:
    app.send_task(TASK_PROCESS, args=[task_id], queue=queue)


def enqueue_webhook_delivery(app: Celery, delivery_id: str, countdown: float | None = None) -> None:
    app.send_task(TASK_WEBHOOK_DELIVER, args=[delivery_id], queue=QUEUE_WEBHOOKS, countdown=countdown)


def enqueue_expand(app: Celery, batch_id: str, token: str, countdown: float | None = None) -> None:
    """Wake the expander of a batch; `token` tells the live expansion chain from stale ones."""
    app.send_task(TASK_BATCH_EXPAND, args=[batch_id, token], queue=QUEUE_MAINTENANCE, countdown=countdown)


def queue_depth(app: Celery, queue: str) -> int | None:
    """Messages waiting in `queue` (not counting those a worker holds), or None if unknown."""
    try:
        with app.connection_for_read() as conn:
            try:
                declared = conn.default_channel.queue_declare(queue=queue, passive=True)
            except conn.channel_errors as exc:
                # Redis deletes a queue's list when its last message is taken (and a restarted
                # or flushed Redis has none): "no such queue" means nothing is waiting
                if _not_found(exc):
                    return 0
                raise
            return int(declared.message_count)
    except Exception:
        return None


def _not_found(exc: Exception) -> bool:
    return "NOT_FOUND" in str(exc) or getattr(exc, "reply_code", None) == 404
