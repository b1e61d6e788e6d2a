"""The synchronous client. Every operation is a `Call` from `calls.py`, sent by `_send`, which
retries what is safe to retry (see `retries.py`) and raises the typed errors of `errors.py`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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


class Client:
    """`Client()` reads OCR_API_URL and OCR_API_KEY; pass `http` to bring your own httpx client
    (a proxy, mTLS, or an in-process ASGI app in tests)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = connection.base_url(base_url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._owns_http = http is None
        self.http = http or httpx.Client(
            base_url=self.base_url, headers=connection.headers(connection.api_key(api_key)), timeout=timeout
        )

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _send(self, call: calls.Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(
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
                    self._sleep(self.retry.backoff(attempt))
                    continue
                raise ConnectionFailed(f"could not reach the API at {self.base_url}: {exc}") from exc
            if response.status_code in RETRY_STATUSES and attempt < self.retry.attempts:
                self._sleep(
                    self.retry.wait_after_status(
                        attempt, parse_retry_after(response.headers.get("Retry-After"))
                    )
                )
                continue
            raise_for_error(response)
            return call.read(response)

    # ------------------------------------------------------------------ tasks
    def submit(
        self, document: calls.Document, *, idempotency_key: str | None = None, **options: Any
    ) -> TaskResource:
        """A task from a URL, an `s3://` URI, a path, bytes or a binary file, with the task
        options as keywords (`mode="base"`, `pages="1-3"`, `webhook_url=...`)."""
        return self._send(calls.submit(document, options, idempotency_key))

    def task(self, task_id: str, *, wait_s: float | None = None) -> TaskResource:
        return self._send(calls.task(task_id, wait_s))

    def tasks(
        self, status: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> TaskList:
        return self._send(calls.tasks(status, limit, cursor))

    def iter_tasks(self, status: str | None = None, page_size: int = 100) -> Iterator[TaskResource]:
        cursor: str | None = None
        while True:
            page = self.tasks(status, page_size, cursor)
            yield from page.data
            if not (cursor := page.next_cursor):
                return

    def pages(self, task_id: str, after: int | None = None, limit: int | None = None) -> PageList:
        return self._send(calls.pages(task_id, after, limit))

    def cancel(self, task_id: str) -> TaskResource:
        return self._send(calls.cancel(task_id))

    def delete(self, task_id: str) -> None:
        self._send(calls.delete(task_id))

    def retry_task(self, task_id: str) -> TaskResource:
        return self._send(calls.retry(task_id))

    def markdown(self, task_id: str) -> str:
        return self._send(calls.markdown(task_id))

    def layout(self, task_id: str) -> Any:
        return self._send(calls.layout(task_id))

    def image(self, task_id: str, name: str) -> bytes:
        return self._send(calls.image(task_id, name))

    def download(self, task: TaskResource | str, out_dir: Path) -> ResultFiles:
        """full.md, layout.json and images/ of a succeeded task, streamed to `out_dir`."""
        found = self.task(task) if isinstance(task, str) else task
        base = f"/v1/tasks/{found.id}"
        images = [name.rsplit("/", 1)[-1] for name in (found.result.images if found.result else [])]
        return ResultFiles(
            markdown=self._stream_to(f"{base}/result.md", out_dir / "full.md"),
            layout=self._stream_to(f"{base}/result.json", out_dir / "layout.json"),
            images=[self._stream_to(f"{base}/images/{name}", out_dir / "images" / name) for name in images],
        )

    def _stream_to(self, path: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            partial.replace(target)
        return target

    # ------------------------------------------------------------------ waiting
    def wait(
        self,
        task_id: str,
        timeout_s: float | None = None,
        *,
        follow: bool = True,
        on_event: Callable[[Event], None] | None = None,
    ) -> TaskResource:
        """Block until the task ends and return it. `follow` reads the task's event stream
        (each event goes to `on_event`), reconnecting where it left off; otherwise, or when the
        stream is not served, it polls with backoff, honouring `Retry-After`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if follow:
            self._follow(task_id, deadline, on_event)
        return self._poll(task_id, deadline, timeout_s)

    def _follow(self, task_id: str, deadline: float | None, on_event: Callable[[Event], None] | None) -> None:
        parser = EventParser()
        failures = 0
        while deadline is None or time.monotonic() < deadline:
            headers = {"Last-Event-ID": parser.last_id} if parser.last_id else {}
            read = (
                EVENTS_READ_TIMEOUT_S
                if deadline is None
                else max(min(EVENTS_READ_TIMEOUT_S, deadline - time.monotonic()), 0.1)
            )
            try:
                with self.http.stream(
                    "GET",
                    f"/v1/tasks/{task_id}/events",
                    headers=headers,
                    timeout=httpx.Timeout(10.0, read=read),
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise_for_error(response)
                    for line in response.iter_lines():
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
                    return  # the poll below says where things stand, or raises
                self._sleep(self.retry.backoff(min(failures, 4)))

    def _poll(self, task_id: str, deadline: float | None, timeout_s: float | None) -> TaskResource:
        schedule = PollSchedule()
        while True:
            response = self._send(calls.Call("GET", f"/v1/tasks/{task_id}", lambda r: r, idempotent=True))
            found = TaskResource.model_validate(response.json())
            if found.status in TERMINAL:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(task_id, found.status, timeout_s or 0.0)
            pause = schedule.next(parse_retry_after(response.headers.get("Retry-After")))
            if deadline is not None:
                pause = min(pause, max(deadline - time.monotonic(), 0.0))
            self._sleep(pause)

    # ------------------------------------------------------------------ batches
    def create_batch(self, *, idempotency_key: str | None = None, **body: Any) -> BatchResource:
        """A batch of an `s3_prefix` (with `glob`) or of `urls`, plus the task options."""
        return self._send(calls.create_batch(body, idempotency_key))

    def upload_batch(
        self, archive: Path | bytes | IO[bytes], *, idempotency_key: str | None = None, **fields: Any
    ) -> BatchResource:
        return self._send(calls.upload_batch(archive, fields, idempotency_key))

    def wait_batch(self, batch_id: str, timeout_s: float | None = None) -> BatchResource:
        """Poll the batch until it is `completed`, `failed` or `canceled`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        schedule = PollSchedule(first_s=0.5, max_s=10.0)
        while True:
            found = self.batch(batch_id)
            if found.status in BATCH_TERMINAL:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(batch_id, found.status, timeout_s or 0.0)
            self._sleep(schedule.next())

    def batch(self, batch_id: str) -> BatchResource:
        return self._send(calls.batch(batch_id))

    def batches(
        self, limit: int | None = None, cursor: str | None = None, idempotency_key: str | None = None
    ) -> BatchList:
        return self._send(calls.batches(limit, cursor, idempotency_key))

    def batch_tasks(
        self, batch_id: str, status: str | None = None, limit: int | None = None, cursor: int | None = None
    ) -> BatchItemList:
        return self._send(calls.batch_tasks(batch_id, status, limit, cursor))

    def retry_failed(self, batch_id: str) -> RetryResult:
        return self._send(calls.retry_failed(batch_id))

    def cancel_batch(self, batch_id: str) -> BatchResource:
        return self._send(calls.cancel_batch(batch_id))

    def manifest(self, batch_id: str) -> list[dict[str, Any]]:
        return self._send(calls.manifest(batch_id))

    # ------------------------------------------------------------------ webhooks
    def deliveries(self, task_id: str) -> WebhookDeliveryList:
        return self._send(calls.deliveries(task_id))

    def delivery(self, delivery_id: str) -> WebhookDeliveryResource:
        return self._send(calls.delivery(delivery_id))

    def redeliver(self, delivery_id: str) -> WebhookDeliveryResource:
        return self._send(calls.redeliver(delivery_id))
