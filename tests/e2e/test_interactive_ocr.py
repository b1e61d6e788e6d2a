"""Interactive OCR end to end on the embedded default: uvicorn, one real worker, real HTTP
clients (httpx and the official `openai` SDK, unmodified). The tasks go through the queue and
the worker like any other; a client that leaves cancels its task."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openai
import pymupdf
import pytest

from server.openai.usage import words
from tests.documents import text_pdf
from tests.fixtures.sse import SseReader, events_of
from tests.fixtures.stack import Stack, build_stack, keyed
from tests.quality import cer

pytestmark = pytest.mark.slow

PAGES = ["Interactive reading of page one", "The second page follows it"]


@dataclass
class Live:
    stack: Stack
    base: str  # carries the stack's key, for httpx
    api: str  # without it, for the openai SDK (which sends the key itself)

    def task(self, task_id: str) -> dict[str, object]:
        return dict(httpx.get(f"{self.base}/v1/tasks/{task_id}", timeout=30).json())

    def wait_status(self, task_id: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = str(self.task(task_id)["status"])
            if status in ("succeeded", "failed", "canceled"):
                return status
            time.sleep(0.3)
        raise TimeoutError(f"task {task_id} did not end: {self.task(task_id)}")

    def newest_task(self) -> str:
        return str(httpx.get(f"{self.base}/v1/tasks?limit=1", timeout=30).json()["data"][0]["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    stack = build_stack("interactive", tmp_path_factory.mktemp("interactive"))
    stack.start_worker()
    _, base = stack.start_api_server()
    yield Live(stack, keyed(base, stack.api_key), base)
    stack.close()


def slow_pdf(pages: int = 60) -> bytes:
    """Pages dense enough to keep the CPU engine busy for well over a minute."""
    body = "\n".join(f"Line {n} of a long page that the engine reads word by word." for n in range(30))
    return text_pdf([body] * pages, size=(612, 900))


def png_of(pdf: bytes) -> bytes:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return bytes(doc[0].get_pixmap(dpi=144).tobytes("png"))


def test_ocr_answers_markdown_and_layout_in_one_response(live: Live) -> None:
    response = httpx.post(
        f"{live.base}/v1/ocr",
        files={"file": ("two.pdf", text_pdf(PAGES))},
        data={"mode": "base", "pages": "1-2"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "ocr.result"
    assert body["task"]["status"] == "succeeded"
    assert body["task"]["options"]["mode"] == "base"
    assert cer("\n".join(PAGES), body["markdown"]) < 0.05
    assert body["markdown"] == httpx.get(f"{live.base}/v1/tasks/{body['id']}/result.md").text
    assert [page["number"] for page in body["layout"]["pages"]] == [1, 2]


def test_ocr_takes_a_strategy(live: Live) -> None:
    response = httpx.post(
        f"{live.base}/v1/ocr",
        files={"file": ("two.pdf", text_pdf(PAGES))},
        data={"strategy": "auto", "pages": "1"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["task"]["options"]["strategy"] == "auto"
    assert [page["source"] for page in body["layout"]["pages"]] == ["text_layer"]
    assert PAGES[0].splitlines()[0] in body["markdown"]


def test_ocr_streams_text_then_the_result_then_done(live: Live) -> None:
    image = base64.b64encode(png_of(text_pdf(PAGES[:1]))).decode()
    with httpx.stream(
        "POST", f"{live.base}/v1/ocr", json={"image_base64": image, "stream": True}, timeout=120
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = events_of(response)
    names = [event.event for event in events]
    assert names[0] == "status"
    assert names[-2:] == ["result", None]
    assert events[-1].data == "[DONE]"
    deltas = [event.json() for event in events if event.event == "delta"]
    assert [(d["page"], d["offset"]) for d in deltas] == [(1, 0)]
    assert names.index("delta") < names.index("page") < names.index("result")
    result = events[-2].json()
    assert result["task"]["source"]["content_type"] == "image/png"
    assert deltas[0]["text"] in result["markdown"]
    assert cer(PAGES[0], deltas[0]["text"]) < 0.05


def test_the_openai_sdk_reads_models_completions_and_streams(live: Live) -> None:
    client = openai.OpenAI(base_url=f"{live.api}/v1", api_key=live.stack.api_key, max_retries=0, timeout=120)
    [alias, model] = client.models.list().data
    assert alias.id == "ocrp"  # the name the README uses
    assert client.models.retrieve("ocrp").id == "ocrp"
    assert client.models.retrieve(model.id).id == model.id
    assert model.owned_by == "ocrp"
    assert model.model_extra is not None
    assert model.model_extra["engine"] == "tesseract"
    assert model.model_extra["gpu"] is False
    assert "gundam" in model.model_extra["modes"]

    document = "data:application/pdf;base64," + base64.b64encode(text_pdf(PAGES)).decode()
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": document}}]}]
    completion = client.chat.completions.create(model=model.id, messages=messages)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    task_id = completion.id.removeprefix("chatcmpl-")
    content = completion.choices[0].message.content
    # the answer is full.md: pages joined with their markers
    assert content == httpx.get(f"{live.base}/v1/tasks/{task_id}/result.md").text
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == words(content)  # Tesseract has no tokenizer: words
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    stream = client.chat.completions.create(
        model="ocrp",
        messages=messages,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed.strip() == content.strip()
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == usage.completion_tokens

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert missing.value.code == "model_not_found"
    assert missing.value.param == "model"
    assert missing.value.type == "invalid_request_error"


def test_a_text_part_becomes_the_prompt(live: Live) -> None:
    client = openai.OpenAI(base_url=f"{live.api}/v1", api_key=live.stack.api_key, max_retries=0, timeout=120)
    image = "data:image/png;base64," + base64.b64encode(png_of(text_pdf(PAGES[:1]))).decode()
    completion = client.chat.completions.create(
        model="tesseract",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Free OCR."},
                    {"type": "image_url", "image_url": {"url": image}},
                ],
            }
        ],
        extra_body={"mode": "small"},
    )
    task = live.task(completion.id.removeprefix("chatcmpl-"))
    assert task["options"] == {"mode": "small", "prompt": "custom", "custom_prompt": "<image>\nFree OCR."}
    assert cer(PAGES[0], completion.choices[0].message.content or "") < 0.1


def test_an_http_image_url_is_downloaded_by_the_worker(live: Live, tmp_path: Path) -> None:
    (tmp_path / "page.png").write_bytes(png_of(text_pdf(PAGES[:1])))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/page.png"  # 127.0.0.0/8 is allowlisted here
    client = openai.OpenAI(base_url=f"{live.api}/v1", api_key=live.stack.api_key, max_retries=0, timeout=120)
    missing = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url + ".gone"}}]}]
    try:
        response = httpx.post(f"{live.base}/v1/ocr", json={"url": url}, timeout=120)
        # a task that fails says why: in the platform's shape, and to the SDK, streaming or not
        failed = httpx.post(f"{live.base}/v1/ocr", json={"url": url + ".gone"}, timeout=120)
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            client.chat.completions.create(model="ocrp", messages=missing)  # type: ignore[arg-type]
        with pytest.raises(openai.APIError) as broken:
            list(client.chat.completions.create(model="ocrp", messages=missing, stream=True))  # type: ignore[arg-type]
    finally:
        server.shutdown()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["task"]["source"]["kind"] == "url"
    assert body["task"]["source"]["uri"] == url
    assert cer(PAGES[0], body["markdown"]) < 0.1
    assert failed.status_code == 422
    task = live.task(failed.json()["task_id"])
    assert task["status"] == "failed"
    code = task["error"]["code"]  # type: ignore[index]
    assert code.startswith(("fetch_", "source_"))
    assert failed.json()["error"]["code"] == code
    assert refused.value.code == code
    assert broken.value.code == code


def test_a_client_that_leaves_a_stream_cancels_its_task(live: Live) -> None:
    with httpx.stream(
        "POST",
        f"{live.base}/v1/ocr",
        files={"file": ("slow.pdf", slow_pdf())},
        data={"stream": "true"},
        timeout=120,
    ) as response:
        for event in SseReader(response):
            if event.event == "delta":
                task_id = event.json()["task_id"]
                break
    # the connection is closed: the server cancels the task as DELETE would
    assert live.wait_status(task_id) == "canceled"
    task = live.task(task_id)
    progress = task["progress"]
    assert isinstance(progress, dict)
    assert progress["pages_done"] < 60


def test_a_client_that_stops_waiting_cancels_its_task(live: Live) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{live.base}/v1/ocr",
            files={"file": ("slow.pdf", slow_pdf())},
            timeout=httpx.Timeout(30, read=4),
        )
    assert live.wait_status(live.newest_task()) == "canceled"
