"""The task API without a worker: listing, paging, filtering, readiness."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.filenames import safe_filename
from tests.documents import text_pdf
from tests.fixtures.stack import Stack, build_stack


def _submit(stack: Stack, text: str) -> str:
    response = stack.api.post(
        "/v1/tasks/upload", files={"file": (f"{text}.pdf", text_pdf([text]))}, data={"mode": "base"}
    )
    assert response.status_code == 202
    return str(response.json()["id"])


def test_list_is_newest_first_with_cursor_pages_and_a_status_filter(embedded_stack: Stack) -> None:
    ids = [_submit(embedded_stack, f"doc{i}") for i in range(5)]
    embedded_stack.api.post(f"/v1/tasks/{ids[1]}/cancel")  # queued → canceled

    first = embedded_stack.api.get("/v1/tasks", params={"limit": 2}).json()
    assert [t["id"] for t in first["data"]] == ids[::-1][:2]
    second = embedded_stack.api.get("/v1/tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = embedded_stack.api.get("/v1/tasks", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [t["id"] for t in second["data"] + third["data"]] == ids[::-1][2:]
    assert third["next_cursor"] is None

    canceled = embedded_stack.api.get("/v1/tasks", params={"status": "canceled"}).json()["data"]
    assert [t["id"] for t in canceled] == [ids[1]]
    assert canceled[0]["error"]["code"] == "canceled"
    queued = embedded_stack.api.get("/v1/tasks", params={"status": "queued"}).json()["data"]
    assert len(queued) == 4
    assert all(t["options"]["mode"] == "base" for t in queued)


def test_list_parameters_are_validated(embedded_stack: Stack) -> None:
    assert embedded_stack.api.get("/v1/tasks", params={"status": "done"}).status_code == 422
    assert embedded_stack.api.get("/v1/tasks", params={"limit": 0}).status_code == 422
    bad = embedded_stack.api.get("/v1/tasks", params={"cursor": "nope"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"


def test_a_queued_task_resource_has_progress_and_timings(embedded_stack: Stack) -> None:
    task = embedded_stack.api.get(f"/v1/tasks/{_submit(embedded_stack, 'x')}").json()
    assert task["status"] == "queued"
    assert task["progress"] == {
        "pages_done": 0,
        "pages_total": None,
        "pages_failed": 0,
        "pages_truncated": 0,
        "percent": None,
    }
    assert task["timings"]["created_at"]
    assert task["timings"]["started_at"] is None
    assert task["result"] is None
    assert task["source"] == {
        "kind": "upload",
        "filename": "x.pdf",
        "uri": None,
        "content_type": "application/pdf",
        "size_bytes": task["source"]["size_bytes"],
        "sha256": task["source"]["sha256"],
        "page_count": 1,
    }
    assert (
        embedded_stack.api.get(f"/v1/tasks/{task['id']}/result.md").json()["error"]["code"]
        == "result_not_ready"
    )


def test_filenames_are_sanitised(embedded_stack: Stack) -> None:
    response = embedded_stack.api.post(
        "/v1/tasks/upload", files={"file": ('../../etc/"evil"\r\n.pdf', text_pdf(["x"]))}
    )
    name = response.json()["source"]["filename"]
    assert name.endswith(".pdf")
    assert not any(c in name for c in '/\\"\r\n%')


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\scan 1.png", "scan 1.png"),
        ('a"b\r\nc.pdf', "a_b_c.pdf"),
        ("...", "document"),
        (None, "document"),
        ("ﬁle.pdf", "file.pdf"),
    ],
)
def test_safe_filename(raw: str | None, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_ready_when_everything_is_reachable(embedded_stack: Stack) -> None:
    response = embedded_stack.api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}
    assert embedded_stack.api.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("overrides", "failing"),
    [
        ({"broker_url": "redis://127.0.0.1:1/0"}, "broker"),
        (
            {
                "storage_backend": "s3",
                "s3_endpoint_url": "http://127.0.0.1:1",
                "s3_access_key_id": "a",
                "s3_secret_access_key": "b",
            },
            "storage",
        ),
    ],
)
def test_not_ready_names_what_failed(tmp_path: Path, overrides: dict[str, str], failing: str) -> None:
    stack = build_stack("unready", tmp_path, **overrides)
    try:
        response = stack.api.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["error"]["code"] == "not_ready"
        assert failing in body["error"]["message"]
        assert body["checks"][failing].startswith("error")
        assert body["checks"]["database"] == "ok"
        assert response.headers["retry-after"] == "5"
    finally:
        stack.close()
