"""Files left after an API crash: kill -9 during an upload leaves its staging file (as big as
the upload) and, in local storage, a hidden partial file in the task's folder. The next API
start, and the workers' sweep, remove what is older than OCR_LEFTOVER_MAX_AGE_S, and nothing
younger."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pymupdf
import pytest
from celery import Celery

from shared.leftovers import STAGING_PREFIX
from tests.fixtures.services import free_port, port_open, wait_for
from tests.fixtures.stack import ProcessHandle, Stack

pytestmark = pytest.mark.slow
HOURS_AGO = time.time() - 2 * 3600


def big_pdf(path: Path, megabytes: int = 40) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "a page with a large attachment")
    doc.embfile_add("blob.bin", os.urandom(megabytes * 1024 * 1024))
    doc.save(path)
    return path


def start_api(stack: Stack, tmpdir: Path) -> tuple[ProcessHandle, str]:
    port = free_port()
    env = stack.env | {"TMPDIR": str(tmpdir), "OCR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    handle = stack._spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], "api", env)
    wait_for(lambda: port_open("127.0.0.1", port), 60, "uvicorn")
    return handle, f"http://127.0.0.1:{port}"


def staging_files(tmpdir: Path) -> list[Path]:
    return list(tmpdir.glob(f"{STAGING_PREFIX}*"))


def test_a_restarted_api_removes_what_a_killed_one_left(embedded_stack: Stack, tmp_path: Path) -> None:
    stack = embedded_stack
    tmpdir = tmp_path / "api-tmp"
    tmpdir.mkdir()
    document = big_pdf(tmp_path / "big.pdf")
    api, url = start_api(stack, tmpdir)

    def upload() -> None:
        try:
            with document.open("rb") as handle:
                httpx.post(
                    f"{url}/v1/tasks/upload",
                    files={"file": ("big.pdf", handle)},
                    headers={"Authorization": f"Bearer {stack.api_key}"},
                    timeout=60,
                )
        except httpx.HTTPError:
            pass  # the server is killed under it

    sender = threading.Thread(target=upload)
    sender.start()

    def being_written() -> bool:
        try:
            return any(path.stat().st_size > 0 for path in staging_files(tmpdir))
        except FileNotFoundError:  # finished between the listing and the look
            return False

    wait_for(being_written, 60, "the staging file", interval=0.002)
    os.killpg(api.proc.pid, signal.SIGKILL)  # kill -9, just after the upload came in
    api.proc.wait(10)
    sender.join(30)
    [left] = staging_files(tmpdir)
    assert left.stat().st_size > 0, "the crash left the staging file behind"

    # and a half-written object, as a kill during the copy into storage leaves it
    assert stack.settings.storage_dir is not None
    task_folder = stack.settings.storage_dir / "tasks" / "tsk_killed"
    task_folder.mkdir(parents=True)
    partial = task_folder / ".upload-x1y2z3"
    partial.write_bytes(b"half of a document")
    # an upload in flight right now, which must be left alone
    young = tmpdir / f"{STAGING_PREFIX}in-flight"
    young.write_bytes(b"being written")
    for path in (left, partial, task_folder):
        os.utime(path, (HOURS_AGO, HOURS_AGO))  # an hour passes

    start_api(stack, tmpdir)
    assert not left.exists()
    assert not partial.exists()
    assert not task_folder.exists()
    assert young.exists(), "a young staging file belongs to an upload in progress"


def test_the_worker_sweep_removes_old_leftovers(
    embedded_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.queue import make_celery
    from worker.maintenance.sweep import sweep

    settings = embedded_stack.settings
    tmpdir = tmp_path / "worker-tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    old = tmpdir / f"{STAGING_PREFIX}old"
    old.write_bytes(b"x" * 1000)
    assert settings.storage_dir is not None
    empty = settings.storage_dir / "tasks" / "tsk_empty"
    empty.mkdir(parents=True)
    for path in (old, empty):
        os.utime(path, (HOURS_AGO, HOURS_AGO))
    kept = settings.storage_dir / "tasks" / "tsk_live"
    kept.mkdir()
    (kept / "input.pdf").write_bytes(b"%PDF-1.4")

    app: Celery = make_celery(settings)
    counts = sweep(settings, app)
    assert counts["leftovers"] == 2
    assert not old.exists()
    assert not empty.exists()
    assert (kept / "input.pdf").exists()
