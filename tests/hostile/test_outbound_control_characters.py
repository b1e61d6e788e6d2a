"""Issue 19, item 9: CR, LF, TAB and NUL in `url` or `webhook_url` were accepted (the check
parsed a URL that Python had quietly cleaned), then the task failed `internal_error` or every
webhook attempt crashed. Now they are refused at submission with 422 `url_control_characters`,
and a URL stored before that is refused where it is used, with the same code, instead of
crashing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.apikeys.store import create_key
from shared.config import Settings
from shared.db.session import session_scope
from shared.errors import TransientError, Unprocessable
from shared.outbound.client import OutboundClient
from shared.urls import parse_allowlist
from tests.fixtures.stack import Stack, build_stack
from tests.fixtures.webhook_receiver import Receiver
from tests.hostile.outbound_servers import answer, serve
from worker.pipeline.source import download_url
from worker.webhooks.sender import SendPolicy, post

CONTROLS = ["\r\n", "\n", "\t", "\x00"]
GOOD = "http://127.0.0.1:9/doc.pdf"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = build_stack(
        "control-characters",
        tmp_path_factory.mktemp("control"),
        webhook_secrets="whsec_" + base64.b64encode(b"c" * 24).decode(),
    )
    yield stack
    stack.close()


def refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "url_control_characters"
    assert "control character" in error["message"]


@pytest.mark.parametrize("control", CONTROLS)
def test_a_task_url_or_webhook_url_with_a_control_character_is_refused(stack: Stack, control: str) -> None:
    bad = f"http://127.0.0.1:9/a{control}b.pdf"
    refused(stack.api.post("/v1/tasks", json={"url": bad}))
    refused(stack.api.post("/v1/tasks", json={"url": GOOD, "webhook_url": bad}))
    refused(
        stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", b"%PDF-1.4")}, data={"webhook_url": bad})
    )
    assert stack.api.get("/v1/tasks").json()["data"] == []


@pytest.mark.parametrize("control", CONTROLS)
def test_the_interactive_routes_refuse_them_too(stack: Stack, control: str) -> None:
    bad = f"http://127.0.0.1:9/a{control}b.png"
    refused(stack.api.post("/v1/ocr", json={"url": bad}))
    image = {"type": "image_url", "image_url": {"url": bad}}
    chat = stack.api.post(
        "/v1/chat/completions", json={"model": "ocrp", "messages": [{"role": "user", "content": [image]}]}
    )
    refused(chat)
    assert chat.json()["error"]["param"] == "messages[0].content[0].image_url.url"


@pytest.mark.parametrize("control", ["\t", "\x00"])  # a list is split on line ends already
def test_a_batch_url_list_or_webhook_with_a_control_character_is_refused(stack: Stack, control: str) -> None:
    response = stack.api.post("/v1/batches", json={"urls": [GOOD, f"http://127.0.0.1:9/{control}.pdf"]})
    refused(response)
    assert "URL 2" in response.json()["error"]["message"]
    refused(stack.api.post("/v1/batches", json={"urls": [GOOD], "webhook_url": f"{GOOD}{control}"}))
    assert stack.api.get("/v1/batches").json()["data"] == []


def test_a_key_with_a_control_character_in_its_webhook_url_is_not_made(stack: Stack) -> None:
    with session_scope(stack.settings.database_url) as session, pytest.raises(Unprocessable) as caught:
        create_key(session, "tenant", ("submit",), webhook_url="https://hooks.example/\r\nX-Injected: 1")
    assert caught.value.code == "url_control_characters"


def test_a_stored_webhook_url_with_a_control_character_is_refused_not_crashed(
    webhook_receiver: Receiver,
) -> None:
    with OutboundClient(parse_allowlist("127.0.0.1")) as client:
        result = post(client, webhook_receiver.url + "\r\nX-Injected: 1", b"{}", {}, SendPolicy(5, 0))
    assert result.refused_code == "url_control_characters"
    assert webhook_receiver.received == []


@pytest.mark.parametrize("control", CONTROLS)
def test_a_stored_task_url_with_a_control_character_fails_with_its_code(tmp_path: Path, control: str) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, url_allowlist="127.0.0.1")  # type: ignore[call-arg]
    with serve(answer(200, b"%PDF-1.4")) as server, pytest.raises(Unprocessable) as caught:
        download_url(f"{server.base}/a{control}b.pdf", str(tmp_path / "in"), settings)
    assert caught.value.code == "url_control_characters"
    assert server.hits == []


def test_a_redirect_to_a_url_with_a_control_character_is_not_followed(tmp_path: Path) -> None:
    # httpx itself refuses such a Location (a protocol error of the server, reported as such)
    settings = Settings(_env_file=None, data_dir=tmp_path, url_allowlist="127.0.0.1")  # type: ignore[call-arg]
    with (
        serve(answer(302, headers={"Location": "/a\tb.pdf"})) as server,
        pytest.raises(TransientError) as caught,
    ):
        download_url(f"{server.base}/doc.pdf", str(tmp_path / "in"), settings)
    assert caught.value.code == "fetch_failed"
    assert "location header" in caught.value.message
    assert server.hits == [("GET", "/doc.pdf")], "the hop with the TAB was not requested"
