"""Issue 15, item 3: webhooks pinned the first address a name resolved to and gave up when it
did not answer, while downloads tried each. Both now go through the one outbound client, which
connects to any of the name's vetted addresses. The name is the one thing the test supplies (a
resolver answering a dead address first); every connection is real."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from shared.config import Settings
from shared.outbound.client import OutboundClient
from shared.urls import IPAddress, parse_allowlist
from shared.webhooks.signing import parse_secrets, signed_headers
from tests.fixtures.webhook_receiver import Receiver
from tests.hostile.outbound_servers import pdf, serve
from worker.pipeline.source import download_url
from worker.webhooks.sender import SendPolicy, post

DEAD_FIRST = [ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")]


def dead_address_first(host: str, port: int) -> list[IPAddress]:
    # nothing listens on 127.0.0.2: connecting there is refused, as a host that is down would be
    return list(DEAD_FIRST)


def test_a_webhook_reaches_the_second_address_when_the_first_is_down(webhook_receiver: Receiver) -> None:
    port = urlsplit(webhook_receiver.url).port
    body = b'{"type":"task.succeeded","data":{"id":"tsk_1","status":"succeeded"}}'
    headers = signed_headers(
        parse_secrets(webhook_receiver.secret), "msg_1", datetime.now(UTC), body.decode()
    )
    with OutboundClient(parse_allowlist("127.0.0.0/8"), dead_address_first) as client:
        result = post(client, f"http://hooks.example:{port}/hooks/ocr", body, headers, SendPolicy(5, 0))
    assert result.ok, result
    (received,) = webhook_receiver.received
    assert received.headers["Host"] == f"hooks.example:{port}"


def test_a_download_reaches_the_second_address_when_the_first_is_down(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, url_allowlist="127.0.0.0/8")  # type: ignore[call-arg]
    with serve(pdf()) as server:
        _, size = download_url(
            f"http://files.example:{server.port}/doc.pdf", str(tmp_path / "in"), settings, dead_address_first
        )
    assert size > 0
    assert server.hits == [("GET", "/doc.pdf")]
