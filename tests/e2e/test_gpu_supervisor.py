"""`ocrp worker --gpus all` with a stand-in engine (replay) on CPU: the device list comes from
CUDA_VISIBLE_DEVICES, as in a container that was given two GPUs."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.services import wait_for
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow
RAW = Path(__file__).parents[1] / "data" / "deepseek"
DATA = Path(__file__).parents[1] / "data"


def workers(stack: Stack) -> dict[str, dict[str, Any]]:
    """The latest heartbeat of each node (a killed child leaves its stale row beside the new)."""
    rows = sorted(stack.api.get("/v1/ops/stats").json()["workers"], key=lambda w: w["started_at"])
    return {w["node"].split("@")[0]: w for w in rows}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_one_worker_per_gpu_restarted_alone_and_stopped_together(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(RAW / "paper.txt", replay / "page.txt")
    env = embedded_stack.env
    env.update(
        CUDA_VISIBLE_DEVICES="0,1",
        OCR_ENGINE="replay",
        OCR_REPLAY_DIR=str(replay),
        OCR_WORKER_HEARTBEAT_S="0.5",
        OCR_WORKER_METRICS_PORT="0",
        OCR_WORKER_CONCURRENCY="1",
    )
    supervisor = embedded_stack._spawn(["worker", "--gpus", "all"], "supervisor", env)

    def both_up() -> bool:
        return {"replay-gpu0", "replay-gpu1"} <= set(workers(embedded_stack))

    wait_for(both_up, 120, "a worker heartbeat per GPU")
    before = workers(embedded_stack)
    assert before["replay-gpu0"]["pid"] != before["replay-gpu1"]["pid"]

    task = embedded_stack.submit_file(DATA / "book-4p.pdf")
    assert embedded_stack.wait_task(task["id"])["status"] == "succeeded"

    victim, survivor = before["replay-gpu0"]["pid"], before["replay-gpu1"]["pid"]
    os.kill(victim, signal.SIGKILL)

    def restarted() -> bool:
        now = workers(embedded_stack).get("replay-gpu0")
        return now is not None and now["pid"] != victim

    wait_for(restarted, 120, "gpu0's worker restarted")
    after = workers(embedded_stack)
    assert after["replay-gpu1"]["pid"] == survivor, "the other GPU's worker was restarted too"
    assert alive(survivor)

    supervisor.proc.send_signal(signal.SIGTERM)
    assert supervisor.proc.wait(timeout=60) == 0
    assert not alive(after["replay-gpu0"]["pid"])
    assert not alive(survivor)
    # clean shutdown: each child removed its heartbeat (the killed one left its stale row)
    assert {w["pid"] for w in workers(embedded_stack).values()} <= {victim}
    log = supervisor.log()
    assert "gpu0 exited" in log


def test_tasks_of_a_killed_gpu_worker_go_back_to_the_queue_and_finish_once(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    import pymupdf

    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(RAW / "paper.txt", replay / "page.txt")
    pdf = tmp_path / "forty.pdf"
    doc = pymupdf.open()
    for _ in range(10):
        doc.insert_pdf(pymupdf.open(DATA / "book-4p.pdf"))
    doc.save(pdf)
    env = embedded_stack.env
    env.update(
        CUDA_VISIBLE_DEVICES="0,1",
        OCR_ENGINE="replay",
        OCR_REPLAY_DIR=str(replay),
        OCR_WORKER_HEARTBEAT_S="0.5",
        OCR_WORKER_METRICS_PORT="0",
        OCR_WORKER_CONCURRENCY="1",
        OCR_PAGES_IN_FLIGHT="1",
    )
    supervisor = embedded_stack._spawn(["worker", "--gpus", "all", "--beat"], "supervisor", env)
    wait_for(lambda: {"replay-gpu0", "replay-gpu1"} <= set(workers(embedded_stack)), 120, "both GPUs")
    task_id = embedded_stack.submit_file(pdf)["id"]

    def busy() -> dict[str, Any] | None:
        return next((w for w in workers(embedded_stack).values() if w["tasks_in_flight"]), None)

    wait_for(lambda: busy() is not None, 60, "a GPU worker running the task")
    embedded_stack.wait_task(task_id, until=lambda t: t["progress"]["pages_done"] >= 2)
    holder = busy()
    assert holder is not None
    os.kill(holder["pid"], signal.SIGKILL)
    finished = {
        p["number"]: p["finished_at"]
        for p in embedded_stack.api.get(f"/v1/tasks/{task_id}/pages").json()["data"]
        if p["status"] == "succeeded"
    }
    assert len(finished) < 40, "the kill did not land mid-task"

    done = embedded_stack.wait_task(task_id, timeout=180)
    assert done["status"] == "succeeded", done
    pages = embedded_stack.api.get(f"/v1/tasks/{task_id}/pages").json()["data"]
    assert all(p["status"] == "succeeded" for p in pages)
    assert {p["number"]: p["finished_at"] for p in pages if p["number"] in finished} == finished
    supervisor.stop()
