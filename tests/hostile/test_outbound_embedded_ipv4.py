"""Issue 19, item 16: IPv6 addresses that embed a private IPv4 address passed the URL check,
because Python counts `2002::/16` (6to4) as global. A 6to4 relay or NAT64 gateway would deliver
such a request to 127.0.0.1 or 169.254.169.254. Now they are judged by the IPv4 address inside,
at submission, for webhooks, and at the connection."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.errors import InvalidRequest
from shared.outbound.client import OutboundClient
from shared.urls import parse_allowlist
from tests.fixtures.stack import Stack, build_stack
from worker.pipeline.source import download_url
from worker.webhooks.sender import SendPolicy, post

EMBEDDING_PRIVATE = [
    "http://[2002:7f00:1::]/doc.pdf",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/latest/meta-data/",  # 6to4 of 169.254.169.254
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
    "http://[::ffff:10.0.0.1]/doc.pdf",  # IPv4-mapped 10.0.0.1
]


@pytest.fixture(scope="module")
def closed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = build_stack(
        "embedded-ipv4",
        tmp_path_factory.mktemp("ipv4"),
        url_allowlist="",
        webhook_secrets="whsec_" + base64.b64encode(b"e" * 24).decode(),
    )
    yield stack
    stack.close()


@pytest.mark.parametrize("url", EMBEDDING_PRIVATE)
def test_submission_refuses_ipv6_that_embeds_a_private_ipv4(closed_stack: Stack, url: str) -> None:
    for body in ({"url": url}, {"url": "https://example.com/doc.pdf", "webhook_url": url}):
        response = closed_stack.api.post("/v1/tasks", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "url_not_allowed"
    assert closed_stack.api.get("/v1/tasks").json()["data"] == []


@pytest.mark.parametrize("url", EMBEDDING_PRIVATE)
def test_downloads_and_webhooks_refuse_them_before_connecting(tmp_path: Path, url: str) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, url_allowlist="")  # type: ignore[call-arg]
    with pytest.raises(InvalidRequest) as caught:
        download_url(url, str(tmp_path / "in"), settings)
    assert caught.value.code == "url_not_allowed"
    with OutboundClient(parse_allowlist("")) as client:
        assert post(client, url, b"{}", {}, SendPolicy(2, 0)).refused_code == "url_not_allowed"
