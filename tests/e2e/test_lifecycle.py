"""A task's life on the embedded default with a real worker: cancel while running, delete with
its data, partial success, total failure, image input, URL input, per-page progress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from shared.layout import LayoutDocument
from tests.documents import image_bytes
from tests.fixtures.stack import Stack, build_stack

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = build_stack("lifecycle", tmp_path_factory.mktemp("lifecycle"))
    # a small pixel cap makes a giant page fail deterministically; one page at a time makes
    # cancellation land between pages; a short fetch timeout makes a stalled download time out
    stack.start_worker(max_image_pixels=3_000_000, pages_in_flight=1, worker_concurrency=1, fetch_timeout_s=2)
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local HTTP server for URL sources (127.0.0.0/8 is allowlisted in the test stack)."""
    root = tmp_path_factory.mktemp("www")
    (root / "book.pdf").write_bytes((DATA / "book-4p.pdf").read_bytes())
    (root / "notes.txt").write_text("not a document\n" * 20)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _StallingServer(ThreadingHTTPServer):
    """Starts sending a PDF, then stalls until the test lets it go."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StallingHandler)
        self.arrived, self.release = threading.Event(), threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/slow.pdf"


class _StallingHandler(BaseHTTPRequestHandler):
    server: _StallingServer

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"%PDF-1.7\n")
        self.wfile.flush()
        self.server.arrived.set()
        self.server.release.wait(60)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stalling() -> Iterator[_StallingServer]:
    server = _StallingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.release.set()
    server.shutdown()


def _pdf_with_giant_page(path: Path, giant_only: bool = False) -> Path:
    doc = pymupdf.open()
    sizes = [(14400, 14400)] if giant_only else [(612, 792), (14400, 14400), (612, 792)]
    for number, (width, height) in enumerate(sizes, start=1):
        page = doc.new_page(width=width, height=height)
        # mid-page body text: a "Page N" line in the top band would be taken for a running head
        page.insert_text((72, 400), f"Body text of sheet {number} in the mixed document", fontsize=20)
    doc.save(path)
    return path


def test_a_failing_page_leaves_the_others_and_shows_per_page(stack: Stack, tmp_path: Path) -> None:
    task = stack.submit_file(_pdf_with_giant_page(tmp_path / "mixed.pdf"))
    done = stack.wait_task(task["id"])
    assert done["status"] == "succeeded"
    assert done["progress"] == {
        "pages_done": 3,
        "pages_total": 3,
        "pages_failed": 1,
        "pages_truncated": 0,
        "percent": 100.0,
    }
    pages = stack.api.get(f"/v1/tasks/{task['id']}/pages").json()["data"]
    assert [(p["number"], p["status"]) for p in pages] == [(1, "succeeded"), (2, "failed"), (3, "succeeded")]
    assert pages[1]["error"]["code"] == "page_too_large"
    layout = LayoutDocument.model_validate(stack.api.get(f"/v1/tasks/{task['id']}/result.json").json())
    assert layout.pages[1].status == "failed"
    assert layout.pages[1].error is not None
    assert layout.pages[1].error.code == "page_too_large"
    markdown = stack.api.get(f"/v1/tasks/{task['id']}/result.md").text
    assert "sheet 1" in markdown
    assert "sheet 3" in markdown


def test_a_document_whose_every_page_fails_fails(stack: Stack, tmp_path: Path) -> None:
    task = stack.submit_file(_pdf_with_giant_page(tmp_path / "giant.pdf", giant_only=True))
    done = stack.wait_task(task["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "all_pages_failed"
    response = stack.api.get(f"/v1/tasks/{task['id']}/result.md")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "result_not_available"


def test_cancel_stops_a_running_task_at_the_next_page(stack: Stack) -> None:
    task = stack.submit_file(DATA / "lots_of_sci_tables.pdf", dpi="300")
    stack.wait_task(task["id"], until=lambda t: t["progress"]["pages_done"] >= 1)
    refused = stack.api.delete(f"/v1/tasks/{task['id']}")  # running work is never deleted
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "task_not_finished"
    response = stack.api.post(f"/v1/tasks/{task['id']}/cancel")
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True
    again = stack.api.post(f"/v1/tasks/{task['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "cancel_pending"
    done = stack.wait_task(task["id"])
    assert done["status"] == "canceled"
    assert done["progress"]["pages_done"] < 6
    assert (
        stack.api.get(f"/v1/tasks/{task['id']}/result.md").json()["error"]["code"] == "result_not_available"
    )


def test_a_cancel_during_a_stalled_download_ends_canceled(stack: Stack, stalling: _StallingServer) -> None:
    # issue 19: a cancel while the worker downloads, then the download times out; the task went
    # back to the queue with its cancel requested, which nothing ever claims: queued forever
    task = stack.api.post("/v1/tasks", json={"url": stalling.url}).json()
    assert stalling.arrived.wait(60), "the worker never started the download"
    response = stack.api.post(f"/v1/tasks/{task['id']}/cancel")
    assert (response.status_code, response.json()["cancel_requested"]) == (202, True)
    done = stack.wait_task(task["id"], timeout=60)
    assert done["status"] == "canceled", done
    assert done["error"] == {"code": "canceled", "message": "canceled by request"}


def test_delete_removes_a_finished_task_and_its_objects(stack: Stack) -> None:
    done = stack.wait_task(stack.submit_file(DATA / "olmo-page-1.pdf")["id"])
    assert done["status"] == "succeeded"
    storage_dir = stack.settings.storage_dir
    assert storage_dir is not None
    task_dir = Path(storage_dir) / "tasks" / done["id"]
    assert (task_dir / "results" / "full.md").exists()
    assert stack.api.delete(f"/v1/tasks/{done['id']}").status_code == 204
    assert not task_dir.exists()
    assert stack.api.get(f"/v1/tasks/{done['id']}").status_code == 404


def test_an_image_is_a_one_page_document(stack: Stack, tmp_path: Path) -> None:
    image = Image.new("RGB", (1400, 500), "white")
    ImageDraw.Draw(image).text(
        (60, 200), "Invoice 2024 total amount due", fill="black", font=ImageFont.load_default(size=56)
    )
    path = tmp_path / "scan.webp"
    path.write_bytes(image_bytes(image, "WEBP", quality=95))
    done = stack.wait_task(stack.submit_file(path)["id"])
    assert done["status"] == "succeeded"
    assert done["source"]["content_type"] == "image/webp"
    layout = stack.api.get(f"/v1/tasks/{done['id']}/result.json").json()
    assert layout["pages"][0]["dpi"] is None
    assert (layout["pages"][0]["width"], layout["pages"][0]["height"]) == (1400, 500)
    assert "Invoice 2024" in stack.api.get(f"/v1/tasks/{done['id']}/result.md").text


def test_a_url_source_is_fetched_by_the_worker(stack: Stack, files: str) -> None:
    response = stack.api.post(
        "/v1/tasks", json={"url": f"{files}/book.pdf", "pages": "1", "filename": "book.pdf"}
    )
    assert response.status_code == 202
    done = stack.wait_task(response.json()["id"])
    assert done["status"] == "succeeded"
    assert done["source"]["kind"] == "url"
    assert done["source"]["content_type"] == "application/pdf"
    assert done["source"]["sha256"] and done["source"]["page_count"] == 4  # noqa: PT018
    assert done["progress"]["pages_total"] == 1


@pytest.mark.parametrize(
    ("path", "code"), [("missing.pdf", "fetch_failed"), ("notes.txt", "unsupported_media_type")]
)
def test_a_bad_url_source_fails_the_task_with_a_code(stack: Stack, files: str, path: str, code: str) -> None:
    response = stack.api.post("/v1/tasks", json={"url": f"{files}/{path}"})
    done = stack.wait_task(response.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == code
