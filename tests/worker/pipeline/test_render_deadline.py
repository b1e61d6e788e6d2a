"""Rendering with a deadline: a page that renders too long is killed with its child process and
fails with `page_render_timeout`; a renderer crash fails only its page; everything else renders
exactly as in the worker process."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf
import pytest

from shared.config import Settings
from shared.documents.inspect import Limits
from shared.errors import DocumentError, TransientError
from tests.documents import text_pdf
from tests.worker.pipeline.render_targets import (
    crash_on_page_two,
    interrupted_on_page_two,
    terminated_on_page_two,
)
from worker.pipeline.render import render_page
from worker.pipeline.render_deadline import TimedRenderer, make_renderer

LIMITS = Limits(max_pages=100, max_image_pixels=80_000_000)


def _pathological_pdf(path: Path, strokes: int = 60_000) -> Path:
    """Page 2 holds tens of thousands of vector strokes: seconds of MuPDF work at 144 dpi."""
    doc = pymupdf.open(stream=text_pdf(["plain first page", "busy page", "plain last page"]))
    rng = random.Random(7)
    ops = ["0.1 w"] + [
        f"{x:.1f} {y:.1f} m {x + 50:.1f} {y + 30:.1f} l S"
        for x, y in ((rng.uniform(0, 612), rng.uniform(0, 792)) for _ in range(strokes))
    ]
    doc.update_stream(doc[1].get_contents()[0], "\n".join(ops).encode())
    doc.save(path, deflate=True)
    return path


@pytest.fixture
def renderer() -> TimedRenderer:
    timed = TimedRenderer(timeout_s=0.5, processes=1)
    yield timed
    timed.close()


def test_pages_render_as_they_would_in_the_worker_process(renderer: TimedRenderer, data_dir: Path) -> None:
    pdf = str(data_dir / "book-4p.pdf")
    for number in (1, 4):
        in_child = renderer(pdf, True, number, 144, LIMITS)
        in_process = render_page(pdf, True, number, 144, LIMITS)
        assert in_child.image.size == in_process.image.size
        assert in_child.image.tobytes() == in_process.image.tobytes()
        assert in_child.dpi == 144


def test_a_page_past_the_deadline_is_killed_and_the_next_page_renders(
    renderer: TimedRenderer, tmp_path: Path
) -> None:
    pdf = str(_pathological_pdf(tmp_path / "busy.pdf"))
    assert renderer(pdf, True, 1, 144, LIMITS).image.size[0] > 0
    [child] = list(renderer._idle.queue)
    started = time.monotonic()
    with pytest.raises(DocumentError) as caught:
        renderer(pdf, True, 2, 144, LIMITS)
    assert caught.value.code == "page_render_timeout"
    assert time.monotonic() - started < 5
    assert not child.process.is_alive()  # MuPDF was stopped the only way it can be
    assert renderer(pdf, True, 3, 144, LIMITS).image.size[0] > 0  # a fresh child took over


def test_a_crashing_renderer_fails_only_its_page(tmp_path: Path) -> None:
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(text_pdf(["one", "two", "three"]))
    renderer = TimedRenderer(timeout_s=30, processes=1, target=crash_on_page_two)
    try:
        assert renderer(str(pdf), True, 1, 72, LIMITS).number == 1
        with pytest.raises(DocumentError) as caught:
            renderer(str(pdf), True, 2, 72, LIMITS)
        assert caught.value.code == "page_render_crashed"
        assert renderer(str(pdf), True, 3, 72, LIMITS).number == 3
    finally:
        renderer.close()


def test_a_render_process_stopped_by_a_signal_sends_the_task_back_instead_of_failing_the_page(
    tmp_path: Path,
) -> None:
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(text_pdf(["one", "two", "three"]))
    renderer = TimedRenderer(timeout_s=30, processes=1, target=terminated_on_page_two)
    try:
        with pytest.raises(TransientError) as caught:
            renderer(str(pdf), True, 2, 72, LIMITS)
        assert caught.value.code == "render_interrupted"
        assert caught.value.retryable  # the task is re-queued, the page is not a defect
        assert renderer(str(pdf), True, 3, 72, LIMITS).number == 3
    finally:
        renderer.close()


def test_a_ctrl_c_reaching_a_render_process_does_not_stop_its_page(tmp_path: Path) -> None:
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(text_pdf(["one", "two", "three"]))
    renderer = TimedRenderer(timeout_s=30, processes=1, target=interrupted_on_page_two)
    try:
        assert renderer(str(pdf), True, 2, 72, LIMITS).number == 2
    finally:
        renderer.close()


def test_a_refused_page_keeps_its_code(renderer: TimedRenderer, tmp_path: Path) -> None:
    pdf = tmp_path / "giant.pdf"
    pdf.write_bytes(text_pdf(["huge"], size=(14400, 14400)))
    with pytest.raises(DocumentError) as caught:
        renderer(str(pdf), True, 1, 144, Limits(max_pages=10, max_image_pixels=1_000_000))
    assert caught.value.code == "page_too_large"


def test_concurrent_pages_share_a_bounded_set_of_children(data_dir: Path) -> None:
    renderer = TimedRenderer(timeout_s=30, processes=2)
    try:
        pdf = str(data_dir / "book-4p.pdf")
        with ThreadPoolExecutor(4) as pool:
            pages = list(pool.map(lambda n: renderer(pdf, True, n, 72, LIMITS), [1, 2, 3, 4, 1, 2, 3, 4]))
        assert [p.number for p in pages] == [1, 2, 3, 4, 1, 2, 3, 4]
        assert renderer._started <= 2
    finally:
        renderer.close()


def test_the_worker_renders_in_children_unless_the_timeout_is_zero(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert isinstance(make_renderer(settings), TimedRenderer)
    assert make_renderer(settings.model_copy(update={"render_timeout_s": 0})) is render_page


def test_an_initializer_and_a_preparing_target_run_in_the_children(tmp_path: Path) -> None:
    # the shape of a render pool that also prepares engine inputs (render_pool.py)
    from shared.errors import TransientError
    from shared.options import Mode, TaskOptions
    from tests.worker.pipeline.render_targets import prepared_with_prefix, remember_prefix

    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(text_pdf(["one", "two", "three"]))
    renderer = TimedRenderer(
        timeout_s=30, processes=2, target=prepared_with_prefix, initializer=remember_prefix, initargs=("ds",)
    )
    try:
        renderer.warm_up()
        assert renderer._started == 2
        page = renderer(str(pdf), True, 1, 72, LIMITS, options=TaskOptions(mode=Mode.base))
        assert page.prepared == "ds:1:base"
        with pytest.raises(TransientError) as caught:  # the error keeps its class and code
            renderer(str(pdf), True, 3, 72, LIMITS)
        assert caught.value.code == "prepare_unavailable"
        assert renderer._started == 2  # a refusal is not a crash: the child stays
    finally:
        renderer.close()
