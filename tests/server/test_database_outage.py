"""PostgreSQL goes away for a moment (a restart, a failover, a network cut): the API answers 503
`database_unavailable` with a Retry-After, stays up, and serves again as soon as the database is
back. The test cuts a TCP proxy between the API and PostgreSQL; the shared server is never
touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.documents import text_pdf
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.stack import Stack, build_stack


@pytest.fixture
def proxied_stack(
    tmp_path: Path, postgres_url: str, tcp_proxy: type[TcpProxy]
) -> Iterator[tuple[Stack, TcpProxy]]:
    from sqlalchemy import text

    from shared.db.session import get_engine

    with get_engine(postgres_url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    parts = urlsplit(postgres_url)
    proxy = tcp_proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    through_proxy = postgres_url.replace(f"{parts.hostname}:{parts.port}", proxy.address)
    stack = build_stack("pg-outage", tmp_path, database_url=through_proxy)
    yield stack, proxy
    stack.close()


def test_the_api_answers_503_while_the_database_is_away_and_recovers(proxied_stack) -> None:  # type: ignore[no-untyped-def]
    stack, proxy = proxied_stack
    created = stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["kept"]))})
    assert created.status_code == 202
    task = f"/v1/tasks/{created.json()['id']}"

    proxy.cut()
    for response in (
        stack.api.get(task),
        stack.api.get("/v1/tasks"),
        stack.api.post("/v1/tasks/upload", files={"file": ("b.pdf", text_pdf(["lost?"]))}),
        stack.api.post("/v1/tasks", json={"url": "http://127.0.0.1/x.pdf"}),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "5"
    assert stack.api.get("/healthz").status_code == 200  # the process itself is fine
    ready = stack.api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("error")

    proxy.restore()
    assert stack.api.get(task).json()["status"] == "queued"
    assert [t["id"] for t in stack.api.get("/v1/tasks").json()["data"]] == [created.json()["id"]]
    assert stack.api.post("/v1/tasks/upload", files={"file": ("c.pdf", text_pdf(["new"]))}).status_code == 202
    assert stack.api.get("/readyz").status_code == 200
