"""One page, start to finish: render → engine → layout page + crops + markdown → checkpoint.

A checkpoint (`pages/{n}.json` in storage) is written before the page row is marked done, so a
task resumed after a crash can skip finished pages and still assemble every page's result.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol

from shared.documents.inspect import Limits
from shared.errors import OcrpError
from shared.layout import LayoutPage, PageTimings
from shared.logs import EventLogger
from shared.metrics.pipeline import observe_page
from shared.options import TableFormat, TaskOptions
from shared.storage import Storage
from shared.storage.keys import image_key, page_checkpoint_key
from worker.engines.base import Engine, EngineCanceled, PageRequest
from worker.layout.blocks import PageSource, build_page, failed_page
from worker.layout.crops import crop_jpeg
from worker.layout.markdown import page_markdown
from worker.layout.tables import with_markdown_tables
from worker.pipeline.render import RenderedPage
from worker.pipeline.store import TaskStore
from worker.textlayer.route import TEXT_LAYER_ENGINE, TextLayerPage, TextLayerRouter, ToEngine, crop_region


class Renderer(Protocol):
    """Renders one page (and may prepare the engine's inputs for it, see render_pool.py)."""

    def __call__(
        self, path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: TaskOptions
    ) -> RenderedPage: ...


class DeltaSink(Protocol):
    """Where a task's text deltas go (`worker.pipeline.events`)."""

    def __call__(self, page: int, text: str) -> None: ...

    def watched(self) -> bool:
        """Whether anyone watches the task now: a page streams its text only then."""
        ...


@dataclass(frozen=True)
class PageJob:
    task_id: str
    path: str
    is_pdf: bool
    dpi: int
    options: TaskOptions
    limits: Limits


@dataclass(frozen=True)
class PageOutcome:
    number: int
    ok: bool
    canceled: bool = False
    truncated: bool = False
    error_code: str | None = None
    error_message: str | None = None


class PageProcessor:
    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        store: TaskStore,
        render: Renderer,
        log: EventLogger,
        gate: threading.Semaphore | None = None,
        router: TextLayerRouter | None = None,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.store = store
        self.render = render
        self.log = log
        # bounds the pages (images, prepared tensors) one worker holds across all its tasks
        self.gate = gate
        # decides, before rendering, which pages are read from their text layer (None: all OCR)
        self.router = router

    def process(
        self, job: PageJob, number: int, cancel: threading.Event, on_delta: DeltaSink | None = None
    ) -> PageOutcome:
        with self.gate or nullcontext():
            if cancel.is_set():
                return PageOutcome(number, ok=False, canceled=True)
            return self._process(job, number, cancel, on_delta)

    def _process(
        self, job: PageJob, number: int, cancel: threading.Event, on_delta: DeltaSink | None
    ) -> PageOutcome:
        timings = PageTimings()
        began = time.perf_counter()
        try:
            routed = self._route(job, number)
            if isinstance(routed, TextLayerPage):
                return self._text_layer_page(job, number, routed, on_delta, began)
            rendered = self.render(job.path, job.is_pdf, number, job.dpi, job.limits, options=job.options)
            timings.render_ms = rendered.render_ms
            started = time.perf_counter()
            request = PageRequest(
                task_id=job.task_id,
                page=number,
                image=rendered.image,
                dpi=rendered.dpi,
                options=job.options,
                on_delta=_page_sink(on_delta, number),
                cancel=cancel,
                prepared=rendered.prepared,
            )
            recognized = self.engine.recognize(request)
            timings.engine_ms = int((time.perf_counter() - started) * 1000)
        except EngineCanceled:
            return PageOutcome(number, ok=False, canceled=True)
        except OcrpError as exc:
            if exc.retryable:
                raise
            return self._fail(job, number, exc.code, exc.message, timings, began)
        except Exception as exc:  # one broken page must not sink the document
            self.log.exception("task.page.error", page=number)
            return self._fail(job, number, "page_failed", f"{type(exc).__name__}: {exc}", timings, began)

        width, height = rendered.image.size
        page, crops = build_page(
            number=number,
            width=width,
            height=height,
            dpi=rendered.dpi,
            engine=self.engine.info.name,
            recognized=recognized,
            timings=timings,
            source=PageSource("ocr", routed.reason),
        )
        for crop in crops:
            self.storage.put_bytes(
                image_key(job.task_id, crop.name), crop_jpeg(rendered.image, crop.bbox), "image/jpeg"
            )
        # pipe tables only in the markdown: layout.json keeps the engine's HTML
        tables = job.options.table_format == TableFormat.markdown
        markdown = page_markdown(with_markdown_tables(page) if tables else page)
        self._checkpoint(job.task_id, page, markdown, recognized.raw_text)
        self.store.page_succeeded(job.task_id, page)
        observe_page(
            self.engine.info.name,
            "succeeded",
            time.perf_counter() - began,
            render_ms=timings.render_ms,
            engine_ms=timings.engine_ms,
            output_tokens=recognized.output_tokens,
        )
        if page.truncated:
            self.log.warning("task.page.truncated", page=number, tokens=page.output_tokens)
        self.log.debug("task.page.done", page=number, blocks=len(page.blocks), **timings.model_dump())
        return PageOutcome(number, ok=True, truncated=page.truncated)

    def _route(self, job: PageJob, number: int) -> TextLayerPage | ToEngine:
        if self.router is None:
            return ToEngine("strategy_ocr")
        return self.router.route(job.path, job.is_pdf, number, job.dpi, job.limits, job.options)

    def _text_layer_page(
        self, job: PageJob, number: int, routed: TextLayerPage, on_delta: DeltaSink | None, began: float
    ) -> PageOutcome:
        """A page read from its text layer: it never reaches the engine, and is stored,
        checkpointed and announced like any other page."""
        timings = PageTimings(render_ms=routed.read_ms)
        page, crops = build_page(
            number=number,
            width=routed.width,
            height=routed.height,
            dpi=routed.dpi,
            engine=TEXT_LAYER_ENGINE,
            recognized=routed.recognized,
            timings=timings,
            source=PageSource("text_layer", routed.reason, routed.usable),
        )
        for crop in crops:
            jpeg = crop_region(job.path, number, routed.dpi, crop.bbox)
            self.storage.put_bytes(image_key(job.task_id, crop.name), jpeg, "image/jpeg")
        markdown = page_markdown(page)
        if on_delta is not None and markdown:
            on_delta(number, markdown)
        self._checkpoint(job.task_id, page, markdown)
        self.store.page_succeeded(job.task_id, page)
        observe_page(TEXT_LAYER_ENGINE, "succeeded", time.perf_counter() - began, render_ms=routed.read_ms)
        if not routed.usable:
            self.log.warning("task.page.text_layer_unusable", page=number, reason=routed.reason)
        return PageOutcome(number, ok=True)

    def _fail(
        self, job: PageJob, number: int, code: str, message: str, timings: PageTimings, began: float
    ) -> PageOutcome:
        page = failed_page(
            number=number,
            width=0,
            height=0,
            dpi=None,
            engine=self.engine.info.name,
            code=code,
            message=message,
            timings=timings,
        )
        self._checkpoint(job.task_id, page, "")
        self.store.page_failed(job.task_id, number, code, message)
        observe_page(
            self.engine.info.name,
            "failed",
            time.perf_counter() - began,
            render_ms=timings.render_ms,
            engine_ms=timings.engine_ms,
        )
        self.log.warning("task.page.failed", page=number, code=code, message=message)
        return PageOutcome(number, ok=False, error_code=code, error_message=message)

    def _checkpoint(self, task_id: str, page: LayoutPage, markdown: str, raw: str | None = None) -> None:
        # the engine's raw output is kept beside the page: `ocrp postprocess` and the replay
        # engine can replay it, and it explains a surprising result without a GPU
        payload = {"page": page.model_dump(mode="json"), "markdown": markdown, "raw": raw}
        self.storage.put_bytes(
            page_checkpoint_key(task_id, page.number),
            json.dumps(payload, ensure_ascii=False).encode(),
            "application/json",
        )


def _page_sink(sink: DeltaSink | None, number: int) -> Callable[[str], None] | None:
    """The page's delta callback, or None when nobody watches (the engine then streams nothing)."""
    if sink is None or not sink.watched():
        return None
    return lambda text: sink(number, text)


def load_checkpoint(storage: Storage, task_id: str, number: int) -> tuple[LayoutPage, str]:
    data = json.loads(storage.get_bytes(page_checkpoint_key(task_id, number)))
    return LayoutPage.model_validate(data["page"]), str(data["markdown"])
