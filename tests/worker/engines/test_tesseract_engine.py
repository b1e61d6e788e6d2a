"""The CPU engine on real page images."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from shared.documents.inspect import Limits
from shared.options import TaskOptions
from worker.engines.base import EngineCanceled, PageRequest
from worker.engines.tesseract import TesseractEngine, paragraph_text
from worker.pipeline.render import render_pdf_page

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def engine() -> TesseractEngine:
    engine = TesseractEngine(instances=2)
    yield engine
    engine.close()


def test_paragraph_lines_are_joined_and_hyphenation_undone() -> None:
    assert paragraph_text("Language models are ubiqui-\ntous in both NLP\nresearch.\n\n") == (
        "Language models are ubiquitous in both NLP research."
    )
    assert paragraph_text("state-of-the-\nArt") == "state-of-the- Art"  # a capital keeps the hyphen


def _request(image: Image.Image, cancel: threading.Event | None = None) -> PageRequest:
    return PageRequest("tsk_test", 1, image, 144, TaskOptions(), cancel=cancel or threading.Event())


def test_a_rendered_pdf_page_yields_text_blocks_with_boxes_and_confidence(engine: TesseractEngine) -> None:
    page = render_pdf_page(str(DATA / "book-4p.pdf"), 2, 144, Limits(10, 80_000_000))
    deltas: list[str] = []
    request = _request(page.image)
    request.on_delta = deltas.append
    result = engine.recognize(request)
    texts = [b for b in result.blocks if b.type == "text"]
    assert len(texts) >= 3
    width, height = page.image.size
    for block in result.blocks:
        assert block.bbox is not None
        x1, y1, x2, y2 = block.bbox
        assert 0 <= x1 < x2 <= width
        assert 0 <= y1 < y2 <= height
        if block.type != "image":
            assert block.confidence is not None
            assert 0.3 < block.confidence <= 1.0
    assert deltas
    assert deltas[0].startswith(texts[0].text[:20])


def test_a_figure_region_that_reads_as_text_is_kept_as_text(engine: TesseractEngine) -> None:
    # Tesseract calls a formula fragment on page 4 an image; cropping it would cut "= 1," out
    page = render_pdf_page(str(DATA / "book-4p.pdf"), 4, 144, Limits(10, 80_000_000))
    blocks = engine.recognize(_request(page.image)).blocks
    assert not [b for b in blocks if b.type == "image"]
    assert any(b.text.replace(" ", "") == "=1," for b in blocks)


def test_image_regions_become_image_blocks(engine: TesseractEngine) -> None:
    # seeded uniform noise: a photo-like region Tesseract calls an image every time (Gaussian
    # `effect_noise`, unseeded, sometimes came out as no region at all)
    rng = random.Random(0)
    photo = Image.frombytes("L", (400, 300), bytes(rng.randrange(256) for _ in range(400 * 300))).convert(
        "RGB"
    )
    canvas = Image.new("RGB", (1200, 1600), "white")
    canvas.paste(photo, (400, 600))
    figures = [b for b in engine.recognize(_request(canvas)).blocks if b.type == "image"]
    assert figures
    assert all(b.bbox and min(b.bbox[2] - b.bbox[0], b.bbox[3] - b.bbox[1]) >= 24 for b in figures)


def test_a_blank_page_has_no_blocks(engine: TesseractEngine) -> None:
    assert engine.recognize(_request(Image.new("RGB", (800, 1000), "white"))).blocks == []


def test_a_canceled_request_is_not_run(engine: TesseractEngine) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(EngineCanceled):
        engine.recognize(_request(Image.new("RGB", (10, 10), "white"), cancel))


def test_concurrent_pages_each_get_their_own_text(engine: TesseractEngine) -> None:
    font = ImageFont.load_default(size=48)
    images = []
    for word in ("ALPHA", "BRAVO", "CHARLIE", "DELTA"):
        image = Image.new("RGB", (900, 300), "white")
        ImageDraw.Draw(image).text((50, 100), f"{word} SECTION", fill="black", font=font)
        images.append((word, image))
    results: dict[str, str] = {}

    def run(word: str, image: Image.Image) -> None:
        results[word] = " ".join(b.text for b in engine.recognize(_request(image)).blocks)

    threads = [threading.Thread(target=run, args=item) for item in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for word, _ in images:
        assert word in results[word]
