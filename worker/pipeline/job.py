"""One task from claim to terminal state.

Failures are classified once, here:
- a retryable OcrpError (storage or network hiccup) puts the task back in the queue with capped
  exponential backoff and jitter, until `task_max_attempts`;
- any other OcrpError (a corrupt PDF, a page range past the end...) fails the task at once with
  its public code;
- anything unexpected fails the task with `internal_error`; the traceback goes to the log only.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import TaskStatus
from shared.errors import OcrpError
from shared.events import Progress
from shared.logs import EventLogger, get_logger
from shared.options import TaskOptions
from shared.page_ranges import select_pages
from shared.storage import Storage
from worker.engines.base import Engine
from worker.pipeline.events import PipelineEvents
from worker.pipeline.pages import PageJob, PageOutcome, PageProcessor, Renderer
from worker.pipeline.render import release_document
from worker.pipeline.results import assemble_results
from worker.pipeline.runner import run_pages
from worker.pipeline.source import limits_of, materialize, scratch_dir
from worker.pipeline.store import TaskSnapshot, TaskStore
from worker.textlayer.route import TextLayerRouter

TerminalHook = Callable[[str, TaskStatus], None]
RetrySender = Callable[[str, str, float], None]  # (task id, queue, countdown seconds)
# (task id, queue) → result keys copied from an identical earlier task, or None to run it
Dedupe = Callable[[str, str], dict[str, Any] | None]


@dataclass
class WorkerContext:
    settings: Settings
    engine: Engine
    storage: Storage
    store: TaskStore
    render: Renderer
    worker_name: str
    send_retry: RetrySender
    on_terminal: list[TerminalHook] = field(default_factory=list)
    dedupe: Dedupe | None = None
    # live events for the task's watchers (SSE, /v1/ocr, chat completions)
    events: PipelineEvents = field(default_factory=PipelineEvents)
    # bounds the pages held across all tasks of the worker (None: only pages_in_flight per task)
    page_gate: threading.Semaphore | None = None
    on_close: list[Callable[[], None]] = field(default_factory=list)
    # set when the worker is asked to stop (SIGTERM): tasks start no more pages and hand back
    draining: threading.Event = field(default_factory=threading.Event)


def backoff_seconds(attempt: int, base: float = 5.0, cap: float = 300.0) -> float:
    """Capped exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** max(0, attempt - 1)))


class Heartbeat(threading.Thread):
    """Keeps the task's heartbeat fresh and turns a cancel request into the cancel event."""

    def __init__(self, ctx: WorkerContext, task_id: str, cancel: threading.Event) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{task_id[-6:]}")
        self.ctx, self.task_id, self.cancel = ctx, task_id, cancel
        self.stopped = threading.Event()
        self._abort_at: float | None = None

    def run(self) -> None:
        # the cancel flag is read every second (it decides how fast a cancel lands); the
        # heartbeat is written every task_heartbeat_s
        interval = min(1.0, self.ctx.settings.task_heartbeat_s)
        next_beat = 0.0
        while not self.stopped.wait(interval):
            next_beat -= interval
            try:
                if next_beat <= 0:
                    requested = self.ctx.store.heartbeat(self.task_id)
                    next_beat = self.ctx.settings.task_heartbeat_s
                else:
                    requested = self.ctx.store.cancel_requested(self.task_id)
            except Exception:  # the database blinked; the next round tries again
                get_logger(__name__).warning("task.heartbeat.failed", task_id=self.task_id)
                continue
            if requested and not self.cancel.is_set():
                self.cancel.set()
                self.ctx.engine.cancel(self.task_id)
            elif self.ctx.draining.is_set():
                self._drain()

    def _drain(self) -> None:
        """The worker is stopping: no new pages (_execute then hands the task back); pages still
        in the engine when the worker's grace is over are aborted, so that the task is handed
        back before the orchestrator kills the process."""
        now = time.monotonic()
        if not self.cancel.is_set():
            self.cancel.set()
            self._abort_at = now + self.ctx.settings.worker_shutdown_grace_s
        elif self._abort_at is not None and now >= self._abort_at:
            self._abort_at = None
            get_logger(__name__).info("task.engine.aborted", task_id=self.task_id, reason="worker_shutdown")
            self.ctx.engine.cancel(self.task_id)


def run_task(ctx: WorkerContext, task_id: str) -> None:
    log = get_logger(__name__, task_id=task_id)
    stale_before = utcnow() - timedelta(seconds=ctx.settings.task_stale_after_s)
    snapshot = ctx.store.claim(task_id, ctx.worker_name, stale_before)
    if snapshot is None:
        log.info("task.claim.skipped")
        return
    log.info("task.started", attempt=snapshot.attempts)
    ctx.events.running(task_id, snapshot.attempts)
    if snapshot.attempts > ctx.settings.task_max_attempts:
        _finish(
            ctx,
            log,
            task_id,
            TaskStatus.failed,
            code="max_attempts_exceeded",
            dead_letter=True,
            attempts=snapshot.attempts - 1,
        )
        return

    cancel = threading.Event()
    heartbeat = Heartbeat(ctx, task_id, cancel)
    heartbeat.start()
    try:
        _execute(ctx, log, snapshot, cancel)
    except OcrpError as exc:
        if exc.retryable and snapshot.attempts < ctx.settings.task_max_attempts:
            _requeue(ctx, log, snapshot, exc)
        else:
            _finish(
                ctx,
                log,
                task_id,
                TaskStatus.failed,
                code=exc.code,
                message=exc.message,
                dead_letter=exc.retryable,
            )
    except Exception:
        log.exception("task.crashed")
        _finish(
            ctx,
            log,
            task_id,
            TaskStatus.failed,
            code="internal_error",
            message=f"an internal error stopped the task; the worker logs have it under {task_id}",
        )
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)


def _execute(ctx: WorkerContext, log: EventLogger, snapshot: TaskSnapshot, cancel: threading.Event) -> None:
    settings = ctx.settings
    with scratch_dir() as workdir:
        local = materialize(snapshot, ctx.storage, settings, ctx.store, workdir)
        try:
            reused = ctx.dedupe(snapshot.id, snapshot.queue) if ctx.dedupe is not None else None
            if reused is not None:
                _finish(ctx, log, snapshot.id, TaskStatus.succeeded, result_keys=reused)
                return
            options = TaskOptions.model_validate(snapshot.options)
            numbers = select_pages(options.pages, local.page_count)
            already = ctx.store.init_pages(snapshot.id, numbers)
            if already:
                log.info("task.resumed", pages_done=len(already))
            ctx.events.pages_known(snapshot.id, numbers, len(already))
            job = PageJob(
                task_id=snapshot.id,
                path=local.path,
                is_pdf=local.type.is_pdf,
                dpi=options.dpi or settings.default_dpi,
                options=options,
                limits=limits_of(settings),
            )
            processor = PageProcessor(
                ctx.engine,
                ctx.storage,
                ctx.store,
                ctx.render,
                log,
                ctx.page_gate,
                router=TextLayerRouter(settings.default_strategy),
            )
            todo = [n for n in numbers if n not in already]
            run_pages(
                processor,
                job,
                todo,
                cancel,
                settings.pages_in_flight,
                ctx.events.delta_sink(snapshot.id),
                _page_announcer(ctx, snapshot.id),
            )
        finally:
            release_document(local.path)

        if cancel.is_set() and ctx.draining.is_set() and not ctx.store.cancel_requested(snapshot.id):
            _hand_back(ctx, log, snapshot)
            return
        if cancel.is_set():
            _finish(ctx, log, snapshot.id, TaskStatus.canceled)
            return
        rows = ctx.store.page_rows(snapshot.id)
        if not any(status == "succeeded" for _, status in rows):
            _finish(
                ctx,
                log,
                snapshot.id,
                TaskStatus.failed,
                code="all_pages_failed",
                message="no page could be processed; see the pages for each page's error",
            )
            return
        keys = assemble_results(
            ctx.storage,
            snapshot,
            numbers,
            engine=ctx.engine.info.name,
            model=ctx.engine.info.model,
            content_type=local.type.content_type,
            page_count=local.page_count,
        )
        _finish(ctx, log, snapshot.id, TaskStatus.succeeded, result_keys=keys)


def _requeue(ctx: WorkerContext, log: EventLogger, snapshot: TaskSnapshot, exc: OcrpError) -> None:
    delay = backoff_seconds(snapshot.attempts)
    reached = ctx.store.requeue(snapshot.id, delay, exc.code, exc.message)
    if reached == TaskStatus.canceled:  # its cancel was requested meanwhile: it ends here
        _announce_end(ctx, log, snapshot.id, TaskStatus.canceled, "canceled")
        return
    if reached is None:
        log.info("task.retry.skipped", code=exc.code)
        return
    # the cause (the backend's own text) is for operators; the public message stays generic
    cause = str(exc.__cause__)[:500] if exc.__cause__ else None
    log.warning("task.retry", code=exc.code, message=exc.message, cause=cause, delay_s=round(delay, 1))
    ctx.events.requeued(snapshot.id, exc.code, exc.message)
    ctx.send_retry(snapshot.id, snapshot.queue, delay)


def _hand_back(ctx: WorkerContext, log: EventLogger, snapshot: TaskSnapshot) -> None:
    """The worker is stopping: the pages in flight have finished (or been aborted, and are not
    recorded as failures); the rest are done by whichever worker claims the task next."""
    message = "the worker stopped; the task goes on from its last finished page"
    log.info("task.handed_back", reason="worker_shutdown")
    reached = ctx.store.requeue(snapshot.id, 0, "worker_shutdown", message, refund_attempt=True)
    if reached == TaskStatus.canceled:  # its cancel was requested meanwhile: it ends here
        _announce_end(ctx, log, snapshot.id, TaskStatus.canceled, "canceled")
        return
    if reached is None:
        return
    ctx.events.requeued(snapshot.id, "worker_shutdown", message)
    ctx.send_retry(snapshot.id, snapshot.queue, 0)


def _page_announcer(ctx: WorkerContext, task_id: str) -> Callable[[PageOutcome], None]:
    def announce(outcome: PageOutcome) -> None:
        done, total, failed, truncated = ctx.store.progress(task_id)
        ctx.events.page_done(task_id, outcome, Progress(done, total, failed, truncated))

    return announce


def _finish(
    ctx: WorkerContext,
    log: EventLogger,
    task_id: str,
    status: TaskStatus,
    *,
    code: str | None = None,
    message: str | None = None,
    result_keys: dict[str, object] | None = None,
    dead_letter: bool = False,
    attempts: int = 0,
) -> None:
    stored = ctx.store.finish(
        task_id,
        status,
        code=code,
        message=message,
        result_keys=result_keys,
        engine=ctx.engine.info.name,
        dead_letter=dead_letter,
        attempts=attempts,
    )
    if not stored:
        ctx.events.ended(task_id)
        log.info("task.finish.skipped", status=status)
        return
    _announce_end(ctx, log, task_id, status, code)


def _announce_end(
    ctx: WorkerContext, log: EventLogger, task_id: str, status: TaskStatus, code: str | None
) -> None:
    ctx.events.ended(task_id)
    log.info("task.finished", status=status, code=code)
    # hooks run only after the terminal state is committed: a webhook never announces a state
    # the database does not hold
    for hook in ctx.on_terminal:
        try:
            hook(task_id, status)
        except Exception:
            log.exception("task.hook.failed", hook=getattr(hook, "__name__", repr(hook)))
