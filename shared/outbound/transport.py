"""The httpx transport that connects only where the SSRF guard allowed, and never past a deadline.

Checking a URL and then letting the HTTP client resolve it again leaves a gap: a hostile DNS
server can answer a public address to the check and 127.0.0.1 or 169.254.169.254 to the
connection (DNS rebinding). Here the resolution that is checked is the one that is used: the
network backend resolves the host once, checks every address against the private-address rules
and the allowlist, host and port (`shared.urls.vetted_addresses`), and opens the TCP connection
to one of those checked addresses, trying each in turn. The URL is untouched, so the Host
header, TLS SNI and certificate checks still use the name.

A per-read timeout does not bound an exchange: a server can drip its headers or body a byte at
a time. `GuardedBackend.deadline()` sets a moment after which no connect, read or write of the
current thread's exchange may wait; every network wait is cut to what is left of it.

Environment proxies are ignored (`trust_env=False` in `client.py`): a proxy would make the
connection for us, to an address we never checked.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
import typing
from collections.abc import Iterator

import certifi
import httpcore
import httpx

from shared.errors import InvalidRequest
from shared.outbound.allowlist import AllowEntry, Allowlist
from shared.urls import Resolver, resolve, vetted_addresses

# the deadline (time.monotonic) of the exchange this thread is running; None: only the timeouts
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("outbound_deadline", default=None)

_Timeout = type[httpcore.ConnectTimeout] | type[httpcore.ReadTimeout] | type[httpcore.WriteTimeout]


def _bounded(timeout: float | None, error: _Timeout) -> float | None:
    """`timeout` cut to what is left of the current deadline; raises `error` once it passed."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the overall time limit of the request passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowlist: Allowlist, resolver: Resolver = resolve) -> None:
        self.allowlist: list[AllowEntry] = list(allowlist)
        self.resolver = resolver
        self._inner = httpcore.SyncBackend()

    @staticmethod
    @contextlib.contextmanager
    def deadline(at: float) -> Iterator[None]:
        """Within the block, this thread's network waits end at `at` (time.monotonic)."""
        token = _deadline.set(at)
        try:
            yield
        finally:
            _deadline.reset(token)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = vetted_addresses(host, port, self.allowlist, self.resolver)
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        # a name with several addresses is reachable while any of them answers
        for address in addresses:
            try:
                wait = _bounded(timeout, httpcore.ConnectTimeout)
                stream = self._inner.connect_tcp(str(address), port, wait, local_address, socket_options)
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

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

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=backend,
        )
