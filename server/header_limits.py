"""A bound on the number of request header fields, checked before anything else runs (the
byte size of the headers is bounded earlier, by the HTTP protocol: OCR_API_MAX_HEADER_BYTES)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class HeaderCountLimit:
    def __init__(self, app: ASGIApp, max_headers: int) -> None:
        self.app = app
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["headers"]) > self.max_headers:
            body = json.dumps(
                {
                    "error": {
                        "code": "too_many_headers",
                        "message": f"the request has more than {self.max_headers} header fields",
                    }
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 431,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
