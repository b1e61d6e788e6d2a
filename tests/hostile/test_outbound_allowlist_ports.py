"""Issue 19, item 11: the URL allowlist was host-wide. An entry like `127.0.0.1:8080` silently
matched nothing, and a redirect from an allowed server to another port of the same host was
followed, by downloads and by webhooks. Now entries may name a port, an entry that cannot match
stops the settings from loading, and every hop's port is checked again. Real loopback servers,
the real webhook receiver, a real `ocrp` process for the startup check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.errors import InvalidRequest
from shared.outbound.client import OutboundClient
from shared.urls import parse_allowlist
from tests.fixtures.stack import REPO, Stack, build_stack
from tests.fixtures.webhook_receiver import Receiver
from tests.hostile.outbound_servers import LoopbackServer, pdf, redirect, serve
from worker.pipeline.source import download_url
from worker.webhooks.sender import SendPolicy, post


@pytest.fixture
def other_port() -> Iterator[LoopbackServer]:
    """A server on another port of the allowed host, which nothing may reach."""
    with serve(pdf()) as server:
        yield server


@pytest.fixture
def allowed(other_port: LoopbackServer) -> Iterator[LoopbackServer]:
    """The allowed server: /doc.pdf is a document, everything else redirects to `other_port`."""
    hop = redirect(f"{other_port.base}/doc.pdf")
    document = pdf()

    def respond(out, path, stop):  # type: ignore[no-untyped-def]
        (document if path == "/doc.pdf" else hop)(out, path, stop)

    with serve(respond) as server:
        yield server


def only_port(server: LoopbackServer) -> str:
    return f"127.0.0.1:{server.port}"


def test_a_download_may_use_the_allowed_port_but_not_be_redirected_to_another(
    tmp_path: Path, allowed: LoopbackServer, other_port: LoopbackServer
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, url_allowlist=only_port(allowed))  # type: ignore[call-arg]
    _, size = download_url(f"{allowed.base}/doc.pdf", str(tmp_path / "ok"), settings)
    assert size > 0
    with pytest.raises(InvalidRequest) as caught:
        download_url(f"{allowed.base}/elsewhere", str(tmp_path / "in"), settings)
    assert caught.value.code == "url_not_allowed"
    assert f"(port {other_port.port})" in caught.value.message
    assert other_port.hits == []
    assert [path for _, path in allowed.hits] == ["/doc.pdf", "/elsewhere"]


def test_a_webhook_is_not_redirected_to_another_port(webhook_receiver: Receiver) -> None:
    receiver_port = webhook_receiver.url.split(":")[2].split("/")[0]
    with serve(redirect(webhook_receiver.url)) as redirector:
        policy = SendPolicy(timeout_s=5, max_redirects=2)
        with OutboundClient(parse_allowlist(only_port(redirector))) as client:
            refused = post(client, f"{redirector.base}/hook", b"{}", {}, policy)
        assert refused.refused_code == "url_not_allowed"
        assert refused.url == webhook_receiver.url, "the hop that was refused is named"
        assert webhook_receiver.received == []
        # the same redirect, with the receiver's port allowed too, arrives (it fails the
        # signature check there: what matters is that it was sent)
        both = parse_allowlist(f"{only_port(redirector)}, 127.0.0.1:{receiver_port}")
        with OutboundClient(both) as client:
            sent = post(client, f"{redirector.base}/hook", b"{}", {}, policy)
        assert sent.status_code == 400
        assert webhook_receiver.rejected == 1


@pytest.fixture
def port_stack(tmp_path: Path, allowed: LoopbackServer) -> Iterator[Stack]:
    stack = build_stack("allowlist-ports", tmp_path, url_allowlist=only_port(allowed))
    yield stack
    stack.close()


def test_submission_checks_the_port(
    port_stack: Stack, allowed: LoopbackServer, other_port: LoopbackServer
) -> None:
    accepted = port_stack.api.post("/v1/tasks", json={"url": f"{allowed.base}/doc.pdf"})
    assert accepted.status_code == 202, accepted.text
    refused = port_stack.api.post("/v1/tasks", json={"url": f"{other_port.base}/doc.pdf"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "url_not_allowed"


def test_an_entry_that_cannot_match_stops_the_platform_from_starting(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OCR_DATA_DIR": str(tmp_path),
        "OCR_URL_ALLOWLIST": "127.0.0.1:8080, http://files.internal:8080/",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ocrp.main", "config", "show"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "OCR_URL_ALLOWLIST entry 'http://files.internal:8080/' is a URL" in done.stderr
