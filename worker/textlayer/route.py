"""The per-page decision the pipeline makes before rendering a page for the engine.

`TextLayerRouter.route` reads the page's text layer (PDF pages only) and either returns the
page built from it, or says why the page goes to the engine. With `strategy=text` a page is
built from its layer even when the layer is not usable; the page then says so
(`usable_text_layer: false`) rather than coming back silently empty.

The layer is read in the worker process by default, under the same lock as in-process
rendering: reading text does not rasterise anything, so it is fast (tens of pages a second;
a page with ruled tables costs a few tenths of a second in the table finder) and bounded in a
way rendering is not. It does run outside the render deadline, and reads of one worker process
take turns on the lock; `read` is where a process pool would plug in.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import pymupdf
from PIL import Image

from shared.documents.inspect import Limits
from shared.errors import DocumentError
from shared.logs import get_logger
from shared.options import Strategy, TaskOptions
from worker.layout.recognized import RecognizedPage
from worker.pipeline.render import fit_dpi, pdf_page
from worker.textlayer.extract import read_layer
from worker.textlayer.model import PageLayer
from worker.textlayer.reader import read_blocks
from worker.textlayer.usability import judge

TEXT_LAYER_ENGINE = "text_layer"
log = get_logger(__name__)


@dataclass(frozen=True)
class TextLayerPage:
    recognized: RecognizedPage
    width: int
    height: int
    dpi: int
    usable: bool
    reason: str
    read_ms: int


@dataclass(frozen=True)
class ToEngine:
    reason: str  # strategy_ocr, image_document, or the usability code that ruled the layer out


LayerReader = Callable[[str, int], PageLayer]  # (path, page number) → the page's layer


def read_pdf_layer(path: str, number: int) -> PageLayer:
    """In this process, under the MuPDF lock, from the cached open document."""
    with pdf_page(path, number) as page:
        return read_layer(page)


class TextLayerRouter:
    def __init__(
        self, default_strategy: Strategy | str = Strategy.auto, read: LayerReader = read_pdf_layer
    ) -> None:
        self.default_strategy = Strategy(default_strategy)
        # a pool of processes can stand in here (reads would then run in parallel and could
        # be given a deadline, like rendering); the in-process reader serialises on the lock
        self.read = read

    def strategy_of(self, options: TaskOptions) -> Strategy:
        return Strategy(options.strategy) if options.strategy else self.default_strategy

    def route(
        self, path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, options: TaskOptions
    ) -> TextLayerPage | ToEngine:
        strategy = self.strategy_of(options)
        if strategy == Strategy.ocr:
            return ToEngine("strategy_ocr")
        if not is_pdf:
            return ToEngine("image_document")
        started = time.perf_counter()
        try:
            layer = self.read(path, number)
        except Exception as exc:
            if strategy != Strategy.auto:
                raise
            # a layer that cannot be read is no reason to lose the page: the engine reads it
            if isinstance(exc, DocumentError) and exc.code == "page_too_complex":
                return ToEngine("page_too_complex")
            log.exception("text_layer.unreadable", page=number)
            return ToEngine("text_layer_unreadable")
        usability = judge(layer)
        if not usability.usable and strategy == Strategy.auto:
            return ToEngine(usability.reason)
        effective = fit_dpi(layer.width, layer.height, dpi, limits.max_image_pixels)
        scale = effective / 72.0
        blocks = read_blocks(layer, scale)
        return TextLayerPage(
            recognized=RecognizedPage(blocks=blocks),
            width=max(1, round(layer.width * scale)),
            height=max(1, round(layer.height * scale)),
            dpi=effective,
            usable=usability.usable,
            reason=usability.reason,
            read_ms=int((time.perf_counter() - started) * 1000),
        )


def crop_region(path: str, number: int, dpi: int, box: tuple[int, int, int, int], quality: int = 90) -> bytes:
    """A figure of a text-layer page as JPEG: only its region is rasterised, at the page's dpi."""
    scale = 72.0 / dpi
    clip = pymupdf.Rect(box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
    with pdf_page(path, number) as page:
        pixmap = page.get_pixmap(dpi=dpi, clip=clip, alpha=False, colorspace=pymupdf.csRGB)
        image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
