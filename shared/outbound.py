"""Outbound HTTP that connects only where the SSRF guard allowed.

`check_url` alone leaves a gap: it resolves a name, then the HTTP client resolves it again to
connect, and a hostile DNS server can answer a public address the first time and 127.0.0.1 or
169.254.169.254 the second (DNS rebinding). Here the resolution that is checked is the one that
is used: the transport's network backend resolves the host once, checks every address
(`shared.urls.vetted_addresses`), and opens the TCP connection to that checked address. The
URL is untouched, so the Host header, TLS SNI and certificate checks still use the name.

Environment proxies are ignored (`trust_env=False`): a proxy would make the connection for us,
to an address we never checked. Used for `url` sources; webhooks should use it too.
"""

from __future__ import annotations

import ssl
import typing

import certifi
import httpcore
import httpx

from shared.errors import InvalidRequest
from shared.urls import Allowlist, IPNetwork, Resolver, resolve, vetted_addresses


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowlist: Allowlist, resolver: Resolver = resolve) -> None:
        self.allowlist: list[IPNetwork | str] = list(allowlist)
        self.resolver = resolver
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = vetted_addresses(host, port, self.allowlist, self.resolver)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise InvalidRequest("unix sockets are not reachable from outside", "url_not_allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded network backend in its connection pool."""

    def __init__(self, allowlist: Allowlist, resolver: Resolver = resolve) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=GuardedBackend(allowlist, resolver),
        )


def guarded_client(
    allowlist: Allowlist, timeout: httpx.Timeout | float, resolver: Resolver = resolve
) -> httpx.Client:
    """An httpx client that can only reach public or allowlisted addresses. It never follows
    redirects by itself: the caller checks each hop (`check_url`) and counts them."""
    return httpx.Client(
        transport=GuardedTransport(allowlist, resolver),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
