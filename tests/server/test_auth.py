"""API keys: every /v1 route needs one, scopes decide what it may do, revoked keys stop working
within the auth cache's bound (OCR_AUTH_CACHE_S), and only a hash of a key is ever stored."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from shared.apikeys.store import revoke_key
from shared.db.models import ApiKey
from shared.db.session import session_scope
from tests.documents import text_pdf
from tests.fixtures.services import wait_for
from tests.fixtures.stack import Stack, build_stack

SOME_TASK = "/v1/tasks/tsk_01jd3k9zzzzzzzzzzzzzzzzzzz"
PROTECTED = [
    ("GET", "/v1/tasks"),
    ("GET", SOME_TASK),
    ("GET", f"{SOME_TASK}/pages"),
    ("GET", f"{SOME_TASK}/result.md"),
    ("GET", f"{SOME_TASK}/result.zip"),
    ("DELETE", SOME_TASK),
    ("POST", f"{SOME_TASK}/cancel"),
    ("POST", f"{SOME_TASK}/retry"),
    ("POST", "/v1/tasks"),
    ("POST", "/v1/tasks/upload"),
    ("GET", "/v1/admin/dead-letters"),
]


def _key_id(stack: Stack, token: str) -> str:
    with session_scope(stack.settings.database_url) as session:
        return str(session.scalars(select(ApiKey.id).where(ApiKey.lookup == token[5:17])).one())


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_v1_route_refuses_a_request_without_a_key(
    embedded_stack: Stack, method: str, path: str
) -> None:
    response = embedded_stack.client(None).request(method, path, json={"url": "http://example.com/a.pdf"})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer ocrp_abcdefghjkmn_notarealsecretnotarealsecretnotarealsecr", "invalid or has been revoked"),
        ("Bearer garbage", "invalid or has been revoked"),
        ("Basic dXNlcjpwYXNz", "invalid or has been revoked"),
        ("Basic %%%", "not valid base64"),
        ("Token abc", "must be `Bearer <key>`"),
        ("Bearer ", "must be `Bearer <key>`"),
    ],
)
def test_a_wrong_key_is_refused_with_a_message_that_says_why(
    embedded_stack: Stack, header: str, message: str
) -> None:
    response = embedded_stack.client(None).get("/v1/tasks", headers={"Authorization": header})
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]


def test_a_key_of_the_right_owner_but_one_character_off_is_refused(embedded_stack: Stack) -> None:
    token = embedded_stack.api_key
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert embedded_stack.client(tampered).get("/v1/tasks").status_code == 401


def _revoke_elsewhere(stack: Stack, token: str) -> None:
    """Revoke the way `ocrp keys revoke` does: in the database, from another process's view."""
    with session_scope(stack.settings.database_url) as session:
        revoke_key(session, _key_id(stack, token))


def test_a_revoked_key_stops_working_within_the_auth_cache_bound(tmp_path: Path) -> None:
    bound_s = 0.5
    stack = build_stack("cache", tmp_path, auth_cache_s=bound_s)
    try:
        token = stack.new_key("alice")
        client = stack.client(token)
        assert client.get("/v1/tasks").status_code == 200  # verified, and now cached
        _revoke_elsewhere(stack, token)
        revoked_at = time.monotonic()
        wait_for(lambda: client.get("/v1/tasks").status_code == 401, 10, "the revocation")
        assert time.monotonic() - revoked_at < bound_s + 1.0
        response = client.get("/v1/tasks")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    finally:
        stack.close()


def test_without_the_auth_cache_a_revoked_key_stops_working_at_once(tmp_path: Path) -> None:
    stack = build_stack("nocache", tmp_path, auth_cache_s=0)
    try:
        token = stack.new_key("alice")
        client = stack.client(token)
        assert client.get("/v1/tasks").status_code == 200
        _revoke_elsewhere(stack, token)
        assert client.get("/v1/tasks").status_code == 401
    finally:
        stack.close()


def test_health_docs_and_the_schema_stay_open(embedded_stack: Stack) -> None:
    anonymous = embedded_stack.client(None)
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert anonymous.get(path).status_code == 200, path


def test_the_schema_declares_the_bearer_scheme_and_the_auth_errors(embedded_stack: Stack) -> None:
    schema = embedded_stack.api.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `ocrp keys create`: `Authorization: Bearer ocrp_...`.",
    }
    listing = schema["paths"]["/v1/tasks"]["get"]
    assert listing["security"] == [{"ApiKey": []}]
    assert {"401", "403", "429", "503"} <= set(listing["responses"])
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_scopes_decide_what_a_key_may_do(embedded_stack: Stack) -> None:
    reader = embedded_stack.client(embedded_stack.new_key(scopes="read"))
    submitter = embedded_stack.client(embedded_stack.new_key(scopes="submit"))
    operator = embedded_stack.client(embedded_stack.new_key(scopes="admin"))

    created = submitter.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))})
    assert created.status_code == 202
    task = f"/v1/tasks/{created.json()['id']}"
    assert reader.get(task).status_code == 200
    assert reader.get("/v1/tasks").status_code == 200

    for response in (
        submitter.get(task),
        reader.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))}),
        reader.post("/v1/tasks", json={"url": "http://example.com/a.pdf"}),
        reader.delete(task),
        reader.post(f"{task}/cancel"),
        reader.post(f"{task}/retry"),
        reader.get("/v1/admin/dead-letters"),
        submitter.get("/v1/admin/dead-letters"),
        operator.get("/v1/tasks"),
    ):
        assert response.status_code == 403, response.request.url
        assert response.json()["error"]["code"] == "forbidden"
        assert "scope" in response.json()["error"]["message"]
    assert operator.get("/v1/admin/dead-letters").status_code == 200
    assert submitter.post(f"{task}/cancel").status_code == 200


def test_only_a_hash_of_a_key_is_stored_and_its_last_use_is_kept(embedded_stack: Stack) -> None:
    token = embedded_stack.new_key("bob")
    with session_scope(embedded_stack.settings.database_url) as session:
        key = session.scalars(select(ApiKey).where(ApiKey.owner == "bob")).one()
        assert key.last_used_at is None
        assert token not in {key.secret_hash, key.lookup, key.id}
    embedded_stack.client(token).get("/v1/tasks")
    embedded_stack.client(token).get("/v1/tasks")
    with session_scope(embedded_stack.settings.database_url) as session:
        used = session.scalars(select(ApiKey.last_used_at).where(ApiKey.owner == "bob")).one()
    assert used is not None
    database = Path(embedded_stack.settings.database_url.split("///", 1)[1])
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    for path in database.parent.glob("ocrp.db*"):
        assert token.encode() not in path.read_bytes(), path


def test_auth_can_be_turned_off_for_local_experiments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stack = build_stack("open", tmp_path, auth_enabled=False)
    try:
        assert "auth.disabled" in caplog.text
        anonymous = stack.client(None)
        created = anonymous.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))})
        assert created.status_code == 202
        assert created.json()["owner"] == "default"
        assert anonymous.get("/v1/admin/dead-letters").status_code == 200
    finally:
        stack.close()


@pytest.mark.slow
def test_an_anonymous_upload_is_refused_before_its_body_is_sent(embedded_stack: Stack) -> None:
    _, url = embedded_stack.start_api_server()
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/tasks/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\n\r\n"
        )
        answer = sock.recv(65536)  # no byte of the 100 MB body was sent
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b"www-authenticate: Bearer" in answer.lower().replace(b"bearer", b"Bearer")


@pytest.mark.slow
def test_a_read_only_keys_upload_is_refused_before_its_body_is_sent(embedded_stack: Stack) -> None:
    reader = embedded_stack.new_key("alice", "read")
    _, url = embedded_stack.start_api_server()
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/tasks/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 150000000\r\n"
            + f"Authorization: Bearer {reader}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=B\r\n\r\n"
        )
        answer = b""
        while not answer.rstrip().endswith(b"}"):  # no byte of the 150 MB body was sent
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
    assert b'"code":"forbidden"' in answer
    assert b"submit" in answer  # the message names the scope the key lacks


def test_the_caller_carries_the_key_and_its_default_webhook(embedded_stack: Stack) -> None:
    from server.auth.authenticate import resolve_caller
    from shared.apikeys.store import create_key

    with session_scope(embedded_stack.settings.database_url) as session:
        key, token = create_key(session, "hooks", ("submit",), webhook_url="https://hooks.example/ocr")
        key_id = key.id
    caller = resolve_caller(embedded_stack.api.app.state, f"Bearer {token}")
    assert caller.owner == "hooks"
    assert caller.scopes == {"submit"}
    assert caller.key_id == key_id
    assert caller.webhook_url == "https://hooks.example/ocr"


def test_basic_credentials_carry_a_key_for_browsers_and_curl(embedded_stack: Stack) -> None:
    import base64

    token = embedded_stack.api_key
    for credentials in (f"{token}:", f"anyone:{token}"):  # curl -u KEY: ; a browser's prompt
        header = "Basic " + base64.b64encode(credentials.encode()).decode()
        assert (
            embedded_stack.client(None).get("/v1/tasks", headers={"Authorization": header}).status_code == 200
        )


def test_the_dashboard_asks_a_browser_for_a_key_and_the_api_does_not(embedded_stack: Stack) -> None:
    anonymous = embedded_stack.client(None)
    page = anonymous.get("/ops")
    assert page.status_code == 401
    assert page.headers["www-authenticate"].startswith("Basic ")
    api = anonymous.get("/v1/ops/stats")
    assert api.status_code == 401
    assert api.headers["www-authenticate"].startswith("Bearer ")
    reader = embedded_stack.client(embedded_stack.new_key("viewer", "read"))
    assert reader.get("/ops").status_code == 403
    assert embedded_stack.api.get("/ops").status_code == 200


def test_metrics_are_open_unless_the_operator_closes_them(tmp_path: Path) -> None:
    stack = build_stack("metrics", tmp_path, metrics_public=False)
    try:
        assert stack.client(None).get("/metrics").status_code == 401
        assert stack.client(stack.new_key("scraper", "read")).get("/metrics").status_code == 403
        assert stack.client(stack.new_key("prometheus", "admin")).get("/metrics").status_code == 200
    finally:
        stack.close()
    open_stack = build_stack("metrics-open", tmp_path / "open")
    try:
        assert open_stack.client(None).get("/metrics").status_code == 200
    finally:
        open_stack.close()


def test_the_openai_routes_refuse_a_missing_key_in_the_sdks_error_shape(embedded_stack: Stack) -> None:
    anonymous = embedded_stack.client(None)
    for response in (
        anonymous.post("/v1/chat/completions", json={"model": "ocrp", "messages": []}),
        anonymous.get("/v1/models"),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.json()["error"]["type"] == "authentication_error"
    assert anonymous.post("/v1/ocr", json={"url": "http://example.com/a.pdf"}).status_code == 401
    assert embedded_stack.api.get("/v1/models").status_code == 200
