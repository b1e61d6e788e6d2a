"""The task, batch and webhook commands against a running platform (a uvicorn API and a real
worker process), run as a user would run them: as processes, reading their output."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.test_commands import ocrp
from tests.fixtures.documents import tiny_pdf
from tests.fixtures.services import free_port
from tests.fixtures.stack import Stack
from tests.fixtures.webhook_receiver import TEST_SECRET, Receiver

pytestmark = pytest.mark.slow


@pytest.fixture
def pdf_server() -> Iterator[str]:
    """A loopback HTTP server of one PDF, for URL sources."""
    body = tiny_pdf("fetched by url")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/report.pdf"
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(embedded_stack: Stack) -> dict[str, str]:
    embedded_stack.settings.webhook_secrets = TEST_SECRET
    queues = "ocr.interactive,ocr.batch,maintenance,webhooks"
    embedded_stack.start_worker("--beat", "--queues", queues, batch_expand_interval_s=0.3)
    _, url = embedded_stack.start_api_server()
    return {**embedded_stack.env, "OCR_API_URL": url}


def test_submit_files_and_a_url_in_parallel_then_list_status_watch_retry_and_delete(
    platform: dict[str, str], pdf_server: str, tmp_path: Path, webhook_receiver: Receiver
) -> None:
    files = []
    for n in range(2):
        path = tmp_path / f"doc{n}.pdf"
        path.write_bytes(tiny_pdf(f"document number {n}"))
        files.append(str(path))
    done = ocrp(
        "submit", *files, pdf_server, "--wait", "--json", "--webhook-url", webhook_receiver.url, env=platform
    )
    assert done.returncode == 0, done.stderr
    tasks = json.loads(done.stdout)
    assert [t["status"] for t in tasks] == ["succeeded"] * 3
    assert tasks[2]["source"]["kind"] == "url"
    assert done.stderr.count("pages") >= 3  # a live bar for every task

    listed = json.loads(ocrp("list", "--json", env=platform).stdout)
    assert {t["id"] for t in tasks} <= {t["id"] for t in listed}
    first = tasks[0]["id"]
    status = ocrp("status", first, env=platform)
    assert status.stdout.startswith(f"{first}  succeeded  pages 1/1")

    watched = ocrp("watch", first, env=platform)
    assert watched.returncode == 0
    assert "status succeeded" in watched.stdout

    webhook_receiver.wait_for(3)
    deliveries = ocrp("webhooks", "deliveries", first, env=platform)
    assert deliveries.returncode == 0, deliveries.stderr
    assert "task.succeeded" in deliveries.stdout or "delivered" in deliveries.stdout

    refused = ocrp("retry", first, env=platform)
    assert refused.returncode == 1
    assert "task_not_failed" in refused.stderr
    assert "Traceback" not in refused.stderr

    assert ocrp("delete", first, "--yes", env=platform).returncode == 0
    gone = ocrp("status", first, env=platform)
    assert gone.returncode == 1
    assert "task_not_found" in gone.stderr


def test_a_queued_task_is_canceled_from_the_command_line(embedded_stack: Stack) -> None:
    _, url = embedded_stack.start_api_server()  # no worker: the task stays queued
    env = {**embedded_stack.env, "OCR_API_URL": url}
    submitted = ocrp("submit", str(Path(__file__).parents[1] / "data" / "book-4p.pdf"), env=env)
    task_id = submitted.stdout.strip()
    canceled = ocrp("cancel", task_id, env=env)
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout.strip() == f"{task_id}  canceled"


def test_a_folder_is_backfilled_and_its_results_downloaded_next_to_their_names(
    platform: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "archive"
    (folder / "2024").mkdir(parents=True)
    (folder / "a.pdf").write_bytes(tiny_pdf("alpha letter"))
    (folder / "2024" / "b.pdf").write_bytes(tiny_pdf("bravo letter"))
    (folder / ".DS_Store").write_bytes(b"hidden")
    out = tmp_path / "results"
    result = ocrp("backfill", str(folder), "--output", str(out), env=platform)
    assert result.returncode == 0, result.stderr
    assert "results of 2 documents saved" in result.stdout
    assert "alpha" in (out / "a.pdf.md").read_text()
    assert "bravo" in (out / "2024" / "b.pdf.md").read_text()
    assert json.loads((out / "2024" / "b.pdf.layout.json").read_text())["pages"]

    again = ocrp("backfill", str(folder), "--no-wait", env=platform)
    listed = json.loads(ocrp("batches", "list", "--json", env=platform).stdout)
    assert [b["id"] for b in listed] == [again.stdout.strip()]  # the same folder resumes its batch
    shown = ocrp("batches", "show", listed[0]["id"], env=platform)
    assert "completed  succeeded 2  failed 0" in shown.stdout


def test_an_unreachable_api_is_one_line_with_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env.update(OCR_API_URL=f"http://127.0.0.1:{free_port()}", OCR_API_KEY="ocrp_whatever")
    down = ocrp("list", env=env, cwd=tmp_path)
    assert down.returncode == 1
    assert "cannot reach the API" in down.stderr
    assert "ocrp run" in down.stderr
    assert "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


def test_no_key_anywhere_says_how_to_get_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env.update(OCR_API_URL="http://127.0.0.1:9", XDG_CONFIG_HOME=str(tmp_path / "config"))
    missing = ocrp("list", env=env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no API key" in missing.stderr
    assert "ocrp keys create" in missing.stderr
