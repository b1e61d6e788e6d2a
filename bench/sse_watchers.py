"""Many idle Server-Sent Events watchers, for `bench.api_hot_paths --sse`: opens one stream per
task id (read from a file, one a line), reads whatever the server sends, and prints `open N`
once every stream has its first event. Runs until killed.

    python -m bench.sse_watchers http://127.0.0.1:8000 KEY ids.txt
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit


async def _watch(host: str, port: int, key: str, task_id: str, opened: asyncio.Queue[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /v1/tasks/{task_id}/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        await opened.put(f"failed {status!r}")
        return
    seen = b""
    while b"event: status" not in seen:  # the first event: the task's state
        chunk = await reader.read(65536)
        if not chunk:
            await opened.put("closed")
            return
        seen += chunk
    await opened.put("ok")
    while await reader.read(65536):
        pass


async def main(url: str, key: str, ids: list[str]) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    opened: asyncio.Queue[str] = asyncio.Queue()
    watchers = []
    for task_id in ids:
        watchers.append(asyncio.create_task(_watch(host, port, key, task_id, opened)))
        await asyncio.sleep(0.002)  # a ramp, not a thundering herd
    results = [await opened.get() for _ in ids]
    failed = [r for r in results if r != "ok"]
    print(f"open {len(ids) - len(failed)} failed {len(failed)} {failed[:3]}", flush=True)
    await asyncio.gather(*watchers)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]).read_text().split()))
