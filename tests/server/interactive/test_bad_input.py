"""`POST /v1/ocr` and chat completions refuse what they cannot serve with a clear code, before
any task exists; chat and models errors also carry OpenAI's `type` and `param`; a task that
outlives the request's time limit is answered 504 and keeps its place in the queue."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from shared import worker_liveness
from shared.clock import utcnow
from shared.db.session import session_scope
from shared.gpus import GpuState
from shared.worker_liveness import WorkerState
from tests.documents import text_pdf
from tests.fixtures.stack import Stack, build_stack

PDF = base64.b64encode(text_pdf(["one page"])).decode()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # no worker: every request here is refused before a task would be processed, or times out
    stack = build_stack(
        "interactive-input", tmp_path_factory.mktemp("interactive"), interactive_timeout_s=1.0
    )
    yield stack
    stack.close()


def ocr(stack: Stack, **body: Any) -> Any:
    return stack.api.post("/v1/ocr", json=body)


def chat(stack: Stack, **body: Any) -> Any:
    body.setdefault("model", "ocrp")
    return stack.api.post("/v1/chat/completions", json=body)


def image_message(url: str, text: str | None = None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": url}}]
    if text:
        parts.append({"type": "text", "text": text})
    return [{"role": "user", "content": parts}]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return dict(error)


def task_count(stack: Stack) -> int:
    return len(stack.api.get("/v1/tasks").json()["data"])


@pytest.fixture
def no_new_task(stack: Stack) -> Iterator[None]:
    before = task_count(stack)
    yield
    assert task_count(stack) == before, "a refused request left a task behind"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_source"),
        ({"image_base64": PDF, "url": "https://example.com/a.pdf"}, 400, "invalid_source"),
        ({"image_base64": "not base64!"}, 400, "invalid_base64"),
        ({"image_base64": base64.b64encode(b"just some text").decode()}, 415, "unsupported_media_type"),
        ({"url": "http://10.1.2.3/a.pdf"}, 400, "url_not_allowed"),
        ({"url": "file:///etc/passwd"}, 400, "invalid_url"),
        ({"image_base64": PDF, "pages": "2"}, 422, "invalid_page_range"),
        ({"image_base64": PDF, "prompt": "custom", "custom_prompt": "no placeholder"}, 422, "invalid_prompt"),
        ({"image_base64": PDF, "dpi": 5000}, 400, "invalid_dpi"),
        ({"image_base64": PDF, "colour": "red"}, 422, "validation_error"),
    ],
)
@pytest.mark.usefixtures("no_new_task")
def test_ocr_refuses_bad_json_input(stack: Stack, body: dict[str, Any], status: int, code: str) -> None:
    assert_error(ocr(stack, **body), status, code)


@pytest.mark.usefixtures("no_new_task")
@pytest.mark.parametrize("path", ["/v1/ocr", "/v1/chat/completions"])
@pytest.mark.parametrize("depth", [100_000, 950])
def test_deeply_nested_json_is_refused_with_422(stack: Stack, path: str, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"model": "ocrp", "url": "http://127.0.0.1:9/a.pdf", "messages": ' + nested + b"}"
    response = stack.api.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"json_too_deep", "validation_error"}
    if depth > 10_000:
        assert response.json()["error"]["code"] == "json_too_deep"
    assert stack.api.get("/healthz").status_code == 200


def test_ocr_refuses_bodies_it_cannot_read(stack: Stack) -> None:
    assert_error(
        stack.api.post("/v1/ocr", content=b"{", headers={"content-type": "application/json"}),
        400,
        "malformed_json",
    )
    assert_error(
        stack.api.post("/v1/ocr", content=b"hello", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    assert_error(
        stack.api.post("/v1/ocr", data={"mode": "base"}, files={"other": ("a.txt", b"x")}),
        400,
        "invalid_source",
    )


@pytest.mark.usefixtures("no_new_task")
def test_an_inline_document_over_the_cap_is_refused(stack: Stack) -> None:
    small = stack.settings.model_copy(update={"interactive_max_inline_bytes": 1000})
    key = {"Authorization": f"Bearer {stack.api_key}"}
    with TestClient(create_app(small), raise_server_exceptions=False, headers=key) as client:
        big = base64.b64encode(text_pdf(["x" * 40] * 10)).decode()
        assert_error(client.post("/v1/ocr", json={"image_base64": big}), 413, "payload_too_large")
        url = f"data:application/pdf;base64,{big}"
        error = assert_error(
            client.post("/v1/chat/completions", json={"model": "ocrp", "messages": image_message(url)}),
            413,
            "payload_too_large",
        )
        assert error["param"] == "messages[0].content[0].image_url.url"


def test_a_task_that_outlives_the_time_limit_is_answered_504_and_keeps_running(stack: Stack) -> None:
    response = ocr(stack, image_base64=PDF)
    error = assert_error(response, 504, "ocr_timeout")
    task_id = response.json()["task_id"]
    assert task_id in error["message"]
    assert response.headers["location"] == f"/v1/tasks/{task_id}"
    assert response.headers["x-should-retry"] == "false"  # an SDK must not submit it again
    task = stack.api.get(f"/v1/tasks/{task_id}").json()
    assert task["status"] == "queued"
    assert task["options"]["mode"] == "gundam"
    assert stack.api.post(f"/v1/tasks/{task_id}/cancel").status_code == 200
    # the chat route times out the same way, in OpenAI's error shape
    response = chat(stack, messages=image_message(f"data:application/pdf;base64,{PDF}", "Free OCR."))
    error = assert_error(response, 504, "ocr_timeout")
    assert error["type"] == "server_error"
    task = stack.api.get(f"/v1/tasks/{response.json()['task_id']}").json()
    assert task["options"]["custom_prompt"] == "<image>\nFree OCR."
    stack.api.post(f"/v1/tasks/{task['id']}/cancel")


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        (
            {"model": "gpt-4o", "messages": image_message(f"data:application/pdf;base64,{PDF}")},
            404,
            "model_not_found",
            "model",
        ),
        (
            {"messages": image_message(f"data:application/pdf;base64,{PDF}"), "n": 2},
            400,
            "unsupported_n",
            "n",
        ),
        ({"messages": []}, 422, "validation_error", "messages"),
        (
            {"messages": [{"role": "user", "content": "no image"}]},
            400,
            "image_required",
            "messages[0].content",
        ),
        (
            {"messages": image_message("http://10.1.2.3/scan.png")},
            400,
            "url_not_allowed",
            "messages[0].content[0].image_url.url",
        ),
        (
            {"messages": image_message("ftp://example.com/scan.png")},
            400,
            "invalid_image_url",
            "messages[0].content[0].image_url.url",
        ),
        (
            {"messages": image_message("data:image/png,rawbytes")},
            400,
            "invalid_image_url",
            "messages[0].content[0].image_url.url",
        ),
        (
            {"messages": image_message(f"data:application/pdf;base64,{PDF}", "<image><image>")},
            422,
            "invalid_prompt",
            "messages[0].content",
        ),
    ],
)
@pytest.mark.usefixtures("no_new_task")
def test_chat_errors_are_readable_by_openai_clients(
    stack: Stack, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    error = assert_error(chat(stack, **body), status, code)
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert error["param"] == param


def test_models_list_what_live_workers_serve_and_errors_keep_both_shapes(stack: Stack) -> None:
    assert stack.api.get("/v1/models").json() == {"object": "list", "data": []}
    error = assert_error(stack.api.get("/v1/models/nope"), 404, "model_not_found")
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None
    # routes of the platform's own API keep their shape
    plain = assert_error(stack.api.get("/v1/tasks/tsk_nothing/events"), 404, "task_not_found")
    assert set(plain) == {"code", "message"}


def test_a_gpu_model_served_in_one_mode_is_listed_and_sets_the_mode(stack: Stack) -> None:
    now = utcnow()
    worker = WorkerState(
        id="wrk_gpu",
        node="deepseek@gpu-1",
        host="gpu-1",
        pid=7,
        engine="deepseek",
        model="DeepSeek-OCR base (DeepSeek-OCR)",
        modes=("base",),
        queues=("ocr.interactive",),
        concurrency=32,
        tasks_in_flight=0,
        started_at=now - timedelta(hours=1),
        seen_at=now,
        gpus=(GpuState(0, "NVIDIA H100 80GB HBM3", 2**30, 80 * 2**30, 10),),
    )
    with session_scope(stack.settings.database_url) as session:
        worker_liveness.publish(session, worker)
    try:
        [alias, model] = stack.api.get("/v1/models").json()["data"]
        # the name the docs use comes first, standing for whatever is served
        assert (alias["id"], alias["engine"], alias["modes"], alias["workers"]) == (
            "ocrp",
            "alias",
            ["base"],
            1,
        )
        assert stack.api.get("/v1/models/ocrp").json() == alias
        assert model["id"] == "deepseek-ocr-base-deepseek-ocr"
        assert model["object"] == "model"
        assert model["created"] == int(worker.started_at.timestamp())
        assert (model["engine"], model["modes"], model["gpu"], model["workers"]) == (
            "deepseek",
            ["base"],
            True,
            1,
        )
        assert stack.api.get(f"/v1/models/{model['id']}").json() == model
        # no GPU worker really runs here: the request times out, and its task asked for `base`
        response = chat(
            stack, model=model["id"], messages=image_message(f"data:application/pdf;base64,{PDF}")
        )
        assert_error(response, 504, "ocr_timeout")
        task = stack.api.get(f"/v1/tasks/{response.json()['task_id']}").json()
        assert task["options"] == {"mode": "base", "prompt": "document"}
        stack.api.post(f"/v1/tasks/{task['id']}/cancel")
    finally:
        with session_scope(stack.settings.database_url) as session:
            worker_liveness.remove(session, "wrk_gpu")


def test_a_malformed_last_event_id_is_refused(stack: Stack) -> None:
    response = stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["x"]))})
    task_id = response.json()["id"]
    refused = stack.api.get(f"/v1/tasks/{task_id}/events", headers={"Last-Event-ID": "1700000000000-0"})
    assert_error(refused, 400, "invalid_last_event_id")
    stack.api.post(f"/v1/tasks/{task_id}/cancel")


def test_the_routes_are_documented_without_dangling_references(stack: Stack) -> None:
    schema = stack.api.get("/openapi.json").json()
    for path in ("/v1/ocr", "/v1/chat/completions", "/v1/models", "/v1/tasks/{task_id}/events"):
        assert path in schema["paths"], path
    body = schema["paths"]["/v1/ocr"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    assert body["application/json"]["schema"]["properties"]["mode"]["enum"][-1] == "gundam"
    text = json.dumps(schema)
    defined = set(schema["components"]["schemas"])
    for ref in re.findall(r'"\$ref": "([^"]+)"', text):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in defined, ref
