"""`ocrp mcp`: the platform as tools for AI assistants, over the Model Context Protocol (the
official `mcp` SDK), on stdio or streamable HTTP. Each tool is a call of the typed SDK.

Authentication: on stdio the server acts with one API key (OCR_API_KEY, --key, or the local
key). Over HTTP every client sends its own ocrp API key as a bearer token; the server checks it
against the API and acts with it, so owners stay apart and scopes hold. Local paths as sources
are read only on stdio (the assistant runs as the user); over HTTP a remote caller could
otherwise read the MCP host's files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ocrp.sdk import (
    NO_RETRIES,
    ApiError,
    AsyncClient,
    ConnectionFailed,
    Forbidden,
    TaskResource,
    Unauthorized,
)

INSTRUCTIONS = (
    "OCR documents (PDF, PNG, JPEG, TIFF, WebP) into markdown with layout, tables as HTML and "
    "figures, on the user's ocrp platform. Use ocr_document for one document you need now; "
    "submit_document, then get_task and get_result, for long documents."
)
VERIFIED_FOR_S = 30.0
"""How long a checked bearer key is trusted before the API is asked again (revocation lag)."""


class ApiKeyVerifier:
    """A bearer token is valid when the API accepts it as a key (any scope)."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self._verified: dict[str, float] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        if time.monotonic() - self._verified.get(token, -VERIFIED_FOR_S) >= VERIFIED_FOR_S:
            async with AsyncClient(self.api_url, token, retry=NO_RETRIES) as api:
                try:
                    await api.tasks(limit=1)
                except Unauthorized:
                    self._verified.pop(token, None)
                    return None
                except Forbidden:
                    pass  # a key without `read` is still a key; its tools answer 403 themselves
            self._verified[token] = time.monotonic()
        return AccessToken(token=token, client_id="ocrp-api-key", scopes=[])


def _summary(task: TaskResource) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "status": task.status,
        "pages_done": task.progress.pages_done,
        "pages_total": task.progress.pages_total,
        "pages_failed": task.progress.pages_failed,
        "error": task.error.model_dump() if task.error else None,
        "filename": task.source.filename,
    }


def build_server(
    api_url: str, api_key: str | None, *, http: bool, public_url: str | None = None
) -> MCPServer:
    auth = token_verifier = None
    if http:
        auth = AuthSettings(issuer_url=api_url, resource_server_url=public_url or "http://127.0.0.1:8765/mcp")
        token_verifier = ApiKeyVerifier(api_url)
    server: MCPServer = MCPServer("ocrp", instructions=INSTRUCTIONS, auth=auth, token_verifier=token_verifier)

    def client() -> AsyncClient:
        token = get_access_token()
        key = token.token if token is not None else api_key
        if not key:
            raise ToolError("no API key: set OCR_API_KEY for `ocrp mcp`")
        return AsyncClient(api_url, key)

    def document(source: str) -> str | Path:
        if source.startswith(("http://", "https://", "s3://")):
            return source
        if http:
            raise ToolError(
                "over HTTP give an http(s) URL or an s3:// URI; local paths are read on stdio only"
            )
        path = Path(source).expanduser()
        if not path.is_file():
            raise ToolError(f"{source} is not a file, an http(s) URL or an s3:// URI")
        return path

    async def call(work: Any) -> Any:
        try:
            return await work
        except ApiError as error:
            raise ToolError(f"{error.code}: {error.message}") from None
        except ConnectionFailed as error:
            raise ToolError(str(error)) from None

    @server.tool(description="OCR one document and return its markdown (waits for the result).")
    async def ocr_document(
        source: str, pages: str | None = None, mode: str | None = None, max_wait_s: float = 600
    ) -> str:
        """source: an http(s) URL, an s3:// URI or (on stdio) a local path; pages like "1-3,7"."""
        async with client() as api:
            task = await call(api.submit(document(source), pages=pages, mode=mode))
            done: TaskResource = await call(api.wait(task.id, timeout_s=max_wait_s, follow=False))
            if done.status != "succeeded":
                reason = f"{done.error.code}: {done.error.message}" if done.error else done.status
                raise ToolError(f"task {done.id} {done.status}: {reason}")
            return str(await call(api.markdown(done.id)))

    @server.tool(description="Submit a document for OCR without waiting; returns the task id and status.")
    async def submit_document(
        source: str, pages: str | None = None, mode: str | None = None, webhook_url: str | None = None
    ) -> dict[str, Any]:
        async with client() as api:
            return _summary(
                await call(api.submit(document(source), pages=pages, mode=mode, webhook_url=webhook_url))
            )

    @server.tool(description="A task's status and page progress.")
    async def get_task(task_id: str) -> dict[str, Any]:
        async with client() as api:
            return _summary(await call(api.task(task_id)))

    @server.tool(description="A finished task's result: its markdown, or layout.json as JSON text.")
    async def get_result(task_id: str, format: Literal["markdown", "layout"] = "markdown") -> str:
        async with client() as api:
            if format == "layout":
                return json.dumps(await call(api.layout(task_id)), ensure_ascii=False)
            return str(await call(api.markdown(task_id)))

    @server.tool(description="Your most recent tasks, newest first, optionally of one status.")
    async def list_tasks(status: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        async with client() as api:
            found = await call(api.tasks(status, min(max(limit, 1), 200)))
            return [_summary(t) for t in found.data]

    return server
