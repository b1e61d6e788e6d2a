"""A bound on the number of request header fields, checked before anything else runs (the
byte size of the headers is bounded earlier, by the HTTP protocol: OCR_API_MAX_HEADER_BYTES)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from server.limits import send_error


class HeaderCountLimit:
    def __init__(self, app: ASGIApp, max_headers: int) -> None:
        self.app = app
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["headers"]) > self.max_headers:
            message = f"the request has more than {self.max_headers} header fields"
            await send_error(send, 431, "too_many_headers", message)
            return
        await self.app(scope, receive, send)
