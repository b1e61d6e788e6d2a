"""The GPU engine on a real GPU (never in CI: marked `gpu`, skipped without CUDA, vLLM and a
model directory in OCR_TEST_DEEPSEEK_MODEL; random weights are fine, `load_format=dummy`).

Base mode on purpose: a mode switch that did not reach vLLM's engine-core process would make
the prompt's image-token count disagree with the model's and fail every page."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from shared.options import TaskOptions
from worker.engines.base import EngineCanceled, PageRequest

pytestmark = pytest.mark.gpu
MODEL = os.environ.get("OCR_TEST_DEEPSEEK_MODEL", "")


@pytest.fixture(scope="module")
def engine() -> Iterator[object]:
    if not MODEL:
        pytest.skip("OCR_TEST_DEEPSEEK_MODEL is not set")
    pytest.importorskip("vllm")
    from worker.engines.deepseek.config import DeepSeekConfig
    from worker.engines.deepseek.engine import DeepSeekEngine
    from worker.engines.deepseek.modes import mode_spec

    config = DeepSeekConfig(
        model_path=MODEL,
        spec=mode_spec("base"),
        load_format="dummy",
        gpu_memory_utilization=0.5,
        max_num_seqs=16,
        cudagraph_max_size=16,
        max_tokens=48,
        prepare_processes=1,
    )
    made = DeepSeekEngine(config)
    yield made
    made.close()


def page_image() -> Image.Image:
    image = Image.new("RGB", (1240, 1754), "white")
    ImageDraw.Draw(image).text((100, 100), "Invoice 2025 total 340.00 EUR", fill="black")
    return image


def test_pages_are_recognised_concurrently_and_stream(engine: object) -> None:
    engine.config = replace(engine.config, retry_ngram=None)  # type: ignore[attr-defined]
    deltas: dict[int, list[str]] = {0: [], 1: [], 2: []}
    results: dict[int, object] = {}

    def one(n: int) -> None:
        request = PageRequest(
            task_id="tsk_gpu",
            page=n + 1,
            image=page_image(),
            dpi=150,
            options=TaskOptions(mode="base"),
            on_delta=deltas[n].append if n else None,
        )
        results[n] = engine.recognize(request)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=one, args=(n,)) for n in deltas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 3
    for n, page in results.items():
        assert 0 < page.output_tokens <= 48  # type: ignore[attr-defined]
        assert page.truncated == (page.output_tokens == 48)  # type: ignore[attr-defined]
        if n:
            assert "".join(deltas[n]) == page.raw_text  # type: ignore[attr-defined]
            assert len(deltas[n]) > 1


def test_a_truncated_page_is_retried_with_stronger_ngram_settings(engine: object) -> None:
    from worker.engines.deepseek.config import DEFAULT_RETRY_NGRAM

    engine.config = replace(engine.config, retry_ngram=DEFAULT_RETRY_NGRAM)  # type: ignore[attr-defined]
    request = PageRequest(
        task_id="tsk_retry", page=1, image=page_image(), dpi=150, options=TaskOptions(mode="base")
    )
    page = engine.recognize(request)  # type: ignore[attr-defined]
    # random weights do not end a page within 48 tokens: the first decode hits max_tokens and
    # the page is decoded again; the second result is the one kept
    assert page.retried
    assert page.truncated == (page.output_tokens == 48)


def test_cancel_stops_a_page(engine: object) -> None:
    long = replace(engine.config, max_tokens=4000, ignore_eos=True)  # type: ignore[attr-defined]
    engine.config = long  # type: ignore[attr-defined]
    failure: list[BaseException] = []
    request = PageRequest(
        task_id="tsk_cancel", page=1, image=page_image(), dpi=150, options=TaskOptions(mode="base")
    )

    def run() -> None:
        try:
            engine.recognize(request)  # type: ignore[attr-defined]
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(3)
    started = time.perf_counter()
    engine.cancel("tsk_cancel")  # type: ignore[attr-defined]
    thread.join(timeout=30)
    assert failure
    assert isinstance(failure[0], EngineCanceled)
    assert time.perf_counter() - started < 10
