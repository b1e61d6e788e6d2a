"""Crashes lose and duplicate nothing.

- A worker killed with SIGKILL in the middle of a multi-page task: the task is taken up again
  (by the sweep on the embedded broker, by Redis redelivery in production), the pages finished
  before the crash are not processed again, and the task finishes exactly once.
- Redis restarted empty during a run: the running task finishes, and a task accepted while Redis
  was down is sent again from the database and finishes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.documents import book_twice
from tests.fixtures.services import S3Server, free_port, port_open, wait_for
from tests.fixtures.stack import ProcessHandle, Stack, build_stack, production_overrides

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"
PAGES = 8
VISIBILITY_TIMEOUT_S = 5


@pytest.fixture(scope="module")
def eight_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return book_twice(tmp_path_factory.mktemp("docs") / "eight.pdf", DATA / "book-4p.pdf")


def _kill_mid_task(stack: Stack, worker: ProcessHandle, task_id: str) -> dict[int, str]:
    """SIGKILL the worker once some (not all) pages are done; returns those pages' finish times."""
    stack.wait_task(task_id, until=lambda t: t["progress"]["pages_done"] >= 2)
    worker.kill()
    finished = {n: p["finished_at"] for n, p in stack.pages(task_id).items() if p["status"] == "succeeded"}
    assert 2 <= len(finished) < PAGES, f"the kill did not land mid-task: {finished}"
    assert stack.api.get(f"/v1/tasks/{task_id}").json()["status"] == "running"
    return finished


def _assert_finished_once(stack: Stack, task_id: str, finished_before: dict[int, str]) -> None:
    done = stack.wait_task(task_id, timeout=180)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    assert done["progress"]["pages_done"] == done["progress"]["pages_total"] == PAGES
    pages = stack.pages(task_id)
    assert all(p["status"] == "succeeded" for p in pages.values())
    # the pages checkpointed before the crash were skipped, not processed again
    assert {n: pages[n]["finished_at"] for n in finished_before} == finished_before
    markdown = stack.api.get(f"/v1/tasks/{task_id}/result.md").text
    for number in range(1, PAGES + 1):
        assert markdown.count(f"<!-- page {number} -->") == 1
    layout = stack.api.get(f"/v1/tasks/{task_id}/result.json").json()
    assert [p["number"] for p in layout["pages"]] == list(range(1, PAGES + 1))
    logs = "".join(p.log() for p in stack.processes)
    assert logs.count("task.finished") == 1, "the terminal state (and its hooks) happened once"
    assert "task.resumed" in logs


def test_a_worker_killed_mid_task_on_the_embedded_stack(embedded_stack: Stack, eight_pages: Path) -> None:
    first = embedded_stack.start_worker(pages_in_flight=1, worker_concurrency=1)
    task_id = embedded_stack.submit_file(eight_pages)["id"]
    finished_before = _kill_mid_task(embedded_stack, first, task_id)
    # the filesystem broker lost the message with the worker: the sweep finds the stale task
    embedded_stack.start_worker("--beat", pages_in_flight=1, worker_concurrency=1)
    _assert_finished_once(embedded_stack, task_id, finished_before)


@pytest.fixture
def redelivering_stack(
    tmp_path: Path, postgres_url: str, redis_url: str, s3_server: S3Server, s3_bucket: str
) -> Iterator[Stack]:
    """The production stack, with Redis handing unacknowledged messages out again after 5 s."""
    from sqlalchemy import text

    from shared.db.session import get_engine

    with get_engine(postgres_url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    overrides = production_overrides(postgres_url, redis_url, s3_server, s3_bucket)
    stack = build_stack(
        "redeliver", tmp_path, **{**overrides, "broker_visibility_timeout_s": VISIBILITY_TIMEOUT_S}
    )
    yield stack
    stack.close()


def test_a_worker_killed_mid_task_is_redelivered_by_redis(
    redelivering_stack: Stack, eight_pages: Path
) -> None:
    stack = redelivering_stack
    first = stack.start_worker(pages_in_flight=1, worker_concurrency=1)
    task_id = stack.submit_file(eight_pages)["id"]
    finished_before = _kill_mid_task(stack, first, task_id)
    # No beat, no sweep: the message comes back from Redis's unacknowledged set. A worker takes
    # back messages older than the visibility timeout when it starts (then only every ~100 s,
    # kombu's restore cycle), so the next worker starts once the message is old enough.
    started = datetime.fromisoformat(stack.api.get(f"/v1/tasks/{task_id}").json()["timings"]["started_at"])
    time.sleep(max(0.0, (started - datetime.now(UTC)).total_seconds() + VISIBILITY_TIMEOUT_S + 1))
    stack.start_worker(pages_in_flight=1, worker_concurrency=1, task_stale_after_s=2)
    _assert_finished_once(stack, task_id, finished_before)


class PrivateRedis:
    """A redis-server of this test alone, which it may kill and start again (empty)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen([*args, "--dir", str(self.base)], stdout=subprocess.DEVNULL)
        wait_for(lambda: port_open("127.0.0.1", self.port), 10, "private redis")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.kill()


def test_redis_restarted_empty_during_a_run_loses_nothing(
    tmp_path: Path, private_redis: PrivateRedis, eight_pages: Path
) -> None:
    stack = build_stack("redis-restart", tmp_path / "stack", broker_url=private_redis.url)
    try:
        worker = stack.start_worker("--beat", pages_in_flight=1, worker_concurrency=1)
        running = stack.submit_file(eight_pages)["id"]
        stack.wait_task(running, until=lambda t: t["progress"]["pages_done"] >= 1)

        private_redis.kill()
        accepted = stack.submit_file(DATA / "olmo-page-1.pdf")  # its wake-up call cannot be sent
        assert accepted["status"] == "queued"
        worker.wait_for_log("Connection to broker lost", timeout=60)
        private_redis.start()  # empty: every message it held is gone

        for task_id in (running, accepted["id"]):
            done = stack.wait_task(task_id, timeout=180)
            assert done["status"] == "succeeded", done
        assert stack.api.get(f"/v1/tasks/{running}").json()["progress"]["pages_done"] == PAGES
    finally:
        stack.close()
