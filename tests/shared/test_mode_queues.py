"""Tasks of a resolution mode with queues of its own go there, and GPU workers of that mode
consume them (OCR_MODE_QUEUES)."""

from __future__ import annotations

from server.tasks.service import queue_for
from shared.config import Settings
from shared.options import TaskOptions
from shared.queue import QUEUE_BATCH, QUEUE_INTERACTIVE, is_ocr_queue, routed_queue, worker_queues


def test_without_mode_queues_everything_shares_the_queues() -> None:
    settings = Settings()
    assert queue_for(TaskOptions(mode="base"), settings) == QUEUE_INTERACTIVE
    assert worker_queues(Settings(engine="deepseek", deepseek_mode="base")) == [
        QUEUE_INTERACTIVE,
        QUEUE_BATCH,
    ]


def test_a_routed_mode_gets_its_own_queues() -> None:
    settings = Settings(mode_queues="base, large")
    assert queue_for(TaskOptions(mode="base"), settings) == "ocr.interactive.base"
    assert queue_for(TaskOptions(mode="base"), settings, QUEUE_BATCH) == "ocr.batch.base"
    assert queue_for(TaskOptions(mode="gundam"), settings) == QUEUE_INTERACTIVE
    assert routed_queue("webhooks", "base", {"base"}) == "webhooks"


def test_workers_consume_the_queues_of_their_mode() -> None:
    gpu_base = Settings(mode_queues="base", engine="deepseek", deepseek_mode="base")
    assert worker_queues(gpu_base) == ["ocr.interactive.base", "ocr.batch.base"]
    gpu_gundam = Settings(mode_queues="base", engine="deepseek", deepseek_mode="gundam")
    assert worker_queues(gpu_gundam) == [QUEUE_INTERACTIVE, QUEUE_BATCH]
    cpu = Settings(mode_queues="base")
    assert worker_queues(cpu) == [QUEUE_INTERACTIVE, QUEUE_BATCH, "ocr.interactive.base", "ocr.batch.base"]
    assert all(is_ocr_queue(q) for q in worker_queues(cpu))
    assert not is_ocr_queue("webhooks")
