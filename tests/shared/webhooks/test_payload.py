"""The event body: a thin `{type, timestamp, data}` with API links and, on S3, presigned URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.webhooks.payload import WebhookEventType, body_of, envelope, iso, with_presigned
from shared.webhooks.task_notifications import task_data, task_presign_keys

FINISHED = datetime(2026, 11, 22, 10, 15, 2, 412_000, tzinfo=UTC)


def task(status: TaskStatus, **fields: object) -> Task:
    values: dict[str, object] = {
        "id": "tsk_01jd3k9abcdefghjkmnpqrstvw",
        "owner": "default",
        "status": status,
        "filename": "book.pdf",
        "pages_total": 4,
        "pages_done": 4,
        "pages_failed": 0,
        "pages_truncated": 1,
        "created_at": FINISHED - timedelta(seconds=30),
        "finished_at": FINISHED,
    }
    values.update(fields)
    return Task(**values)


def test_a_succeeded_task_links_its_results_on_the_public_url() -> None:
    keys = {"markdown": "tasks/t/results/full.md", "layout": "tasks/t/results/layout.json", "images": []}
    data = task_data(task(TaskStatus.succeeded, result_keys=keys), "https://ocr.example.com/")
    url = "https://ocr.example.com/v1/tasks/tsk_01jd3k9abcdefghjkmnpqrstvw"
    assert data["url"] == url
    assert data["result"] == {
        "markdown": f"{url}/result.md",
        "layout": f"{url}/result.json",
        "zip": f"{url}/result.zip",
    }
    assert data["pages"] == {"total": 4, "done": 4, "failed": 0, "truncated": 1}
    assert data["error"] is None
    assert data["finished_at"] == "2026-11-22T10:15:02.412Z"


def test_a_failed_task_carries_its_error_and_no_result() -> None:
    failed = task(TaskStatus.failed, error_code="pdf_encrypted", error_message="the PDF is encrypted")
    data = task_data(failed, "http://127.0.0.1:8000")
    assert data["error"] == {"code": "pdf_encrypted", "message": "the PDF is encrypted"}
    assert data["result"] is None


def test_presigned_urls_are_asked_for_successful_tasks_on_s3_only() -> None:
    keys = {"markdown": "m.md", "layout": "l.json", "images": []}
    s3 = Settings(_env_file=None, storage_backend="s3")  # type: ignore[call-arg]
    local = Settings(_env_file=None)  # type: ignore[call-arg]
    assert task_presign_keys(task(TaskStatus.succeeded, result_keys=keys), s3) == {
        "markdown": "m.md",
        "layout": "l.json",
    }
    assert task_presign_keys(task(TaskStatus.succeeded, result_keys=keys), local) is None
    assert task_presign_keys(task(TaskStatus.failed, result_keys=None), s3) is None
    off = s3.model_copy(update={"webhook_presigned_urls": False})
    assert task_presign_keys(task(TaskStatus.succeeded, result_keys=keys), off) is None


def test_the_envelope_is_compact_json_with_presigned_urls_added_per_attempt() -> None:
    payload = envelope(WebhookEventType.task_succeeded, FINISHED, {"id": "tsk_1", "status": "succeeded"})
    assert json.loads(body_of(payload)) == {
        "type": "task.succeeded",
        "timestamp": "2026-11-22T10:15:02.412Z",
        "data": {"id": "tsk_1", "status": "succeeded"},
    }
    assert " " not in body_of(payload)
    expires = FINISHED + timedelta(hours=1)
    signed = with_presigned(payload, {"markdown": "https://s3/m?X-Amz-Signature=1"}, expires)
    assert signed["data"]["presigned"] == {
        "markdown": "https://s3/m?X-Amz-Signature=1",
        "expires_at": iso(expires),
    }
    assert "presigned" not in payload["data"], "the stored payload is left as it was"
