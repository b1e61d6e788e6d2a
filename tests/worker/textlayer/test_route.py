"""The per-page decision on real PDFs made here: which pages skip the engine, and what they hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.textlayer.archive_pdfs import rasterised, report_with_table
from shared.documents.inspect import Limits
from shared.errors import DocumentError
from shared.options import TaskOptions
from worker.pipeline.render import release_document, render_pdf_page
from worker.textlayer.route import TextLayerPage, TextLayerRouter, ToEngine, crop_region

LIMITS = Limits(max_pages=100, max_image_pixels=80_000_000)


@pytest.fixture
def report(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(report_with_table())
    yield str(path)
    release_document(str(path))


@pytest.fixture
def scan(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "scan.pdf"
    path.write_bytes(rasterised(report_with_table(), dpi=72))
    yield str(path)
    release_document(str(path))


def test_auto_reads_a_born_digital_page_in_the_pixels_the_renderer_would_give(report: str) -> None:
    routed = TextLayerRouter("auto").route(report, True, 1, 100, LIMITS, TaskOptions())
    assert isinstance(routed, TextLayerPage)
    assert (routed.usable, routed.reason, routed.dpi) == (True, "text_layer_usable", 100)
    image = render_pdf_page(report, 1, 100, LIMITS).image
    assert (routed.width, routed.height) == image.size
    kinds = [b.type for b in routed.recognized.blocks]
    assert "table" in kinds
    assert "title" in kinds


def test_a_figure_is_cropped_from_its_region_alone(report: str) -> None:
    routed = TextLayerRouter("auto").route(report, True, 2, 144, LIMITS, TaskOptions())
    assert isinstance(routed, TextLayerPage)
    figure = next(b for b in routed.recognized.blocks if b.type == "image")
    assert figure.bbox is not None
    jpeg = crop_region(report, 2, 144, figure.bbox)
    assert jpeg[:2] == b"\xff\xd8"


def test_the_task_option_beats_the_default_and_scans_go_to_the_engine(report: str, scan: str) -> None:
    router = TextLayerRouter("auto")
    assert router.route(report, True, 1, 144, LIMITS, TaskOptions(strategy="ocr")) == ToEngine("strategy_ocr")
    assert router.route(scan, True, 1, 144, LIMITS, TaskOptions()) == ToEngine("no_text_layer")
    assert router.route(report, False, 1, 144, LIMITS, TaskOptions()) == ToEngine("image_document")
    assert TextLayerRouter("ocr").route(report, True, 1, 144, LIMITS, TaskOptions()) == ToEngine(
        "strategy_ocr"
    )


def test_text_never_goes_to_the_engine_and_flags_a_page_without_a_layer(scan: str) -> None:
    routed = TextLayerRouter("auto").route(scan, True, 1, 144, LIMITS, TaskOptions(strategy="text"))
    assert isinstance(routed, TextLayerPage)
    assert (routed.usable, routed.reason, routed.recognized.blocks) == (False, "no_text_layer", [])


def test_a_layer_that_cannot_be_read_goes_to_the_engine_under_auto_only(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really a pdf")
    router = TextLayerRouter("auto")
    assert router.route(str(broken), True, 1, 144, LIMITS, TaskOptions()) == ToEngine("text_layer_unreadable")
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever MuPDF raises reaches the page's failure handling
        router.route(str(broken), True, 1, 144, LIMITS, TaskOptions(strategy="text"))


def test_a_page_too_heavy_to_read_without_a_deadline_is_left_to_the_renderer(tmp_path: Path) -> None:
    import random

    import pymupdf

    rng = random.Random(7)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A page with a great many vector operations on it.")
    ops = "".join(
        f"{rng.uniform(0, 612):.3f} {rng.uniform(0, 792):.3f} m {rng.uniform(0, 612):.3f} {rng.uniform(0, 792):.3f} l S\n"
        for _ in range(60_000)
    )
    doc.update_stream(page.get_contents()[0], page.read_contents() + ops.encode())
    heavy = tmp_path / "heavy.pdf"
    doc.save(heavy, deflate=True)
    try:
        routed = TextLayerRouter("auto").route(str(heavy), True, 1, 144, LIMITS, TaskOptions())
        assert routed == ToEngine("page_too_complex")
        with pytest.raises(DocumentError) as refused:
            TextLayerRouter("text").route(str(heavy), True, 1, 144, LIMITS, TaskOptions())
        assert refused.value.code == "page_too_complex"
    finally:
        release_document(str(heavy))
