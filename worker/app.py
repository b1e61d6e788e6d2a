"""The worker's Celery app: the shared app with this process's tasks and its one engine.

`ocrp worker` runs it with the threads pool: every task thread of the process shares one engine
(one Tesseract pool, or one vLLM engine that batches pages of all tasks together).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

from celery import signals

from shared.config import get_settings
from shared.events.terminal import process_publisher
from shared.logs import configure_logging, get_logger
from shared.metrics.pipeline import init_engine_series
from shared.queue import TASK_PROCESS, is_ocr_queue, make_celery, worker_queues
from shared.storage import make_storage
from worker import beat_guard
from worker.batches.dedupe import Deduper
from worker.engines.base import EngineInfo
from worker.hooks import terminal_hooks
from worker.ops.exporter import start_metrics_server
from worker.ops.liveness import InFlight, LivenessPublisher, WorkerIdentity
from worker.pipeline.events import PipelineEvents
from worker.pipeline.job import WorkerContext
from worker.pipeline.render import render_page
from worker.pipeline.render_deadline import TimedRenderer, make_renderer
from worker.pipeline.render_pool import RenderPool
from worker.pipeline.store import TaskStore

settings = get_settings()
app = make_celery(settings)
app.conf.include = [
    "worker.tasks.process",
    "worker.tasks.maintenance",
    "worker.tasks.ops",
    "worker.tasks.webhooks",
    "worker.tasks.batches",
]
app.conf.beat_scheduler = beat_guard.SCHEDULER  # one beat at a time, none outliving its worker

_context: WorkerContext | None = None
_context_lock = threading.Lock()
_in_flight = InFlight()
_liveness: LivenessPublisher | None = None
_metrics_port: int | None = None
log = get_logger(__name__)
READY_FILE_VARIABLE = "OCRP_READY_FILE"  # set by ocrp.supervisor for its children


def _send_retry(task_id: str, queue: str, countdown: float) -> None:
    app.send_task(TASK_PROCESS, args=[task_id], queue=queue, countdown=countdown)


def build_context() -> WorkerContext:
    from worker.engines.registry import load_engine, preparation_for

    # an engine that wants prepared inputs gets its render processes started first: they import
    # vLLM and load the tokenizer (~24 s) while the engine itself loads
    preparation = preparation_for(settings)
    pool = None
    if preparation is not None:
        timeout = settings.render_timeout_s if settings.render_timeout_s > 0 else None
        pool = RenderPool(preparation.processes, preparation.factory, timeout)
        pool.start_all()
    try:
        engine = load_engine(settings)
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    storage = make_storage(settings)
    ctx = WorkerContext(
        settings=settings,
        engine=engine,
        storage=storage,
        store=TaskStore(settings.database_url, settings.database_pool_size),
        render=render_page,
        worker_name=f"{socket.gethostname()}:{engine.info.name}",
        send_retry=_send_retry,
        on_terminal=terminal_hooks(settings, app),
        dedupe=Deduper(settings.database_url, storage),
        events=PipelineEvents(process_publisher(settings), settings.events_delta_interval_ms / 1000),
    )
    if pool is None or preparation is None:
        # pages rendered in killable child processes, with the OCR_RENDER_TIMEOUT_S deadline
        renderer = make_renderer(settings)
        ctx.render = renderer
        if isinstance(renderer, TimedRenderer):
            ctx.on_close.append(renderer.close)
    else:
        # render and prepare pages in processes, next to the engine, with a bound on the
        # pages the worker holds (images and prepared tensors) whatever the documents' size
        pool.wait_started()
        ctx.render = pool
        ctx.on_close.append(pool.close)
        # look-ahead: a whole batch beyond the one decoding is rendered, prepared and queued in
        # vLLM, so a finishing wave of pages is replaced at once instead of after its renders
        limit = settings.deepseek_max_pages_in_flight or 2 * settings.deepseek_max_num_seqs
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
    global _metrics_port
    _metrics_port = start_metrics_server(settings)
    # load the engine before the first task arrives, so that a broken model fails the start
    if not serves_ocr(worker_queues(settings)):
        return
    try:
        context = get_context()
    except Exception:
        # Celery logs a failing signal handler and goes on to consume: the worker would then
        # take tasks it cannot run (seen with a GPU whose memory another process held). Exit
        # instead, before anything is consumed, so that a supervisor sees the failure.
        log.exception("worker.engine.failed", engine=settings.engine)
        logging.shutdown()
        os._exit(3)
    init_engine_series(context.engine.info.name)


def _engine_info() -> EngineInfo | None:
    return _context.engine.info if _context is not None else None


@signals.worker_ready.connect
def _start_liveness(sender: Any = None, **_: Any) -> None:
    global _liveness
    node = str(getattr(sender, "hostname", None) or socket.gethostname())
    queues = sorted(app.amqp.queues.consume_from) or settings.queue_list
    identity = WorkerIdentity.of_this_process(node, settings, queues)
    _liveness = LivenessPublisher(settings, identity, _engine_info, _in_flight, _metrics_port)
    _liveness.start()
    log.info("worker.heartbeat.started", worker=identity.id, node=node, queues=",".join(queues))
    _tell_supervisor_ready()


def _tell_supervisor_ready() -> None:
    """Under `ocrp worker --gpus`, the next engine on this GPU starts once this one is loaded
    (ocrp.supervisor): two engines sizing their KV cache at once would miscount free memory."""
    ready_file = os.environ.get(READY_FILE_VARIABLE)
    if ready_file:
        Path(ready_file).write_text(str(os.getpid()))


@signals.task_prerun.connect
def _task_started(**_: Any) -> None:
    _in_flight.started()


@signals.task_postrun.connect
def _task_done(**_: Any) -> None:
    _in_flight.finished()


@signals.worker_shutting_down.connect
def _drain(**_: Any) -> None:
    """SIGTERM or Ctrl-C: running tasks finish their pages in flight, start no more and go back
    to the queue (worker.pipeline.job), within the supervisor's or orchestrator's grace."""
    log.info("worker.draining", tasks_in_flight=_in_flight.count)
    if _context is not None:
        _context.draining.set()


@signals.worker_shutdown.connect
def _close_engine(**_: Any) -> None:
    if _liveness is not None:
        _liveness.stop()
    if _context is not None:
        for close in _context.on_close:
            close()
        _context.engine.close()
