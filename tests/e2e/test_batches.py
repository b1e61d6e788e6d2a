"""Backfills end to end with real worker processes: an S3 prefix of 300 PDFs through a killed
and restarted expander, interactive work overtaking a backlog, an archive with unsafe members
and dedupe through the CLI, and retry of failed URLs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db.models import BatchItem, Task
from shared.db.session import session_scope
from tests.fixtures.documents import tiny_pdf, zip_bytes, zip_symlink
from tests.fixtures.services import S3Server
from tests.fixtures.stack import REPO, Stack

pytestmark = pytest.mark.slow
FINISHED = {"completed", "failed", "canceled"}
# expansion settings for the worker that runs it: small pages, quick re-arming, a short watchdog
EXPANDER = {
    "batch_list_page_size": 40,
    "batch_max_in_flight": 24,
    "batch_expand_interval_s": 0.3,
    "batch_stalled_after_s": 4,
}


def wait_batch(stack: Stack, batch_id: str, timeout: float = 240, until: Any = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    batch: dict[str, Any] = {}
    while time.monotonic() < deadline:
        batch = stack.api.get(f"/v1/batches/{batch_id}").json()
        if until(batch) if until else batch["status"] in FINISHED:
            return batch
        time.sleep(0.3)
    logs = "\n".join(p.log()[-2500:] for p in stack.processes)
    raise TimeoutError(f"batch {batch_id} stuck: {batch}\n--- logs ---\n{logs}")


def manifest(stack: Stack, batch_id: str) -> list[dict[str, Any]]:
    response = stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl")
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_an_s3_prefix_of_300_pdfs_completes_after_its_expander_is_killed(
    production_stack: Stack, s3_server: S3Server, s3_bucket: str
) -> None:
    stack = production_stack
    client = s3_server.client()
    out_bucket = f"out-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=out_bucket)
    keys = [f"scans/{i % 7}/doc-{i:03d}.pdf" for i in range(300)]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda k: client.put_object(Bucket=s3_bucket, Key=k, Body=tiny_pdf(f"Letter {k[-7:-4]}")),
                keys,
            )
        )
    client.put_object(Bucket=s3_bucket, Key="scans/notes.txt", Body=b"left out by the glob")

    stack.start_worker(worker_queues="ocr.interactive,ocr.batch", worker_concurrency=3)
    expander = stack.start_worker("--beat", worker_queues="maintenance", **EXPANDER)
    response = stack.api.post(
        "/v1/batches",
        json={
            "s3_prefix": f"s3://{s3_bucket}/scans/",
            "glob": "*.pdf",
            "output_prefix": f"s3://{out_bucket}/ocr",
            "dpi": 72,
        },
    )
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]

    wait_batch(stack, batch_id, until=lambda b: b["counts"]["succeeded"] >= 60)
    expander.kill()  # SIGKILL mid-expansion: its in-flight message and re-arm are lost
    stalled = stack.api.get(f"/v1/batches/{batch_id}").json()
    assert stalled["status"] == "expanding"
    restarted = stack.start_worker("--beat", worker_queues="maintenance", **EXPANDER)
    batch = wait_batch(stack, batch_id)
    assert "batch.rearmed" in restarted.log()  # the watchdog picked the batch up again

    assert batch["status"] == "completed", batch
    assert batch["counts"]["succeeded"] == 300
    assert batch["source"]["total"] == 300
    assert batch["progress"]["pages_done"] == 300
    lines = manifest(stack, batch_id)
    assert sorted(line["source"] for line in lines) == sorted(f"s3://{s3_bucket}/{k}" for k in keys)
    assert {line["status"] for line in lines} == {"succeeded"}
    assert len({line["task_id"] for line in lines}) == 300
    with session_scope(stack.settings.database_url) as session:
        assert session.scalar(select(func.count()).where(Task.batch_id == batch_id)) == 300
        assert session.scalar(select(func.count()).where(BatchItem.batch_id == batch_id)) == 300

    mirrored = {
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=out_bucket)
        for obj in page.get("Contents", [])
    }
    stems = [k.removeprefix("scans/").removesuffix(".pdf") for k in keys]
    assert mirrored == {f"ocr/{s}.md" for s in stems} | {f"ocr/{s}.layout.json" for s in stems} | {
        "ocr/manifest.jsonl"
    }
    markdown = client.get_object(Bucket=out_bucket, Key="ocr/3/doc-017.md")["Body"].read().decode()
    assert "Letter 017" in markdown
    line = next(line for line in lines if line["source"].endswith("doc-017.pdf"))
    assert line["output"]["markdown"] == f"s3://{out_bucket}/ocr/3/doc-017.md"


@pytest.mark.parametrize("stack_name", ["embedded_stack", "production_stack"])
def test_interactive_tasks_overtake_a_batch_backlog(
    stack_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    stack: Stack = request.getfixturevalue(stack_name)
    backlog = 30
    archive = zip_bytes([(f"b/{i:02d}.pdf", tiny_pdf(f"Backlog page {i}")) for i in range(backlog)])
    stack.start_worker("--beat", worker_concurrency=1, **{**EXPANDER, "batch_max_in_flight": backlog})
    upload = stack.api.post("/v1/batches/upload", files={"file": ("b.zip", archive)}, data={"dpi": "72"})
    assert upload.status_code == 202, upload.text
    batch_id = upload.json()["id"]
    wait_batch(stack, batch_id, until=lambda b: b["counts"]["succeeded"] >= 2 and b["counts"]["queued"] >= 20)

    interactive = []
    for i in range(6):
        path = tmp_path / f"urgent-{i}.pdf"
        path.write_bytes(tiny_pdf(f"Urgent {i}"))
        interactive.append(stack.submit_file(path, dpi=72)["id"])
    done = [stack.wait_task(task_id, timeout=60) for task_id in interactive]
    assert {task["status"] for task in done} == {"succeeded"}

    with session_scope(stack.settings.database_url) as session:
        started = [s for s in session.scalars(select(Task.started_at).where(Task.batch_id == batch_id)) if s]
        # from when the API sent the interactive task's message (after its upload was stored and
        # its row committed), not from the row's creation: storing the upload can take a while
        waits = [
            (enqueued, began)
            for enqueued, began in session.execute(
                select(Task.enqueued_at, Task.started_at).where(Task.id.in_(interactive))
            )
        ]
    # a batch task that starts while an interactive one has been waiting (its message had
    # 0.2 s to reach the broker) is one the worker should not have picked
    grace = timedelta(seconds=0.2)
    jumped = [s for s in started if any(created + grace < s < began for created, began in waits)]
    assert len(jumped) <= 1, (jumped, waits)
    last_finish = max(datetime.fromisoformat(t["timings"]["finished_at"]) for t in done)
    assert len([s for s in started if s < last_finish]) <= backlog // 2  # most of the backlog still waited

    canceled = stack.api.delete(f"/v1/batches/{batch_id}")
    assert canceled.status_code == 202
    final = wait_batch(stack, batch_id, timeout=60)
    assert final["status"] == "canceled"
    assert final["counts"]["canceled"] >= 1
    statuses = {line["status"] for line in manifest(stack, batch_id)}
    assert statuses <= {"succeeded", "canceled"}


@pytest.fixture
def files_server() -> Iterator[tuple[str, set[str], dict[str, bytes]]]:
    """A local HTTP server: serves `documents` by path, answers 404 for paths in `missing`."""
    documents: dict[str, bytes] = {}
    missing: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            if body is None or self.path in missing:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", missing, documents
    server.shutdown()


def test_failed_urls_are_retried_and_then_succeed(
    embedded_stack: Stack, files_server: tuple[str, set[str], dict[str, bytes]]
) -> None:
    base, missing, documents = files_server
    for i in range(6):
        documents[f"/d/{i}.pdf"] = tiny_pdf(f"Remote {i}")
    missing.update({"/d/1.pdf", "/d/4.pdf"})
    embedded_stack.start_worker("--beat", **EXPANDER)
    urls = [f"{base}/d/{i}.pdf" for i in range(6)]
    batch_id = embedded_stack.api.post("/v1/batches", json={"urls": urls, "dpi": 72}).json()["id"]
    first = wait_batch(embedded_stack, batch_id, timeout=120)
    assert first["status"] == "completed"
    assert (first["counts"]["succeeded"], first["counts"]["failed"]) == (4, 2)
    failed = [line for line in manifest(embedded_stack, batch_id) if line["status"] == "failed"]
    assert [line["source"] for line in failed] == [urls[1], urls[4]]
    assert {line["error"]["code"] for line in failed} == {"fetch_failed"}

    missing.clear()
    retried = embedded_stack.api.post(f"/v1/batches/{batch_id}/retry-failed")
    assert retried.json()["retrying"] == 2
    second = wait_batch(embedded_stack, batch_id, timeout=120)
    assert (second["status"], second["counts"]["succeeded"], second["counts"]["failed"]) == (
        "completed",
        6,
        0,
    )
    lines = manifest(embedded_stack, batch_id)
    assert {line["status"] for line in lines} == {"succeeded"}
    assert [line["task_id"] for line in lines if line["source"] == urls[1]] == [failed[0]["task_id"]]


def _default_sigint() -> None:
    # a test run started in the background (`make test &`) ignores SIGINT, and children inherit
    # that: Python then never turns Ctrl-C into KeyboardInterrupt. The CLI gets it as a user would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(stack: Stack, api: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocrp.main", "backfill", *args, "--api", api, "--interval", "0.3"],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", "OCR_API_KEY": stack.api_key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def test_an_archive_through_the_cli_skips_unsafe_members_and_reuses_known_documents(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    stack = embedded_stack
    known = tiny_pdf("Already known")
    stack.start_worker("--beat", **EXPANDER)
    _, api = stack.start_api_server()

    first = stack.api.post(
        "/v1/batches/upload",
        files={"file": ("one.zip", zip_bytes([("known.pdf", known)]))},
        data={"dpi": "72"},
    )
    first_batch = wait_batch(stack, first.json()["id"], timeout=180)
    [original] = manifest(stack, first_batch["id"])

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("letters/again.pdf", known)
        archive.writestr("letters/new.pdf", tiny_pdf("Brand new"))
        archive.writestr("letters/notes.txt", b"just text")
        archive.writestr("letters/inner.zip", zip_bytes([("x.pdf", known)]))
        archive.writestr("letters/disguised.pdf", zip_bytes([("x.pdf", known)]))
        archive.writestr(zip_symlink("letters/link.pdf", "/etc/passwd"), "/etc/passwd")
        archive.writestr("letters/empty.pdf", b"")
    path = tmp_path / "letters.zip"
    path.write_bytes(buffer.getvalue())
    saved = tmp_path / "manifest.jsonl"
    run = _cli(stack, api, str(path), "--dedupe", "--dpi", "72", "--manifest", str(saved))
    out, err = run.communicate(timeout=180)
    assert run.returncode == 0, err
    assert "completed  succeeded 2  failed 0  skipped 5  canceled 0  reused 1" in out
    assert "7/7 docs" in err  # the progress bar, as it stood at the end
    assert "ETA" in err

    lines = {line["source"]: line for line in map(json.loads, saved.read_text().splitlines())}
    assert {name: line["status"] for name, line in lines.items()} == {
        "letters/again.pdf": "succeeded",
        "letters/new.pdf": "succeeded",
        "letters/notes.txt": "skipped",
        "letters/inner.zip": "skipped",
        "letters/disguised.pdf": "skipped",
        "letters/link.pdf": "skipped",
        "letters/empty.pdf": "skipped",
    }
    assert lines["letters/notes.txt"]["error"]["code"] == "member_not_document"
    assert lines["letters/inner.zip"]["error"]["code"] == "member_nested_archive"
    assert lines["letters/disguised.pdf"]["error"]["code"] == "member_nested_archive"
    assert lines["letters/link.pdf"]["error"]["code"] == "member_link"
    assert lines["letters/empty.pdf"]["error"]["code"] == "member_empty"
    again = lines["letters/again.pdf"]
    assert again["reused_from"] == original["task_id"]
    assert lines["letters/new.pdf"]["reused_from"] is None
    reused = stack.api.get(f"/v1/tasks/{again['task_id']}").json()
    assert reused["reused_from"] == original["task_id"]
    assert (
        stack.api.get(f"/v1/tasks/{again['task_id']}/result.md").text
        == stack.api.get(f"/v1/tasks/{original['task_id']}/result.md").text
    )

    batch_id = out.split()[0]
    rerun = _cli(stack, api, str(path), "--dedupe", "--dpi", "72", "--no-wait")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "resuming batch" in err
    assert out.strip() == batch_id


def test_the_cli_can_be_interrupted_and_the_same_command_resumes(
    embedded_stack: Stack, tmp_path: Path
) -> None:
    stack = embedded_stack
    server, api = stack.start_api_server()
    path = tmp_path / "many.zip"
    path.write_bytes(zip_bytes([(f"{i:02d}.pdf", tiny_pdf(f"Page {i}")) for i in range(30)]))

    # no worker yet: the batch cannot finish before the interrupt, however slow the machine
    follower = _cli(stack, api, str(path), "--dpi", "72")
    batch_id = _newest_batch(stack)
    server.wait_for_log(f'"GET /v1/batches/{batch_id}', timeout=60)  # the CLI follows its progress
    follower.send_signal(signal.SIGINT)
    _, err = follower.communicate(timeout=30)
    assert follower.returncode == 130
    assert f"batch {batch_id} keeps running" in err
    assert stack.api.get(f"/v1/batches/{batch_id}").json()["status"] == "expanding"

    stack.start_worker("--beat", worker_concurrency=1, **EXPANDER)
    batch = {"id": batch_id}
    resumed = _cli(stack, api, str(path), "--dpi", "72")
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    assert f"resuming batch {batch['id']}" in err
    assert out.startswith(f"{batch['id']}  completed  succeeded 30")
    assert len(stack.api.get("/v1/batches").json()["data"]) == 1


def _newest_batch(stack: Stack, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = stack.api.get("/v1/batches").json()["data"]
        if data:
            return str(data[0]["id"])
        time.sleep(0.2)
    raise TimeoutError("the CLI created no batch")
