"""Render pages, and prepare the engine's inputs, in a pool of processes.

In the worker process, PyMuPDF renders under one lock and vLLM's frontend preprocesses
DeepSeek-OCR images on one thread: both would sit on the GPU engine's critical path. Here each
page is rendered and, when the engine asks (`Engine.preparation`), turned into engine inputs in
one of N processes, while the engine decodes earlier pages. The pool is a `Renderer`: page
threads call it and block until their page is ready.

Failures keep their public code across the process boundary (an exception's pickle would drop
it); a pool whose process died is replaced, and the pages it held are retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from shared.documents.inspect import Limits
from shared.errors import OcrpError, TransientError
from shared.logs import get_logger
from worker.pipeline.render import RenderedPage, render_page

if TYPE_CHECKING:
    from PIL import Image

    from shared.options import TaskOptions

PrepareFactory = Callable[[], Callable[["Image.Image", "TaskOptions"], Any]]
log = get_logger(__name__)

# set once in each pool process by _start
_prepare: Callable[[Image.Image, TaskOptions], Any] | None = None


@dataclass(frozen=True)
class _Failure:
    kind: type[OcrpError]
    message: str
    code: str


def _start(factory: PrepareFactory | None) -> None:
    global _prepare
    _prepare = factory() if factory is not None else None


def _ready() -> bool:
    return True


def _render(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, options: TaskOptions
) -> RenderedPage | _Failure:
    started = time.perf_counter()
    try:
        page = render_page(path, is_pdf, number, dpi, limits)
        if _prepare is not None:
            page.prepared = _prepare(page.image, options)
    except OcrpError as exc:
        return _Failure(type(exc), exc.message, exc.code)
    page.render_ms = int((time.perf_counter() - started) * 1000)
    return page


class RenderPool:
    def __init__(self, processes: int, prepare: PrepareFactory | None = None) -> None:
        self.processes = max(1, processes)
        self._prepare = prepare
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: the worker process holds threads, sockets and vLLM's frontend; a fork of it
        # would inherit all of that
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=get_context("spawn"),
            initializer=_start,
            initargs=(self._prepare,),
        )

    def warm_up(self) -> None:
        """Start every process (and its preparation, which may import vLLM) now."""
        futures = [self._pool.submit(_ready) for _ in range(self.processes * 2)]
        for future in futures:
            future.result()

    def __call__(
        self, path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: TaskOptions
    ) -> RenderedPage:
        pool = self._pool
        try:
            result = pool.submit(_render, path, is_pdf, number, dpi, limits, options).result()
        except BrokenProcessPool as exc:
            self._replace(pool)
            raise TransientError(
                f"the render process handling page {number} died ({exc}); the page is retried",
                "render_process_died",
            ) from exc
        if isinstance(result, _Failure):
            raise result.kind(result.message, result.code)
        return result

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                log.error("worker.render_pool.broken", processes=self.processes)
                self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
