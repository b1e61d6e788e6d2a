"""`ocrp mcp` driven by the official MCP SDK's own client, on stdio and on streamable HTTP, in
front of a running platform (a uvicorn API and a real worker process)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.fixtures.services import free_port, port_open, wait_for
from tests.fixtures.stack import REPO, Stack

pytestmark = pytest.mark.slow
TOOLS = {"ocr_document", "submit_document", "get_task", "get_result", "list_tasks"}


def text_of(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


@pytest.fixture
def api(embedded_stack: Stack) -> tuple[Stack, str]:
    embedded_stack.start_worker()
    _, url = embedded_stack.start_api_server()
    return embedded_stack, url


def test_stdio_lists_the_tools_and_ocrs_a_local_file(api: tuple[Stack, str], data_dir: Path) -> None:
    stack, url = api
    env = {**stack.env, "OCR_API_URL": url}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "ocrp.main", "mcp"], env=env, cwd=str(REPO)
    )

    async def session() -> tuple[set[str], str, Any]:
        async with Client(params, read_timeout_seconds=180) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool(
                "ocr_document", {"source": str(data_dir / "book-4p.pdf"), "pages": "1"}
            )
            missing = await client.call_tool("get_task", {"task_id": "tsk_doesnotexist"})
            return tools, text_of(result), missing

    tools, markdown, missing = asyncio.run(session())
    assert tools >= TOOLS
    assert "<!-- page 1 -->" in markdown
    assert len(markdown) > 200
    assert missing.is_error
    assert "task_not_found" in text_of(missing)


@pytest.fixture
def mcp_http(api: tuple[Stack, str], tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    stack, url = api
    port = free_port()
    log = (tmp_path / "mcp.log").open("wb")
    args = ["-m", "ocrp.main", "mcp", "--transport", "http", "--port", str(port), "--api", url]
    proc = subprocess.Popen(
        [sys.executable, *args], env=stack.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: port_open("127.0.0.1", port), 60, "the MCP server")
        yield stack, f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_http_acts_with_each_caller_s_own_key_and_refuses_strangers(
    mcp_http: tuple[Stack, str], data_dir: Path
) -> None:
    stack, url = mcp_http
    other_owner = stack.new_key(owner="someone-else")
    source = "http://127.0.0.1:9/never-fetched.pdf"

    async def as_caller(key: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
        async with (
            http,
            Client(streamable_http_client(url, http_client=http), read_timeout_seconds=120) as client,
        ):
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    [submitted] = asyncio.run(as_caller(stack.api_key, [("submit_document", {"source": source})]))
    task = json.loads(text_of(submitted))
    assert task["status"] == "queued"
    [mine] = asyncio.run(as_caller(stack.api_key, [("get_task", {"task_id": task["task_id"]})]))
    assert json.loads(text_of(mine))["task_id"] == task["task_id"]
    [theirs] = asyncio.run(as_caller(other_owner, [("get_task", {"task_id": task["task_id"]})]))
    assert theirs.is_error  # another owner's key does not see it
    assert "task_not_found" in text_of(theirs)
    [local] = asyncio.run(
        as_caller(stack.api_key, [("submit_document", {"source": str(data_dir / "book-4p.pdf")})])
    )
    assert local.is_error  # no reading of the MCP host's files over HTTP
    assert "stdio only" in text_of(local)

    refused = httpx2.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": "Bearer ocrp_wrong"},
    )
    assert refused.status_code == 401
