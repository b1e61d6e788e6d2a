"""The reads clients poll, on both databases: with the key verified a moment ago, each costs one
SQL statement, and another owner's task stays out of reach on every one of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from shared.db.session import get_async_engine, get_engine
from tests.documents import text_pdf
from tests.fixtures.stack import Stack, build_stack


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        with get_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        overrides["database_url"] = url
    built = build_stack(request.param, tmp_path, **overrides)
    yield built
    built.close()


class Statements:
    """Counts the SQL statements an engine runs."""

    def __init__(self, url: str) -> None:
        self.engines = [get_engine(url)]
        if not url.startswith("sqlite"):  # the hot reads' own asyncio engine
            self.engines.append(get_async_engine(url).sync_engine)
        self.seen: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)


def _upload(stack: Stack, token: str) -> str:
    response = stack.client(token).post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["p"]))})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("path", ["/v1/tasks/{id}", "/v1/tasks", "/v1/tasks/{id}/pages"])
def test_a_poll_with_a_recently_verified_key_runs_one_statement(stack: Stack, path: str) -> None:
    reader = stack.client(stack.api_key)
    task_id = _upload(stack, stack.api_key)
    url = path.format(id=task_id)
    assert reader.get(url).status_code == 200  # the key is verified now
    with Statements(stack.settings.database_url) as statements:
        response = reader.get(url)
    assert response.status_code == 200, response.text
    assert len(statements.seen) == 1, statements.seen


def test_the_poll_answers_what_the_row_holds(stack: Stack) -> None:
    task_id = _upload(stack, stack.api_key)
    task = stack.api.get(f"/v1/tasks/{task_id}").json()
    assert task["id"] == task_id
    assert task["status"] == "queued"
    assert task["source"]["filename"] == "a.pdf"
    assert task["timings"]["created_at"].endswith("Z") or "+00:00" in task["timings"]["created_at"]
    listed = stack.api.get("/v1/tasks", params={"status": "queued", "limit": 1}).json()
    assert [t["id"] for t in listed["data"]] == [task_id]
    assert task["queue_position"] == 0  # alone in its queue; lists leave the position out
    assert listed["data"][0] == {**task, "queue_position": None}
    assert stack.api.get(f"/v1/tasks/{task_id}/pages").json() == {
        "object": "list",
        "data": [],
        "next_cursor": None,
    }


def test_another_owner_finds_nothing_on_the_polled_routes(stack: Stack) -> None:
    alice, mallory = stack.new_key("alice", "submit,read"), stack.new_key("mallory", "submit,read")
    task_id = _upload(stack, alice)
    mine = _upload(stack, mallory)
    intruder = stack.client(mallory)
    for _ in range(2):  # verified from the database, then from the cache
        for path in (f"/v1/tasks/{task_id}", f"/v1/tasks/{task_id}/pages", f"/v1/tasks/{task_id}/events"):
            response = intruder.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "task_not_found"
        assert [t["id"] for t in intruder.get("/v1/tasks").json()["data"]] == [mine]
    assert stack.client(alice).get(f"/v1/tasks/{task_id}").status_code == 200
