"""Give the 413 of the request-size limits the error shape of every other error.

Starlette's body limit (FastAPI's `max_body_size`, app-wide or per router) replaces the
response of an oversized request with a plain-text "Content Too Large" as it is sent, outside
every middleware an app can add. `wrap_middleware_stack` puts this rewriter around the whole
stack, where it turns that one response into `{"error": {"code": "payload_too_large", ...}}`.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY = json.dumps(
    {"error": {"code": "payload_too_large", "message": "the request body is larger than this route accepts"}}
).encode()


class JsonPayloadTooLarge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def rewrite(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the plain-text body of the replaced response
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/plain"):
                    replaced = True
                    length = str(len(_BODY)).encode()
                    start: Message = {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", length)],
                    }
                    await send(start)
                    await send({"type": "http.response.body", "body": _BODY})
                    return
            await send(message)

        await self.app(scope, receive, rewrite)


def wrap_middleware_stack(app: FastAPI) -> None:
    """Install the rewriter outside the body limiter (which FastAPI places outermost)."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: JsonPayloadTooLarge(build())  # type: ignore[method-assign]
