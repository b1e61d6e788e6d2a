"""Every task belongs to the owner of the key that created it. Another owner cannot read, list,
download, cancel, delete or retry it: to them it does not exist (404, never 403, so ids cannot
be probed). Operators see dead letters of every owner and may retry them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from tests.documents import text_pdf
from tests.fixtures.stack import Stack


def _upload(client, name: str = "a.pdf") -> str:  # type: ignore[no-untyped-def]
    response = client.post("/v1/tasks/upload", files={"file": (name, text_pdf(["secret page"]))})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _dead_letter(stack: Stack, task_id: str) -> None:
    now = utcnow()
    with session_scope(stack.settings.database_url) as session:
        session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(
                status=TaskStatus.failed,
                attempts=3,
                error_code="max_attempts_exceeded",
                error_message="the worker stopped 3 times",
                finished_at=now,
                dead_lettered_at=now - timedelta(seconds=1),
            )
        )


@pytest.fixture
def alice_and_mallory(embedded_stack: Stack):  # type: ignore[no-untyped-def]
    return (
        embedded_stack.client(embedded_stack.new_key("alice", "submit,read")),
        embedded_stack.client(embedded_stack.new_key("mallory", "submit,read")),
    )


def test_another_owner_cannot_reach_a_task_by_any_route(embedded_stack: Stack, alice_and_mallory) -> None:  # type: ignore[no-untyped-def]
    alice, mallory = alice_and_mallory
    task_id = _upload(alice)
    base = f"/v1/tasks/{task_id}"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/pages"),
        ("GET", f"{base}/result.md"),
        ("GET", f"{base}/result.json"),
        ("GET", f"{base}/result.zip"),
        ("GET", f"{base}/images/1_1.jpg"),
        ("POST", f"{base}/retry"),
        ("POST", f"{base}/cancel"),
        ("DELETE", base),
    ]:
        response = mallory.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "task_not_found"
    assert alice.get(base).json()["status"] == "queued"  # untouched: mallory's DELETE did nothing


def test_listing_shows_only_the_callers_own_tasks(embedded_stack: Stack, alice_and_mallory) -> None:  # type: ignore[no-untyped-def]
    alice, mallory = alice_and_mallory
    mine = {_upload(alice), _upload(alice)}
    theirs = _upload(mallory)
    assert {t["id"] for t in alice.get("/v1/tasks").json()["data"]} == mine
    assert [t["id"] for t in mallory.get("/v1/tasks").json()["data"]] == [theirs]
    assert all(t["owner"] == "alice" for t in alice.get("/v1/tasks").json()["data"])
    # a cursor taken from someone else's listing does not leak their tasks either
    page = mallory.get("/v1/tasks", params={"cursor": sorted(mine)[-1], "limit": 200}).json()
    assert not mine & {t["id"] for t in page["data"]}


def test_operators_list_dead_letters_of_every_owner_and_retry_them(
    embedded_stack: Stack, alice_and_mallory
) -> None:  # type: ignore[no-untyped-def]
    alice, mallory = alice_and_mallory
    operator = embedded_stack.client(embedded_stack.new_key("ops", "admin"))
    alices, mallorys, healthy = _upload(alice), _upload(mallory), _upload(alice)
    _dead_letter(embedded_stack, alices)
    _dead_letter(embedded_stack, mallorys)

    listed = operator.get("/v1/admin/dead-letters").json()["data"]
    assert {(t["id"], t["owner"]) for t in listed} == {(alices, "alice"), (mallorys, "mallory")}
    assert all(t["error"]["code"] == "max_attempts_exceeded" and t["dead_lettered_at"] for t in listed)
    only_alice = operator.get("/v1/admin/dead-letters", params={"owner": "alice"}).json()["data"]
    assert [t["id"] for t in only_alice] == [alices]
    assert healthy not in {t["id"] for t in listed}

    retried = operator.post(f"/v1/tasks/{mallorys}/retry")  # an operator may retry any owner's task
    assert retried.status_code == 202
    assert retried.json()["status"] == "queued"
    assert retried.json()["attempts"] == 0
    assert retried.json()["error"] is None
    assert retried.json()["dead_lettered_at"] is None
    assert alice.post(f"/v1/tasks/{alices}/retry").status_code == 202  # and an owner their own
    assert operator.get("/v1/admin/dead-letters").json()["data"] == []


def test_only_failed_tasks_can_be_retried(embedded_stack: Stack) -> None:
    task_id = _upload(embedded_stack.api)
    response = embedded_stack.api.post(f"/v1/tasks/{task_id}/retry")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "task_not_failed"
