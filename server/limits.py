"""Request body limits, enforced while the body streams in.

A declared `Content-Length` over the limit is answered at once, before any byte is read; a body
that grows past the limit (chunked uploads, lying headers) is cut off as soon as it does. Both get
the standard error shape. Upload routes get their own limit; everything else the JSON limit.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, default_limit: int, upload_limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limits = upload_limits  # path → limit, for the routes that take documents

    def _limit(self, path: str) -> int:
        return self.upload_limits.get(path.rstrip("/"), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(send: Send, limit: int) -> None:
    message = f"the request body is larger than the limit of {limit:,} bytes"
    await send_error(send, 413, "payload_too_large", message)


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """The API's error shape sent straight from ASGI middleware (before any route runs), closing
    the connection: what comes after the refused part of the request is never read."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
