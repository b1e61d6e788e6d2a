"""`Idempotency-Key`: a retried request gets the first one's task and status, never a
duplicate; the same key for a different request is refused; keys are per owner and expire."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from shared.clock import utcnow
from shared.db.models import IdempotencyRecord, Task
from shared.db.session import session_scope
from tests.documents import text_pdf
from tests.fixtures.stack import Stack

SOURCE = {"url": "http://127.0.0.1/report.pdf", "pages": "1-2"}


def _task_count(stack: Stack) -> int:
    with session_scope(stack.settings.database_url) as session:
        return int(session.scalar(select(func.count()).select_from(Task)) or 0)


def _stored_objects(stack: Stack) -> list[Path]:
    assert stack.settings.storage_dir is not None
    return [p for p in Path(stack.settings.storage_dir).rglob("*") if p.is_file()]


def test_a_retried_source_request_returns_the_first_task(embedded_stack: Stack) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers)
    again = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _task_count(embedded_stack) == 1


def test_a_retried_upload_returns_the_first_task_and_stores_nothing_more(embedded_stack: Stack) -> None:
    pdf = text_pdf(["one", "two"])
    headers = {"Idempotency-Key": "upload-1"}
    form = {"mode": "base"}
    first = embedded_stack.api.post(
        "/v1/tasks/upload", files={"file": ("a.pdf", pdf)}, data=form, headers=headers
    )
    stored = _stored_objects(embedded_stack)
    again = embedded_stack.api.post(
        "/v1/tasks/upload", files={"file": ("a.pdf", pdf)}, data=form, headers=headers
    )
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert _stored_objects(embedded_stack) == stored
    assert _task_count(embedded_stack) == 1


def test_the_same_key_for_a_different_request_is_refused(embedded_stack: Stack) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers).status_code == 202
    for response in (
        embedded_stack.api.post("/v1/tasks", json={**SOURCE, "pages": "3"}, headers=headers),
        embedded_stack.api.post(
            "/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["x"]))}, headers=headers
        ),
    ):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    other_file = embedded_stack.api.post(
        "/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["x"]))}, headers={"Idempotency-Key": "k2"}
    )
    changed = embedded_stack.api.post(
        "/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["y"]))}, headers={"Idempotency-Key": "k2"}
    )
    assert other_file.status_code == 202
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert _task_count(embedded_stack) == 2


def test_keys_belong_to_their_owner(embedded_stack: Stack) -> None:
    other = embedded_stack.client(embedded_stack.new_key("someone-else"))
    headers = {"Idempotency-Key": "shared-name"}
    mine = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers)
    theirs = other.post("/v1/tasks", json=SOURCE, headers=headers)
    assert theirs.status_code == 202
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["owner"] == "someone-else"


def test_an_expired_key_creates_new_work(embedded_stack: Stack) -> None:
    headers = {"Idempotency-Key": "old"}
    first = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers).json()["id"]
    with session_scope(embedded_stack.settings.database_url) as session:
        session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    second = embedded_stack.api.post("/v1/tasks", json={**SOURCE, "pages": "9"}, headers=headers)
    assert second.status_code == 202
    assert second.json()["id"] != first


def test_deleting_the_task_forgets_its_key(embedded_stack: Stack) -> None:
    headers = {"Idempotency-Key": "gone"}
    first = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers).json()["id"]
    assert embedded_stack.api.post(f"/v1/tasks/{first}/cancel").status_code == 200
    assert embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers).json()["id"] == first
    assert embedded_stack.api.delete(f"/v1/tasks/{first}").status_code == 204  # deleted
    again = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers)
    assert again.status_code == 202
    assert again.json()["id"] != first


def test_concurrent_twins_create_one_task(embedded_stack: Stack) -> None:
    headers = {"Idempotency-Key": "race"}

    def submit(_: int) -> tuple[int, str]:
        response = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers=headers)
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(submit, range(6)))
    assert {status for status, _ in answers} == {202}
    assert len({task_id for _, task_id in answers}) == 1
    assert _task_count(embedded_stack) == 1


def test_a_malformed_key_is_a_clear_error(embedded_stack: Stack) -> None:
    for key in (b"x" * 256, b"tab\there", "ünïcode".encode()):
        response = embedded_stack.api.post("/v1/tasks", json=SOURCE, headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
        assert response.json()["error"]["code"] == "invalid_idempotency_key"
