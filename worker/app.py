"""The worker's Celery app: the shared app with this process's tasks and its one engine.

`ocrp worker` runs it with the threads pool: every task thread of the process shares one engine
(one Tesseract pool, or one vLLM engine that batches pages of all tasks together).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery import signals

from shared.config import get_settings
from shared.logs import configure_logging, get_logger
from shared.queue import TASK_PROCESS, is_ocr_queue, make_celery, worker_queues
from shared.storage import make_storage
from worker.engines.base import Preparation
from worker.hooks import terminal_hooks
from worker.pipeline.job import WorkerContext
from worker.pipeline.render import render_page
from worker.pipeline.render_pool import RenderPool
from worker.pipeline.store import TaskStore

settings = get_settings()
app = make_celery(settings)
app.conf.include = ["worker.tasks.process", "worker.tasks.maintenance"]

_context: WorkerContext | None = None
_context_lock = threading.Lock()
log = get_logger(__name__)


def _send_retry(task_id: str, queue: str, countdown: float) -> None:
    app.send_task(TASK_PROCESS, args=[task_id], queue=queue, countdown=countdown)


def build_context() -> WorkerContext:
    from worker.engines.registry import load_engine

    engine = load_engine(settings)
    ctx = WorkerContext(
        settings=settings,
        engine=engine,
        storage=make_storage(settings),
        store=TaskStore(settings.database_url, settings.database_pool_size),
        render=render_page,
        worker_name=f"{socket.gethostname()}:{engine.info.name}",
        send_retry=_send_retry,
        on_terminal=terminal_hooks(settings, app),
    )
    preparation: Preparation | None = getattr(engine, "preparation", None)
    if preparation is not None:
        # render and prepare pages in processes, next to the engine, with a bound on the
        # pages the worker holds (images and prepared tensors) whatever the documents' size
        pool = RenderPool(preparation.processes, preparation.factory)
        pool.warm_up()
        ctx.render = pool
        ctx.on_close.append(pool.close)
        limit = settings.deepseek_max_pages_in_flight or settings.deepseek_max_num_seqs + 128
        ctx.page_gate = threading.BoundedSemaphore(limit)
        log.info("worker.render_pool.ready", processes=preparation.processes, pages_in_flight=limit)
    return ctx


def get_context() -> WorkerContext:
    global _context
    with _context_lock:
        if _context is None:
            _context = build_context()
            log.info(
                "worker.engine.ready", engine=_context.engine.info.name, model=_context.engine.info.model
            )
        return _context


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    configure_logging(settings.log_level, settings.log_format)


def serves_ocr(queues: list[str]) -> bool:
    """Workers that only deliver webhooks or run maintenance never load an OCR engine."""
    return any(is_ocr_queue(queue) for queue in queues)


@signals.worker_init.connect
def _load_engine(**_: Any) -> None:
    # load the engine before the first task arrives, so that a broken model fails the start
    if not serves_ocr(worker_queues(settings)):
        return
    try:
        get_context()
    except Exception:
        # Celery logs a failing signal handler and goes on to consume: the worker would then
        # take tasks it cannot run (seen with a GPU whose memory another process held). Exit
        # instead, before anything is consumed, so that a supervisor sees the failure.
        log.exception("worker.engine.failed", engine=settings.engine)
        logging.shutdown()
        os._exit(3)


@signals.worker_shutdown.connect
def _close_engine(**_: Any) -> None:
    if _context is not None:
        for close in _context.on_close:
            close()
        _context.engine.close()
