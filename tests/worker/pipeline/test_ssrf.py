"""SSRF: a `url` source can reach neither the machine nor the network behind the platform.

The checks at submission (127.0.0.1, 169.254.169.254 refused with 400), on every redirect hop,
and on the connection itself: the address connected to is the address checked, so a DNS name
that answers a public address to the check and a private one to the connection (rebinding)
gets nowhere. DNS answers are the one thing the test supplies (`resolver`); every connection is
real, to real local HTTP servers."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from shared.config import Settings
from shared.errors import InvalidRequest
from shared.outbound.client import HopLimits, OutboundClient
from shared.urls import IPAddress, check_url, parse_allowlist
from tests.documents import text_pdf
from tests.fixtures.stack import Stack, build_stack
from worker.pipeline.source import download_url

PUBLIC = ipaddress.ip_address("93.184.216.34")
LIMITS = HopLimits(max_redirects=0, timeout=httpx.Timeout(5), deadline_s=10)


class Recorder(BaseHTTPRequestHandler):
    """Serves a PDF at /doc.pdf, redirects /to?url=..., records every request it gets."""

    hits: list[tuple[str, str]]

    def do_GET(self) -> None:
        self.hits.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/to?url="):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/to?url="))
            self.end_headers()
            return
        body = text_pdf(["internal only"])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


def _serve(host: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    hits: list[tuple[str, str]] = []
    handler = type("Handler", (Recorder,), {"hits": hits})
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{host}:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def internal() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A server on 127.0.0.1 that nothing outside should reach."""
    yield from _serve("127.0.0.1")


@pytest.fixture
def redirector() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """An allowlisted server (127.0.0.2 stands for a partner's file server)."""
    yield from _serve("127.0.0.2")


@pytest.fixture(scope="module")
def closed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The API with no allowlist (the test stacks allowlist 127.0.0.0/8 for local servers)."""
    stack = build_stack("ssrf", tmp_path_factory.mktemp("ssrf"), url_allowlist="")
    yield stack
    stack.close()


def _settings(tmp_path: Path, allowlist: str) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, url_allowlist=allowlist)  # type: ignore[call-arg]


def _rebinding(first: IPAddress, then: IPAddress):  # type: ignore[no-untyped-def]
    """A DNS name that answers `first` once and `then` ever after."""
    answers = [first]

    def resolve(host: str, port: int) -> list[IPAddress]:
        return [answers.pop() if answers else then]

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/doc.pdf",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::1]:{port}/doc.pdf",
    ],
)
def test_a_private_or_metadata_url_is_refused_at_submission(
    embedded_stack: Stack, internal, url: str
) -> None:  # type: ignore[no-untyped-def]
    base, hits = internal
    stack_without_allowlist = embedded_stack.settings.model_copy(update={"url_allowlist": ""})
    embedded_stack.api.app.state.settings = stack_without_allowlist
    response = embedded_stack.api.post("/v1/tasks", json={"url": url.format(port=base.rsplit(":", 1)[1])})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_not_allowed"
    assert hits == []


@pytest.mark.parametrize("target", ["{internal}/doc.pdf", "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_a_private_address_is_not_followed(
    tmp_path: Path, internal, redirector, target: str
) -> None:  # type: ignore[no-untyped-def]
    internal_base, internal_hits = internal
    redirect_base, redirect_hits = redirector
    settings = _settings(tmp_path, "127.0.0.2/32")
    with pytest.raises(InvalidRequest) as caught:
        download_url(
            f"{redirect_base}/to?url={target.format(internal=internal_base)}", str(tmp_path / "in"), settings
        )
    assert caught.value.code == "url_not_allowed"
    assert len(redirect_hits) == 1
    assert internal_hits == []
    assert not (tmp_path / "in").exists()


def test_an_allowlisted_redirect_is_followed(tmp_path: Path, redirector) -> None:  # type: ignore[no-untyped-def]
    base, hits = redirector
    _, size = download_url(
        f"{base}/to?url={base}/doc.pdf", str(tmp_path / "in"), _settings(tmp_path, "127.0.0.2")
    )
    assert size == (tmp_path / "in").stat().st_size > 0
    assert [path for path, _ in hits] == [f"/to?url={base}/doc.pdf", "/doc.pdf"]


def test_dns_rebinding_cannot_reach_a_private_address(tmp_path: Path, internal) -> None:  # type: ignore[no-untyped-def]
    base, hits = internal
    port = base.rsplit(":", 1)[1]
    loopback = ipaddress.ip_address("127.0.0.1")
    # the name looks public when checked at submission, then points at 127.0.0.1 when fetched
    url = f"http://rebind.example:{port}/doc.pdf"
    resolver = _rebinding(PUBLIC, loopback)
    check_url(url, (), resolver)
    with pytest.raises(InvalidRequest) as caught:
        download_url(url, str(tmp_path / "in"), _settings(tmp_path, ""), resolver)
    assert caught.value.code == "url_not_allowed"
    assert "127.0.0.1" in caught.value.message
    assert hits == []


def test_the_connection_goes_to_the_checked_address_with_the_names_host_header(internal) -> None:  # type: ignore[no-untyped-def]
    base, hits = internal
    port = base.rsplit(":", 1)[1]
    # allowlisted loopback first, then a second answer that would lead elsewhere: the
    # transport resolves once per connection and connects to what it checked
    resolver = _rebinding(ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.9.9.9"))
    with (
        OutboundClient(parse_allowlist("127.0.0.0/8"), resolver) as client,
        client.open("GET", f"http://files.example:{port}/doc.pdf", LIMITS) as response,
    ):
        assert response.status_code == 200
        assert response.read().startswith(b"%PDF")
    assert hits == [("/doc.pdf", f"files.example:{port}")]


def test_environment_proxies_are_ignored(monkeypatch: pytest.MonkeyPatch, internal) -> None:  # type: ignore[no-untyped-def]
    # a proxy would connect for us, to an address we never checked
    base, hits = internal
    monkeypatch.setenv("HTTP_PROXY", "http://169.254.169.254:80")
    monkeypatch.setenv("ALL_PROXY", "http://169.254.169.254:80")
    with (
        OutboundClient(parse_allowlist("127.0.0.0/8")) as client,
        client.open("GET", f"{base}/doc.pdf", LIMITS) as response,
    ):
        assert response.status_code == 200
    assert len(hits) == 1
