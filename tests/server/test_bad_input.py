"""Bad input is answered with a clear error code; the service stays up; nothing is left behind
(no task row, no stored object, no staging file)."""

from __future__ import annotations

import base64
import glob
import tempfile
from pathlib import Path

import pytest

from tests.documents import bomb_png, encrypted_pdf, text_pdf, truncated
from tests.fixtures.stack import Stack, build_stack

BOOK = Path(__file__).resolve().parents[1] / "data" / "book-4p.pdf"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    stack = build_stack(
        "bad-input",
        tmp_path_factory.mktemp("bad"),
        max_upload_bytes=150_000,
        max_pages=3,
        webhook_secrets="whsec_" + base64.b64encode(b"k" * 24).decode(),
    )
    yield stack
    stack.close()


def _upload(stack: Stack, name: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    return stack.api.post("/v1/tasks/upload", files={"file": (name, data)}, data=form)


def _assert_nothing_left(stack: Stack) -> None:
    assert stack.api.get("/v1/tasks").json()["data"] == []
    storage_dir = stack.settings.storage_dir
    assert storage_dir is not None
    assert not list(Path(storage_dir).rglob("*.*")), "an object was stored"
    assert not glob.glob(f"{tempfile.gettempdir()}/ocrp-upload-*"), "a staging file was left"


CASES = [
    ("empty.pdf", b"", {}, 400, "empty_file"),
    ("notes.pdf", b"just some text, renamed to look like a PDF\n" * 10, {}, 415, "unsupported_media_type"),
    ("cut.pdf", truncated(BOOK, 0.6)[:140_000], {}, 422, "pdf_truncated"),
    ("locked.pdf", None, {}, 422, "pdf_encrypted"),
    ("big.pdf", text_pdf(["x"]) + b"%" * 200_000, {}, 413, "payload_too_large"),
    ("long.pdf", text_pdf(["a", "b", "c", "d"]), {}, 422, "too_many_pages"),
    ("bomb.png", bomb_png(), {}, 422, "image_too_large"),
    ("ok.pdf", text_pdf(["a"]), {"mode": "huge"}, 422, "validation_error"),
    ("ok.pdf", text_pdf(["a"]), {"pages": "1-x"}, 422, "invalid_page_range"),
    ("ok.pdf", text_pdf(["a", "b"]), {"pages": "3"}, 422, "invalid_page_range"),
    ("ok.pdf", text_pdf(["a"]), {"dpi": "5000"}, 400, "invalid_dpi"),
    (
        "ok.pdf",
        text_pdf(["a"]),
        {"prompt": "custom", "custom_prompt": "no placeholder"},
        422,
        "invalid_prompt",
    ),
    ("ok.pdf", text_pdf(["a"]), {"webhook_url": "http://169.254.169.254/latest"}, 400, "url_not_allowed"),
]


@pytest.mark.parametrize(
    ("name", "data", "form", "status", "code"), CASES, ids=[c[4] + ":" + c[0] for c in CASES]
)
def test_bad_upload_is_refused_with_a_clear_code(
    stack: Stack, name: str, data: bytes | None, form: dict[str, str], status: int, code: str
) -> None:
    if data is None:
        data = encrypted_pdf(Path(__file__).resolve().parents[1] / "data" / "olmo-page-1.pdf")
    response = _upload(stack, name, data, **form)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 10
    _assert_nothing_left(stack)


def test_service_keeps_accepting_good_work_after_bad_input(stack: Stack) -> None:
    for name, data, form, _, _ in CASES[:3]:
        _upload(stack, name, data or b"", **form)
    response = _upload(stack, "fine.pdf", text_pdf(["hello"]))
    assert response.status_code == 202
    assert response.headers["location"] == f"/v1/tasks/{response.json()['id']}"
    task_id = response.json()["id"]
    canceled = stack.api.post(f"/v1/tasks/{task_id}/cancel")  # queued: canceled, kept
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert stack.api.delete(f"/v1/tasks/{task_id}").status_code == 204  # finished: deleted
    assert stack.api.get(f"/v1/tasks/{task_id}").status_code == 404


def test_declared_body_over_the_limit_is_refused_before_reading(stack: Stack) -> None:
    response = stack.api.post(
        "/v1/tasks/upload",
        content=b"x" * 10,
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": "999999999"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_task_is_404(stack: Stack) -> None:
    for path in (
        "/v1/tasks/tsk_01jd3k9zzzzzzzzzzzzzzzzzzz",
        "/v1/tasks/nonsense",
        "/v1/tasks/tsk_x/result.md",
    ):
        response = stack.api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "task_not_found"


def test_malformed_json_is_400(stack: Stack) -> None:
    response = stack.api.post(
        "/v1/tasks", content=b'{"url": "http://x', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_source"),
        ({"url": "http://a.example/x.pdf", "s3_uri": "s3://b/k"}, 400, "invalid_source"),
        ({"url": "ftp://example.com/x.pdf"}, 400, "invalid_url"),
        ({"url": "http://127.0.0.1.nip.invalid/x.pdf"}, 400, "invalid_url"),
        ({"s3_uri": "s3://bucket-only"}, 400, "invalid_s3_uri"),
        ({"url": "http://127.0.0.1/x.pdf", "mode": "giant"}, 422, "validation_error"),
        ({"url": "http://127.0.0.1/x.pdf", "pages": "0-2"}, 422, "invalid_page_range"),
        ({"url": "http://127.0.0.1/x.pdf", "surprise": 1}, 422, "validation_error"),
    ],
)
def test_bad_source_request_is_refused(stack: Stack, body: dict[str, object], status: int, code: str) -> None:
    response = stack.api.post("/v1/tasks", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    _assert_nothing_left(stack)


def test_unknown_route_and_method_use_the_error_shape(stack: Stack) -> None:
    assert stack.api.get("/v1/nothing").json()["error"]["code"] == "not_found"
    response = stack.api.put("/v1/tasks")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
