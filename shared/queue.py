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
    app.conf.update(
        broker_url=settings.broker_url,
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
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        beat_schedule={
            "sweep": {"task": TASK_SWEEP, "schedule": settings.sweep_interval_s},
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


def queue_depth(app: Celery, queue: str) -> int | None:
    """Messages waiting in `queue` (not counting those a worker holds), or None if unknown."""
    try:
        with app.connection_for_read() as conn:
            declared = conn.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:
        return None
