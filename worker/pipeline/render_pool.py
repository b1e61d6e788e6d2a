"""Render pages, and prepare the engine's inputs, in a pool of processes, with the render
deadline.

In the worker process, PyMuPDF renders under one lock and vLLM's frontend preprocesses
DeepSeek-OCR images on one thread: both would sit on the GPU engine's critical path. Here each
page is rendered and, when the engine asks (`Engine.preparation`), turned into engine inputs in
one of N child processes, while the engine decodes earlier pages. The pool is a `Renderer`: page
threads call it and block until their page is ready.

It is a `TimedRenderer` (`worker.pipeline.render_deadline`): a page that takes longer than
OCR_RENDER_TIMEOUT_S has its child killed and fails alone with `page_render_timeout`, a child
that crashes fails only its page, and errors keep their public code across the process boundary.
A hostile PDF can therefore never hold a GPU worker's page slot forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.documents.inspect import Limits
from worker.pipeline.render import RenderedPage, render_page
from worker.pipeline.render_deadline import TimedRenderer

if TYPE_CHECKING:
    from PIL import Image

    from shared.options import TaskOptions

PrepareFactory = Callable[[], Callable[["Image.Image", "TaskOptions"], Any]]

# set once in each child process by _start
_prepare: Callable[[Image.Image, TaskOptions], Any] | None = None


def _start(factory: PrepareFactory | None) -> None:
    global _prepare
    _prepare = factory() if factory is not None else None


def render_and_prepare(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: TaskOptions | None = None
) -> RenderedPage:
    """What a child runs for a page: render it, then prepare the engine's inputs from it."""
    started = time.perf_counter()
    page = render_page(path, is_pdf, number, dpi, limits)
    if _prepare is not None and options is not None:
        page.prepared = _prepare(page.image, options)
    page.render_ms = int((time.perf_counter() - started) * 1000)
    return page


class RenderPool(TimedRenderer):
    def __init__(
        self, processes: int, prepare: PrepareFactory | None = None, timeout_s: float | None = None
    ) -> None:
        super().__init__(
            timeout_s, processes, target=render_and_prepare, initializer=_start, initargs=(prepare,)
        )
