"""The HTTP/1.1 protocol `ocrp serve` runs: uvicorn's h11 protocol with a deadline for request
headers.

uvicorn bounds the size of the headers it buffers (`h11_max_incomplete_event_size`) and the
idle time of a kept-alive connection, but not the time a client takes to send its headers: a
connection that opens and sends nothing, or a header a byte every few seconds (slowloris), is
held forever. Here each connection must complete a request's headers within
OCR_API_HEADER_TIMEOUT_S of opening, and again of each answer on a kept-alive connection, or it
is answered 408 and closed. This runs before the application, hence before any key check.
"""

from __future__ import annotations

import asyncio
from functools import cache

from uvicorn.protocols.http.h11_impl import H11Protocol

_TIMEOUT_TEXT = b"the request headers came in too slowly"
TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)


@cache
def header_timeout_s() -> float:
    from shared.config import get_settings

    return get_settings().api_header_timeout_s


class HeaderDeadlineProtocol(H11Protocol):
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._awaiting_headers():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(header_timeout_s(), self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.write(TIMEOUT_ANSWER)
            self.transport.close()
