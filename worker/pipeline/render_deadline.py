"""Rendering with a deadline: pages are rendered in child processes that are killed when a page
takes longer than OCR_RENDER_TIMEOUT_S.

MuPDF cannot be interrupted from another thread, so a hostile or pathological page (millions of
vector operations, a decompression bomb inside a content stream) would hold a worker thread and
its memory forever. A child process can be killed. `TimedRenderer` is a `Renderer`
(`worker.pipeline.pages`): each call takes an idle child (started on demand, at most `processes`
of them, each serving one page at a time and keeping its own open-document cache), sends it the
page, and waits at most `timeout_s`. On the deadline that child alone is killed, the page fails
with `page_render_timeout`, and the next page gets a fresh child. A child that dies (a MuPDF
crash) fails only its page, with `page_render_crashed`. Errors keep their class and public code
across the process boundary.

`target` is what a child runs for a page (`render_page` by default); `initializer` runs once in
each child before its first page. A render pool that also prepares engine inputs
(`worker.pipeline.render_pool`) can therefore be one of these: its preparation factory as the
initializer, render + prepare as the target.

A child's reply travels through `worker.pipeline.handoff`: large tensors and images as files in
shared memory that the worker maps, so a prepared page's ~27 MB is not copied through the pipe.
`warm_up` starts every child at once and then waits for them all (each imports vLLM and loads a
tokenizer: ~24 s on a GPU host, which one after another made a 12-process pool take minutes).

Children are spawned, not forked: the worker process has threads (Celery's pool, heartbeats,
the engine), and forking a threaded process can copy a held lock into the child.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.config import Settings
from shared.documents.inspect import Limits
from shared.errors import DocumentError, OcrpError, TransientError
from shared.logs import get_logger
from worker.pipeline import handoff
from worker.pipeline.render import RenderedPage, render_page

if TYPE_CHECKING:
    from shared.options import TaskOptions

log = get_logger(__name__)
RenderTarget = Callable[..., RenderedPage]  # (path, is_pdf, number, dpi, limits, *, options)
START_TIMEOUT_S = 120.0


def _serve(
    conn: Connection,
    target: RenderTarget,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    spool: str | None = None,
) -> None:
    """The child's loop: one page per request, until the parent closes the pipe."""
    # a terminal's Ctrl-C reaches the whole process group: the worker decides when its render
    # processes end (after the pages in flight), or they would die mid-page
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)
    conn.send(("ready",))
    while True:
        try:
            args, options = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[Any, ...] = ("ok", target(*args, options=options))
        except OcrpError as exc:
            reply = ("refused", type(exc).__name__, exc.code, exc.message)
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}")
        conn.send_bytes(handoff.dumps(reply, spool))


class RenderChild:
    def __init__(
        self,
        context: SpawnContext,
        target: RenderTarget,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        spool: str | None = None,
        wait: bool = True,
    ) -> None:
        parent, child = context.Pipe()
        self.process: SpawnProcess = context.Process(
            target=_serve,
            args=(child, target, initializer, initargs, spool),
            daemon=True,
            name="ocrp-render",
        )
        self.process.start()
        child.close()
        self.conn = parent
        if wait:
            self.wait_ready(START_TIMEOUT_S)

    def wait_ready(self, timeout_s: float) -> None:
        """Until the child has run its initializer; kills it and raises if it cannot."""
        try:
            if not self.conn.poll(max(0.0, timeout_s)):
                raise TimeoutError
            self.conn.recv()
        except (TimeoutError, EOFError, OSError) as exc:
            self.kill()
            raise RuntimeError(f"a render process could not start ({type(exc).__name__})") from exc

    def call(self, request: tuple[Any, ...], timeout_s: float | None) -> tuple[Any, ...]:
        """The child's reply; TimeoutError past the deadline, EOFError if the child died."""
        self.conn.send(request)
        if not self.conn.poll(timeout_s):
            raise TimeoutError
        reply: tuple[Any, ...] = handoff.loads(self.conn.recv_bytes())
        return reply

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


def stopped_from_outside(exitcode: int | None) -> bool:
    """A render process ended by SIGTERM, SIGINT or SIGHUP was stopped by someone, while MuPDF
    crashing on a page shows as SIGSEGV, SIGABRT or SIGBUS (SIGKILL stays a crash: the kernel's
    OOM killer sends it to a page that inflated too far)."""
    return exitcode is not None and -exitcode in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class TimedRenderer:
    def __init__(
        self,
        timeout_s: float | None,
        processes: int,
        target: RenderTarget = render_page,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.timeout_s = timeout_s  # None: no deadline
        self.max_children = max(1, processes)
        self.target = target
        self.initializer, self.initargs = initializer, initargs
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.LifoQueue[RenderChild] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._spool = handoff.Spool()
        self._starting: list[RenderChild] = []  # spawned by start_all, not yet waited for

    def __call__(
        self,
        path: str,
        is_pdf: bool,
        number: int,
        dpi: int,
        limits: Limits,
        *,
        options: TaskOptions | None = None,
    ) -> RenderedPage:
        child = self._checkout()
        try:
            reply = child.call(((path, is_pdf, number, dpi, limits), options), self.timeout_s)
        except TimeoutError:
            self._discard(child)
            log.warning("render.timeout", page=number, timeout_s=self.timeout_s)
            raise DocumentError(
                f"page {number} took longer than {self.timeout_s:g} s to render; it is too complex",
                "page_render_timeout",
            ) from None
        except (EOFError, OSError):
            child.process.join(timeout=2)  # its exit code says who ended it
            exitcode = child.process.exitcode
            self._discard(child)
            if stopped_from_outside(exitcode):
                # shutdown or an operator, not the document: the task goes back to the queue
                log.warning("render.interrupted", page=number, exitcode=exitcode)
                raise TransientError(
                    f"the render process of page {number} was stopped; the task will be retried",
                    "render_interrupted",
                ) from None
            log.warning("render.crashed", page=number)
            raise DocumentError(
                f"rendering page {number} crashed the renderer; the page is damaged", "page_render_crashed"
            ) from None
        self._idle.put(child)
        return _unpack(reply)

    def warm_up(self) -> None:
        """Start every child now (and its initializer), all at once, instead of at the first
        pages; returns when all are ready."""
        self.start_all()
        self.wait_started()

    def start_all(self) -> None:
        """Spawn the missing children and return at once: their initializers (vLLM's import,
        the tokenizer) run while the caller does something else, such as starting the engine."""
        with self._lock:
            wanted = self.max_children - self._started - len(self._starting)
        for _ in range(max(0, wanted)):
            child = self._new_child(wait=False)
            with self._lock:
                self._starting.append(child)

    def wait_started(self) -> None:
        """Until every child of `start_all` is ready. One that cannot start raises; the ready
        ones are kept either way."""
        with self._lock:
            starting, self._starting = self._starting, []
            self._started += len(starting)
        deadline = time.monotonic() + START_TIMEOUT_S
        problem: BaseException | None = None
        for child in starting:
            try:
                child.wait_ready(deadline - time.monotonic())
            except RuntimeError as exc:
                problem = problem or exc
                with self._lock:
                    self._started -= 1
                continue
            self._idle.put(child)
        if problem is not None:
            raise problem

    def _new_child(self, wait: bool = True) -> RenderChild:
        spool = self._spool.folder()
        return RenderChild(self._context, self.target, self.initializer, self.initargs, spool, wait)

    def _checkout(self) -> RenderChild:
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                start = self._started < self.max_children
                if start:
                    self._started += 1
            if start:
                return self._start_child()
            # every child is busy; a discarded one frees a place, so look again now and then
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def _start_child(self) -> RenderChild:
        try:
            return self._new_child()
        except BaseException:
            with self._lock:
                self._started -= 1
            raise

    def _discard(self, child: RenderChild) -> None:
        child.kill()
        with self._lock:
            self._started -= 1

    def close(self) -> None:
        with self._lock:
            starting, self._starting = self._starting, []
        for child in starting:
            child.kill()
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                break
            self._discard(child)
        self._spool.close()


def _unpack(reply: tuple[Any, ...]) -> RenderedPage:
    if reply[0] == "ok":
        page: RenderedPage = reply[1]
        return page
    if reply[0] == "refused":
        _, kind, code, message = reply
        error_class = getattr(errors, kind, None)
        if not (isinstance(error_class, type) and issubclass(error_class, OcrpError)):
            error_class = DocumentError
        raise error_class(message, code)
    raise RuntimeError(reply[1])


def make_renderer(settings: Settings) -> Callable[..., RenderedPage]:
    """The CPU worker's renderer: in child processes with a deadline, unless the timeout is 0."""
    if settings.render_timeout_s <= 0:
        return render_page
    wanted = settings.worker_concurrency * settings.pages_in_flight
    return TimedRenderer(settings.render_timeout_s, min(wanted, os.cpu_count() or 1))
