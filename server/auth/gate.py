"""Authenticate upload requests before their body is read.

FastAPI parses a multipart body before it runs the route's dependencies, so without this an
anonymous client could make the API spool a whole upload (up to OCR_MAX_UPLOAD_BYTES) to disk
before hearing 401. The gate answers first, also for a key without the `submit` scope every
upload route needs (403, before the body as well); the caller it found is kept in the request
state for `authenticate` to reuse (one key lookup, one rate-limit token per request).
"""

from __future__ import annotations

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.authenticate import require_scope, resolve_caller_async
from server.errors import error_response


class UploadAuthGate:
    def __init__(self, app: ASGIApp, state: State, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.state = state
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].rstrip("/") in self.upload_paths
        ):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
        try:
            caller = await resolve_caller_async(self.state, authorization)
            require_scope(caller, "submit")
        except Exception as exc:
            response = error_response(exc)
            if response is None:
                raise
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)
