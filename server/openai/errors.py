"""Errors the OpenAI SDK can read, still in the platform's shape.

The platform answers `{"error": {"code", "message"}}`; OpenAI's clients also look for `type` and
`param`. On the OpenAI-compatible routes every error body gets both, whoever raised it (the
route, request validation, authentication, the body limit), by a small middleware that rewrites
error responses of those routes. `code` and `message` stay as they are; the SDK raises
`openai.APIStatusError` subclasses whose `.code`, `.type`, `.param` and `.body` carry them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPENAI_PATHS = ("/v1/chat/", "/v1/models")


def error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def openai_error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": error_type(status), "param": param}}


def openai_error(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = openai_error_body(status, code, message, param)
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def _param_of(body: dict[str, Any]) -> str | None:
    """The request member a validation error points at (`messages.0.content`), if any."""
    details = body.get("details")
    if not isinstance(details, list) or not details or not isinstance(details[0], dict):
        return None
    location = [str(part) for part in details[0].get("loc", []) if part != "body"]
    return ".".join(location) or None


def rewrite(status: int, raw: bytes) -> bytes | None:
    """The error body with `type` and `param` added, or None when it is not a platform error."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        return None
    error.setdefault("type", error_type(status))
    error.setdefault("param", _param_of(body))
    return json.dumps(body, ensure_ascii=False).encode()


class OpenAIErrorShape:
    """Adds `type` and `param` to the JSON error bodies of the OpenAI-compatible routes."""

    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = OPENAI_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.paths):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def send_rewritten(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if int(message["status"]) >= 400 and _is_json(message):
                    start = message  # hold it: the body's length will change
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            raw = b"".join(parts)
            body = rewrite(int(start["status"]), raw) or raw
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_rewritten)


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).startswith(b"application/json")
    return False
