"""`OutboundClient`: the one way the platform sends HTTP to a URL a client chose.

Redirects are followed here and nowhere else, up to a limit the caller sets. Each hop is
checked again: its shape (`shared.urls.target_of`: http(s), a host, no credentials, no control
characters) before the request, and its addresses, host and port against the allowlist and the
private-address rules when the transport connects (`transport.py`). The whole exchange, every
hop and the caller's reading of the body included, ends at one deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from shared.outbound.allowlist import Allowlist
from shared.outbound.transport import GuardedBackend, GuardedTransport
from shared.urls import Resolver, resolve, target_of


@dataclass(frozen=True)
class HopLimits:
    max_redirects: int
    timeout: httpx.Timeout  # of each connect, read and write
    deadline_s: float  # of the whole exchange


class OutboundClient:
    """An httpx connection pool that can only reach public or allowlisted addresses."""

    def __init__(self, allowlist: Allowlist, resolver: Resolver = resolve) -> None:
        self.backend = GuardedBackend(allowlist, resolver)
        self.http = httpx.Client(
            transport=GuardedTransport(self.backend), follow_redirects=False, trust_env=False
        )

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    @contextmanager
    def open(
        self,
        method: str,
        url: str,
        limits: HopLimits,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        hops: list[str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send, follow redirects, and yield the last answer with its body still to be read.

        Every hop gets the same method, body and headers (a webhook re-sends its signed POST).
        A redirect is yielded as is once `limits.max_redirects` are used up: what that means is
        the caller's to say. The URL of each hop is appended to `hops`, so that a caller can
        name where a failure happened. Refusals raise `InvalidRequest`, network failures
        `httpx.HTTPError`, the deadline `httpx.TimeoutException`."""
        with self.backend.deadline(time.monotonic() + limits.deadline_s):
            current = url
            for hop in range(limits.max_redirects + 1):
                if hops is not None:
                    hops.append(current)
                target_of(current)
                request = self.http.build_request(
                    method, current, content=content, headers=headers, timeout=limits.timeout
                )
                response = self.http.send(request, stream=True)
                location = response.headers.get("location")
                if not (response.is_redirect and location) or hop == limits.max_redirects:
                    try:
                        yield response
                    finally:
                        response.close()
                    return
                response.close()
                current = urljoin(current, location)
