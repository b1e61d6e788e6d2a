"""Run the pages of one task with a bound on pages in flight, honouring cancellation between
pages (and inside the engine, for engines that can abort)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from worker.pipeline.pages import DeltaSink, PageJob, PageOutcome, PageProcessor


def run_pages(
    processor: PageProcessor,
    job: PageJob,
    numbers: list[int],
    cancel: threading.Event,
    in_flight: int,
    on_delta: DeltaSink | None = None,
    on_page: Callable[[PageOutcome], None] | None = None,
) -> list[PageOutcome]:
    """`on_page` hears of each finished page (not canceled ones) in this thread, as it ends."""
    outcomes: list[PageOutcome] = []
    pending = iter(numbers)
    running: set[Future[PageOutcome]] = set()
    with ThreadPoolExecutor(
        max_workers=max(1, in_flight), thread_name_prefix=f"page-{job.task_id[-6:]}"
    ) as pool:
        while True:
            while not cancel.is_set() and len(running) < in_flight:
                number = next(pending, None)
                if number is None:
                    break
                running.add(pool.submit(processor.process, job, number, cancel, on_delta))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                outcome = future.result()
                outcomes.append(outcome)
                if on_page is not None and not outcome.canceled:
                    on_page(outcome)
    return sorted(outcomes, key=lambda o: o.number)
