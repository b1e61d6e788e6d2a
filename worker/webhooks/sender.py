"""One HTTP try of a delivery, through the platform's one outbound client.

`shared.outbound.client.OutboundClient` does the safety work: each hop's addresses, host and
port are checked against the private-address rules and OCR_URL_ALLOWLIST when it connects, to
any of the name's vetted addresses, so a DNS answer that changes between the check and the
connection cannot point it at a private address. Redirects are not followed unless
`max_redirects` allows; each hop gets the same signed POST. Only the first `RESPONSE_MAX_CHARS`
of an answer are read and kept, and the whole try ends at one deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from shared.errors import OcrpError
from shared.outbound.client import HopLimits, OutboundClient
from shared.urls import HostNotResolved, parse_allowlist

if TYPE_CHECKING:
    from shared.config import Settings

RESPONSE_MAX_CHARS = 2048


@dataclass(frozen=True)
class SendPolicy:
    timeout_s: float
    max_redirects: int


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


def make_client(settings: Settings) -> OutboundClient:
    return OutboundClient(parse_allowlist(settings.url_allowlist))


def post(
    client: OutboundClient, url: str, body: bytes, headers: dict[str, str], policy: SendPolicy
) -> SendResult:
    started = time.monotonic()
    hops: list[str] = []
    limits = HopLimits(
        max_redirects=policy.max_redirects,
        timeout=httpx.Timeout(policy.timeout_s),
        deadline_s=policy.timeout_s * (1 + policy.max_redirects),
    )

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with client.open("POST", url, limits, content=body, headers=headers, hops=hops) as response:
            answer = _read_capped(response.iter_bytes())
    except HostNotResolved as exc:
        return SendResult(hops[-1], latency_ms=elapsed_ms(), error=exc.message)
    except OcrpError as exc:
        return SendResult(hops[-1], error=exc.message, refused_code=exc.code)
    except httpx.TimeoutException:
        return SendResult(hops[-1], latency_ms=elapsed_ms(), error=f"timed out after {policy.timeout_s:g}s")
    except httpx.HTTPError as exc:
        return SendResult(hops[-1], latency_ms=elapsed_ms(), error=f"{type(exc).__name__}: {exc}")
    status, location = response.status_code, response.headers.get("location")
    if response.is_redirect and location:
        return SendResult(
            hops[-1],
            status,
            elapsed_ms(),
            answer,
            error=f"redirect to {location} not followed (OCR_WEBHOOK_MAX_REDIRECTS={policy.max_redirects})",
        )
    return SendResult(hops[-1], status, elapsed_ms(), answer, retry_after=response.headers.get("retry-after"))


def _read_capped(chunks: Iterable[bytes]) -> str:
    """The start of the answer: a receiver that sends megabytes, or streams forever (until the
    client's deadline), is cut off."""
    kept = bytearray()
    try:
        for chunk in chunks:
            kept += chunk
            if len(kept) >= RESPONSE_MAX_CHARS * 4:
                break
    except httpx.TimeoutException:
        pass  # the status has arrived; what the body had sent by the deadline is enough
    text = kept.decode("utf-8", errors="replace").replace("\x00", "")
    return text[:RESPONSE_MAX_CHARS]
