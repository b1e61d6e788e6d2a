"""Pages rendered, and engine inputs prepared, in a pool of processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shared.documents.inspect import Limits
from shared.errors import DocumentError
from shared.options import TaskOptions
from worker.pipeline.render_pool import RenderPool

DATA = Path(__file__).parents[2] / "data"
LIMITS = Limits(max_pages=2000, max_image_pixels=80_000_000)


def describe_factory() -> Callable[[Image.Image, TaskOptions], Any]:
    """Stands for an engine's preparation: built once per process, run for every page."""
    import os

    def describe(image: Image.Image, options: TaskOptions) -> dict[str, Any]:
        return {"size": image.size, "prompt": options.prompt_text(), "pid": os.getpid()}

    return describe


@pytest.fixture(scope="module")
def pool() -> Any:
    made = RenderPool(2, describe_factory)
    made.warm_up()
    yield made
    made.close()


def test_a_page_is_rendered_and_prepared_in_another_process(pool: RenderPool) -> None:
    import os

    page = pool(str(DATA / "book-4p.pdf"), True, 2, 72, LIMITS, options=TaskOptions(mode="base"))
    assert page.number == 2
    assert page.dpi == 72
    assert page.prepared["size"] == page.image.size
    assert page.prepared["prompt"] == TaskOptions().prompt_text()
    assert page.prepared["pid"] != os.getpid()
    assert page.render_ms >= 0


def test_failures_keep_their_public_code(pool: RenderPool) -> None:
    small = Limits(max_pages=2000, max_image_pixels=10_000)
    with pytest.raises(DocumentError) as caught:
        pool(str(DATA / "book-4p.pdf"), True, 1, 144, small, options=TaskOptions())
    assert caught.value.code == "page_too_large"


def test_pages_render_in_parallel(pool: RenderPool) -> None:
    results: list[int] = []

    def one(number: int) -> None:
        results.append(
            pool(str(DATA / "book-4p.pdf"), True, number, 100, LIMITS, options=TaskOptions()).number
        )

    threads = [threading.Thread(target=one, args=(n,)) for n in (1, 2, 3, 4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [1, 2, 3, 4]
    assert time.perf_counter() - started < 60


def test_plain_rendering_without_preparation() -> None:
    plain = RenderPool(1)
    try:
        page = plain(str(DATA / "olmo-page-1.pdf"), True, 1, 72, LIMITS, options=TaskOptions())
        assert page.prepared is None
        assert page.image.size[0] > 0
    finally:
        plain.close()


def test_a_page_past_the_deadline_fails_alone_and_the_pool_goes_on() -> None:
    slow = RenderPool(1, slow_factory, timeout_s=1.0)
    try:
        started = time.perf_counter()
        with pytest.raises(DocumentError) as caught:
            slow(str(DATA / "olmo-page-1.pdf"), True, 1, 72, LIMITS, options=TaskOptions(prompt="free_ocr"))
        assert caught.value.code == "page_render_timeout"
        assert time.perf_counter() - started < 30
        page = slow(str(DATA / "olmo-page-1.pdf"), True, 1, 72, LIMITS, options=TaskOptions())
        assert page.prepared == "quick"
    finally:
        slow.close()


def slow_factory() -> Callable[[Image.Image, TaskOptions], Any]:
    """A preparation that hangs for one prompt, as a pathological page would."""

    def prepare(image: Image.Image, options: TaskOptions) -> str:
        if options.prompt == "free_ocr":
            time.sleep(3600)
        return "quick"

    return prepare
