"""Stopping never loses or repeats work: a signal in the middle of a task (Ctrl-C or SIGTERM to
`ocrp run`, SIGTERM to `ocrp worker` as Kubernetes and compose send it) stops the worker
within its grace; no page is recorded as failed, the task is not finished with pages missing,
and after a restart every page is done exactly once."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from tests.fixtures.documents import book_twice
from tests.fixtures.services import free_port, port_open
from tests.fixtures.stack import ProcessHandle, Stack

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"
PAGES = 8
STARTED = re.compile(r"started (\w+) \(pid (\d+)\)")


@pytest.fixture(scope="module")
def eight_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return book_twice(tmp_path_factory.mktemp("docs") / "eight.pdf", DATA / "book-4p.pdf")


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _group_members(leaders: list[int]) -> list[int]:
    """Processes whose process group one of `leaders` leads (each child has its own session)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) in leaders:  # pgrp
            members.append(int(stat.parent.name))
    return members


def _stop_mid_task(stack: Stack, process: ProcessHandle, task_id: str, sig: signal.Signals) -> dict[int, str]:
    """Signal once some pages are done; returns the pages finished when the process has exited."""
    stack.wait_task(task_id, until=lambda t: t["progress"]["pages_done"] >= 2)
    if sig == signal.SIGINT:
        os.killpg(process.proc.pid, sig)  # a terminal's Ctrl-C goes to the whole process group
    else:
        process.proc.send_signal(sig)  # kill, systemd, a container stop: the main process only
    assert process.proc.wait(timeout=60) == 0, process.log()[-3000:]
    pages = stack.pages(task_id)
    assert not [n for n, p in pages.items() if p["status"] == "failed"], f"a page was failed: {pages}"
    task = stack.api.get(f"/v1/tasks/{task_id}").json()
    finished = {n: p["finished_at"] for n, p in pages.items() if p["status"] == "succeeded"}
    if task["status"] == "succeeded":  # it finished within the grace: then with every page
        assert len(finished) == PAGES, task
    else:
        assert task["status"] == "queued", task
        assert len(finished) < PAGES
    return finished


def _assert_done_once(stack: Stack, task_id: str, finished_before: dict[int, str]) -> None:
    done = stack.wait_task(task_id, timeout=180)
    assert done["status"] == "succeeded", done
    pages = stack.pages(task_id)
    assert len(pages) == PAGES
    assert all(p["status"] == "succeeded" for p in pages.values()), pages
    assert {n: pages[n]["finished_at"] for n in finished_before} == finished_before, "a page ran twice"
    markdown = stack.api.get(f"/v1/tasks/{task_id}/result.md").text
    for number in range(1, PAGES + 1):
        assert markdown.count(f"<!-- page {number} -->") == 1


def _start_run(stack: Stack, port: int) -> ProcessHandle:
    env = stack.env
    env["OCR_PAGES_IN_FLIGHT"] = "1"
    env["OCR_WORKER_CONCURRENCY"] = "1"
    handle = stack._spawn(["run", "--port", str(port)], "run", env)
    handle.wait_for_log("Ctrl-C stops", timeout=120)
    return handle


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ocrp_run_stopped_mid_task_loses_and_repeats_nothing(
    embedded_stack: Stack, eight_pages: Path, sig: signal.Signals
) -> None:
    port = free_port()
    first = _start_run(embedded_stack, port)
    task_id = embedded_stack.submit_file(eight_pages)["id"]
    finished_before = _stop_mid_task(embedded_stack, first, task_id, sig)
    children = [int(pid) for _, pid in STARTED.findall(first.log())]
    assert len(children) == 2
    assert not any(_alive(pid) for pid in children), "a child of ocrp run outlived it"
    left = [pid for pid in _group_members(children) if _alive(pid)]
    assert not left, f"processes of the worker or the API (render, beat) outlived ocrp run: {left}"
    assert not port_open("127.0.0.1", port), "the API still holds the port"
    assert "page is damaged" not in first.log()

    _start_run(embedded_stack, port)
    _assert_done_once(embedded_stack, task_id, finished_before)


def test_a_worker_given_sigterm_mid_task_hands_the_rest_back(
    production_stack: Stack, eight_pages: Path
) -> None:
    stack = production_stack
    first = stack.start_worker(pages_in_flight=1, worker_concurrency=1)
    task_id = stack.submit_file(eight_pages)["id"]
    finished_before = _stop_mid_task(stack, first, task_id, signal.SIGTERM)
    assert len(finished_before) < PAGES, "the worker ran the whole task instead of handing it back"
    assert "task.handed_back" in first.log()

    stack.start_worker(pages_in_flight=1, worker_concurrency=1)
    _assert_done_once(stack, task_id, finished_before)
    # being handed back at a shutdown used none of the task's attempts
    assert stack.api.get(f"/v1/tasks/{task_id}").json()["attempts"] == 1
