"""Page images from documents: PDF pages rendered with PyMuPDF, image files opened safely
(EXIF orientation applied, converted to RGB, pixel count checked before decoding).

`render_page` is a plain function of a path, so it can run in this process (under a lock:
MuPDF is not thread-safe) or in a pool of processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pymupdf
from PIL import Image, ImageOps

from shared.documents.inspect import Limits, open_image, open_pdf
from shared.errors import DocumentError

if TYPE_CHECKING:
    from shared.options import TaskOptions

# below this a page would be unreadable anyway; better to fail it with a clear error
MIN_RENDER_DPI = 36
_mupdf_lock = threading.Lock()
# open PDFs by path, so a 2,000-page document is parsed once, not once a page
_open_pdfs: dict[str, pymupdf.Document] = {}
_MAX_OPEN = 16


@dataclass
class RenderedPage:
    number: int
    image: Image.Image
    dpi: int | None  # None for image documents
    render_ms: int  # rendering plus, in a render pool, the engine's input preparation
    prepared: Any = None  # the engine's inputs, when a render pool prepared them


def fit_dpi(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> int:
    """The highest dpi not above `dpi` at which the page stays within `max_pixels`."""
    pixels = (width_pt * dpi / 72.0) * (height_pt * dpi / 72.0)
    if pixels <= max_pixels:
        return dpi
    scale = math.sqrt(max_pixels / pixels)
    return max(1, int(dpi * scale))


def render_pdf_page(path: str, number: int, dpi: int, limits: Limits) -> RenderedPage:
    started = time.perf_counter()
    with _mupdf_lock:
        doc = _open_cached(path)
        page = doc.load_page(number - 1)
        try:
            rect = page.rect
            effective = fit_dpi(rect.width, rect.height, dpi, limits.max_image_pixels)
            if effective < MIN_RENDER_DPI:
                raise DocumentError(
                    f"page {number} is {rect.width:.0f}x{rect.height:.0f} pt, too large to render "
                    f"within {limits.max_image_pixels:,} pixels",
                    "page_too_large",
                )
            pixmap = page.get_pixmap(dpi=effective, alpha=False, colorspace="rgb")
            image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
        finally:
            del page
    return RenderedPage(number, image, effective, _ms_since(started))


@contextmanager
def pdf_page(path: str, number: int) -> Iterator[pymupdf.Page]:
    """A page of the cached document, held under the MuPDF lock (for the text-layer reader)."""
    with _mupdf_lock:
        page = _open_cached(path).load_page(number - 1)
        try:
            yield page
        finally:
            del page


def _open_cached(path: str) -> pymupdf.Document:
    doc = _open_pdfs.get(path)
    if doc is None:
        if len(_open_pdfs) >= _MAX_OPEN:
            _open_pdfs.pop(next(iter(_open_pdfs))).close()
        doc = _open_pdfs[path] = open_pdf(path)
    return doc


def release_document(path: str) -> None:
    """Close the cached PDF of a finished task."""
    with _mupdf_lock:
        doc = _open_pdfs.pop(path, None)
        if doc is not None:
            doc.close()


def render_image_page(path: str, number: int, limits: Limits) -> RenderedPage:
    started = time.perf_counter()
    source = open_image(path, limits)
    try:
        if number > 1:
            source.seek(number - 1)  # TIFF frames
        if source.size[0] * source.size[1] > limits.max_image_pixels:
            raise DocumentError(f"frame {number} exceeds the pixel limit", "image_too_large")
        oriented = ImageOps.exif_transpose(source)
        image = to_rgb(oriented)
        image.load()
    except DocumentError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise DocumentError(f"page {number} of the image cannot be decoded: {exc}", "image_corrupt") from exc
    finally:
        source.close()
    return RenderedPage(number, image, None, _ms_since(started))


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB on a white background: transparent regions must not turn black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def render_page(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: TaskOptions | None = None
) -> RenderedPage:
    """Render in this process. `options` matter only to pools that prepare engine inputs."""
    if is_pdf:
        return render_pdf_page(path, number, dpi, limits)
    return render_image_page(path, number, limits)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
