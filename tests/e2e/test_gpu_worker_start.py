"""A worker whose engine cannot start exits at once instead of consuming tasks it cannot run
(the GPU worker's failure mode when another process holds the GPU's memory; here provoked on
the CPU engine with a Tesseract language that does not exist)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures.stack import Stack

DATA = Path(__file__).parent.parent / "data"


@pytest.mark.slow
def test_a_worker_whose_engine_fails_exits_before_consuming(embedded_stack: Stack) -> None:
    task = embedded_stack.submit_file(DATA / "olmo-page-1.pdf")
    worker = embedded_stack.start_worker(wait=False, tesseract_lang="xx_nonexistent")
    deadline = time.monotonic() + 90
    while worker.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert worker.proc.returncode == 3
    assert "worker.engine.failed" in worker.log()
    assert " ready." not in worker.log()
    # the task was not taken: it is still queued for a healthy worker
    assert embedded_stack.api.get(f"/v1/tasks/{task['id']}").json()["status"] == "queued"
