"""The asyncio client: the same operations as `Client`, from the same `Call`s, awaited. Waiting
for many tasks at once is `asyncio.gather(*(client.wait(t) for t in ids))`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from ocrp.sdk import calls, connection
from ocrp.sdk.answers import raise_for_error
from ocrp.sdk.errors import ConnectionFailed, WaitTimeout
from ocrp.sdk.retries import RETRY_STATUSES, RetryPolicy, parse_retry_after
from ocrp.sdk.sse import Event, EventParser
from ocrp.sdk.waiting import (
    BATCH_TERMINAL,
    EVENTS_READ_TIMEOUT_S,
    TERMINAL,
    PollSchedule,
    ResultFiles,
    is_terminal_event,
)
from server.batches.schemas import BatchItemList, BatchList, BatchResource, RetryResult
from server.tasks.schemas import PageList, TaskList, TaskResource
from server.webhooks.schemas import WebhookDeliveryList, WebhookDeliveryResource

T = TypeVar("T")


class AsyncClient:
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = connection.base_url(base_url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            base_url=self.base_url, headers=connection.headers(connection.api_key(api_key)), timeout=timeout
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _send(self, call: calls.Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    data=call.form,
                    files=call.files(),
                    headers=call.headers,
                )
            except httpx.TransportError as exc:
                if call.idempotent and attempt < self.retry.attempts:
                    await self._sleep(self.retry.backoff(attempt))
                    continue
                raise ConnectionFailed(f"could not reach the API at {self.base_url}: {exc}") from exc
            if response.status_code in RETRY_STATUSES and attempt < self.retry.attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                await self._sleep(self.retry.wait_after_status(attempt, retry_after))
                continue
            raise_for_error(response)
            return call.read(response)

    # ------------------------------------------------------------------ tasks
    async def submit(
        self, document: calls.Document, *, idempotency_key: str | None = None, **options: Any
    ) -> TaskResource:
        return await self._send(calls.submit(document, options, idempotency_key))

    async def task(self, task_id: str, *, wait_s: float | None = None) -> TaskResource:
        return await self._send(calls.task(task_id, wait_s))

    async def tasks(
        self, status: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> TaskList:
        return await self._send(calls.tasks(status, limit, cursor))

    async def iter_tasks(
        self, status: str | None = None, page_size: int = 100
    ) -> AsyncIterator[TaskResource]:
        cursor: str | None = None
        while True:
            page = await self.tasks(status, page_size, cursor)
            for found in page.data:
                yield found
            if not (cursor := page.next_cursor):
                return

    async def pages(self, task_id: str, after: int | None = None, limit: int | None = None) -> PageList:
        return await self._send(calls.pages(task_id, after, limit))

    async def cancel(self, task_id: str) -> TaskResource:
        return await self._send(calls.cancel(task_id))

    async def delete(self, task_id: str) -> None:
        await self._send(calls.delete(task_id))

    async def retry_task(self, task_id: str) -> TaskResource:
        return await self._send(calls.retry(task_id))

    async def markdown(self, task_id: str) -> str:
        return await self._send(calls.markdown(task_id))

    async def layout(self, task_id: str) -> Any:
        return await self._send(calls.layout(task_id))

    async def image(self, task_id: str, name: str) -> bytes:
        return await self._send(calls.image(task_id, name))

    async def download(self, task: TaskResource | str, out_dir: Path) -> ResultFiles:
        found = await self.task(task) if isinstance(task, str) else task
        base = f"/v1/tasks/{found.id}"
        names = [url.rsplit("/", 1)[-1] for url in (found.result.images if found.result else [])]
        return ResultFiles(
            markdown=await self._stream_to(f"{base}/result.md", out_dir / "full.md"),
            layout=await self._stream_to(f"{base}/result.json", out_dir / "layout.json"),
            images=[await self._stream_to(f"{base}/images/{n}", out_dir / "images" / n) for n in names],
        )

    async def _stream_to(self, path: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                await response.aread()
                raise_for_error(response)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
            partial.replace(target)
        return target

    # ------------------------------------------------------------------ waiting
    async def wait(
        self,
        task_id: str,
        timeout_s: float | None = None,
        *,
        follow: bool = True,
        on_event: Callable[[Event], None] | None = None,
    ) -> TaskResource:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if follow:
            await self._follow(task_id, deadline, on_event)
        return await self._poll(task_id, deadline, timeout_s)

    async def _follow(
        self, task_id: str, deadline: float | None, on_event: Callable[[Event], None] | None
    ) -> None:
        parser = EventParser()
        failures = 0
        while deadline is None or time.monotonic() < deadline:
            headers = {"Last-Event-ID": parser.last_id} if parser.last_id else {}
            left = EVENTS_READ_TIMEOUT_S if deadline is None else deadline - time.monotonic()
            timeout = httpx.Timeout(10.0, read=max(min(EVENTS_READ_TIMEOUT_S, left), 0.1))
            try:
                url = f"/v1/tasks/{task_id}/events"
                async with self.http.stream("GET", url, headers=headers, timeout=timeout) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise_for_error(response)
                    async for line in response.aiter_lines():
                        event = parser.feed(line)
                        if event is None:
                            continue
                        if on_event is not None:
                            on_event(event)
                        if is_terminal_event(event.event, event.json()):
                            return
            except httpx.TransportError:
                failures += 1
                if failures >= self.retry.attempts * 3:
                    return
                await self._sleep(self.retry.backoff(min(failures, 4)))

    async def _poll(self, task_id: str, deadline: float | None, timeout_s: float | None) -> TaskResource:
        schedule = PollSchedule()
        while True:
            response = await self._send(
                calls.Call("GET", f"/v1/tasks/{task_id}", lambda r: r, idempotent=True)
            )
            found = TaskResource.model_validate(response.json())
            if found.status in TERMINAL:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(task_id, found.status, timeout_s or 0.0)
            pause = schedule.next(parse_retry_after(response.headers.get("Retry-After")))
            if deadline is not None:
                pause = min(pause, max(deadline - time.monotonic(), 0.0))
            await self._sleep(pause)

    # ------------------------------------------------------------------ batches
    async def create_batch(self, *, idempotency_key: str | None = None, **body: Any) -> BatchResource:
        return await self._send(calls.create_batch(body, idempotency_key))

    async def upload_batch(
        self, archive: Path | bytes | IO[bytes], *, idempotency_key: str | None = None, **fields: Any
    ) -> BatchResource:
        return await self._send(calls.upload_batch(archive, fields, idempotency_key))

    async def wait_batch(self, batch_id: str, timeout_s: float | None = None) -> BatchResource:
        """Poll the batch until it is `completed`, `failed` or `canceled`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        schedule = PollSchedule(first_s=0.5, max_s=10.0)
        while True:
            found = await self.batch(batch_id)
            if found.status in BATCH_TERMINAL:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(batch_id, found.status, timeout_s or 0.0)
            await self._sleep(schedule.next())

    async def batch(self, batch_id: str) -> BatchResource:
        return await self._send(calls.batch(batch_id))

    async def batches(
        self, limit: int | None = None, cursor: str | None = None, idempotency_key: str | None = None
    ) -> BatchList:
        return await self._send(calls.batches(limit, cursor, idempotency_key))

    async def batch_tasks(
        self, batch_id: str, status: str | None = None, limit: int | None = None, cursor: int | None = None
    ) -> BatchItemList:
        return await self._send(calls.batch_tasks(batch_id, status, limit, cursor))

    async def retry_failed(self, batch_id: str) -> RetryResult:
        return await self._send(calls.retry_failed(batch_id))

    async def cancel_batch(self, batch_id: str) -> BatchResource:
        return await self._send(calls.cancel_batch(batch_id))

    async def manifest(self, batch_id: str) -> list[dict[str, Any]]:
        return await self._send(calls.manifest(batch_id))

    # ------------------------------------------------------------------ webhooks
    async def deliveries(self, task_id: str) -> WebhookDeliveryList:
        return await self._send(calls.deliveries(task_id))

    async def delivery(self, delivery_id: str) -> WebhookDeliveryResource:
        return await self._send(calls.delivery(delivery_id))

    async def redeliver(self, delivery_id: str) -> WebhookDeliveryResource:
        return await self._send(calls.redeliver(delivery_id))
