"""One HTTP try of a delivery, with the outbound safety rules.

Before every hop the target is resolved and checked (`shared.urls.allowed_addresses`), and the
request goes to the checked address itself, with the original `Host` and TLS server name: a DNS
answer that changes between the check and the connection cannot point it at a private address.
Redirects are not followed unless `max_redirects` allows; each hop is checked again and gets the
same signed POST. Only the first `RESPONSE_MAX_CHARS` of an answer are read and kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from shared.errors import InvalidRequest
from shared.urls import HostNotResolved, IPAddress, IPNetwork, allowed_addresses

RESPONSE_MAX_CHARS = 2048


@dataclass(frozen=True)
class SendPolicy:
    timeout_s: float
    max_redirects: int
    allowlist: tuple[IPNetwork | str, ...]


@dataclass(frozen=True)
class SendResult:
    url: str  # the last URL tried (differs from the endpoint's after a redirect)
    status_code: int | None = None
    latency_ms: int | None = None
    response_body: str | None = None
    error: str | None = None
    retry_after: str | None = None
    refused_code: str | None = None  # the safety rules refused the target: no point retrying

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def make_client() -> httpx.Client:
    # trust_env=False: a proxy from the environment would connect to the name, not the checked address
    return httpx.Client(follow_redirects=False, trust_env=False)


def post(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], policy: SendPolicy
) -> SendResult:
    started = time.monotonic()
    deadline = started + policy.timeout_s * (1 + policy.max_redirects)
    current = url

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    for hop in range(policy.max_redirects + 1):
        try:
            addresses = allowed_addresses(current, policy.allowlist)
        except HostNotResolved as exc:
            return SendResult(current, latency_ms=elapsed_ms(), error=exc.message)
        except InvalidRequest as exc:
            return SendResult(current, error=exc.message, refused_code=exc.code)
        try:
            status, answer, location, retry_after = _post_pinned(
                client, current, addresses[0], body, headers, policy.timeout_s, deadline
            )
        except httpx.TimeoutException:
            return SendResult(
                current, latency_ms=elapsed_ms(), error=f"timed out after {policy.timeout_s:g}s"
            )
        except httpx.HTTPError as exc:
            return SendResult(current, latency_ms=elapsed_ms(), error=f"{type(exc).__name__}: {exc}")
        if 300 <= status < 400 and location:
            if hop < policy.max_redirects:
                current = urljoin(current, location)
                continue
            return SendResult(
                current,
                status,
                elapsed_ms(),
                answer,
                error=f"redirect to {location} not followed (OCR_WEBHOOK_MAX_REDIRECTS="
                f"{policy.max_redirects})",
            )
        return SendResult(current, status, elapsed_ms(), answer, retry_after=retry_after)
    raise AssertionError("unreachable: the loop returns on its last hop")


def pinned_url(url: str, address: IPAddress) -> str:
    """`url` with its host replaced by `address` (bracketed for IPv6), port and path kept."""
    parts = urlsplit(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _post_pinned(
    client: httpx.Client,
    url: str,
    address: IPAddress,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    deadline: float,
) -> tuple[int, str, str | None, str | None]:
    parts = urlsplit(url)
    request = client.build_request(
        "POST",
        pinned_url(url, address),
        content=body,
        headers={**headers, "host": parts.netloc},
        timeout=httpx.Timeout(timeout_s),
        # the certificate is checked against the name, not the address we connect to
        extensions={"sni_hostname": parts.hostname} if parts.scheme == "https" else {},
    )
    response = client.send(request, stream=True)
    try:
        answer = _read_capped(response.iter_bytes(), deadline)
    finally:
        response.close()
    return response.status_code, answer, response.headers.get("location"), response.headers.get("retry-after")


def _read_capped(chunks: Iterable[bytes], deadline: float) -> str:
    """The start of the answer: a receiver that streams forever or sends megabytes is cut off."""
    kept = bytearray()
    for chunk in chunks:
        kept += chunk
        if len(kept) >= RESPONSE_MAX_CHARS * 4 or time.monotonic() > deadline:
            break
    text = kept.decode("utf-8", errors="replace").replace("\x00", "")
    return text[:RESPONSE_MAX_CHARS]
