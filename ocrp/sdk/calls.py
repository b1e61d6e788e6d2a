"""Every API operation the SDK knows, as a plain description of the request and of how to read
its answer. Pure: the sync and async clients send the same `Call`s, so each operation is
written once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from server.batches.schemas import BatchItemList, BatchList, BatchResource, RetryResult
from server.tasks.schemas import PageList, TaskList, TaskResource
from server.webhooks.schemas import WebhookDeliveryList, WebhookDeliveryResource

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Document = Path | str | bytes | IO[bytes]
"""What `submit` takes: an http(s) URL, an `s3://` URI, a local path, bytes or a binary file."""


@dataclass(frozen=True)
class Upload:
    """A multipart file part. `open` is called at each try, so a retried upload starts over."""

    filename: str
    open: Callable[[], bytes | IO[bytes]]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    upload: Upload | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = False
    """Safe to send again after a connection failure."""

    def files(self) -> dict[str, tuple[str, bytes | IO[bytes]]] | None:
        return {"file": (self.upload.filename, self.upload.open())} if self.upload else None


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate(response.json())


def _nothing(_: httpx.Response) -> None:
    return None


def _text(response: httpx.Response) -> str:
    return response.text


def _bytes(response: httpx.Response) -> bytes:
    return response.content


def _json(response: httpx.Response) -> Any:
    return response.json()


def _jsonl(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _query(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _read(path: str, read: Callable[[httpx.Response], T], **params: Any) -> Call[T]:
    return Call("GET", path, read, params=_query(**params), idempotent=True)


# --------------------------------------------------------------------------- submissions
def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return str(value)


def _idempotency(key: str | None) -> dict[str, str]:
    # one key per logical submission, made here, so that every retry of it carries the same one
    return {"Idempotency-Key": key or str(uuid.uuid4())}


def _upload_of(document: Path | bytes | IO[bytes], filename: str | None) -> Upload:
    if isinstance(document, Path):
        path = document
        return Upload(filename or path.name, lambda: path.open("rb"))
    if isinstance(document, bytes):
        data = document
        return Upload(filename or "document", lambda: data)
    handle = document
    start = handle.tell() if handle.seekable() else None

    def rewind() -> IO[bytes]:
        if start is not None:
            handle.seek(start)
        return handle

    return Upload(filename or Path(getattr(handle, "name", "document")).name, rewind)


def submit(
    document: Document, options: Mapping[str, Any], idempotency_key: str | None = None
) -> Call[TaskResource]:
    """A task from any kind of document: URL and `s3://` by JSON, everything else by upload."""
    fields = {k: v for k, v in options.items() if v is not None}
    headers = _idempotency(idempotency_key)
    if isinstance(document, str) and document.startswith(("http://", "https://")):
        body = {"url": document, **fields}
        return Call("POST", "/v1/tasks", _model(TaskResource), json=body, headers=headers, idempotent=True)
    if isinstance(document, str) and document.startswith("s3://"):
        body = {"s3_uri": document, **fields}
        return Call("POST", "/v1/tasks", _model(TaskResource), json=body, headers=headers, idempotent=True)
    if isinstance(document, str):
        document = Path(document)
    filename = fields.pop("filename", None)
    upload = _upload_of(document, filename)
    form = {k: _form_value(v) for k, v in fields.items()}
    return Call(
        "POST",
        "/v1/tasks/upload",
        _model(TaskResource),
        form=form,
        upload=upload,
        headers=headers,
        idempotent=True,
    )


def create_batch(body: Mapping[str, Any], idempotency_key: str | None = None) -> Call[BatchResource]:
    payload = {k: v for k, v in body.items() if v is not None}
    headers = _idempotency(idempotency_key or payload.pop("idempotency_key", None))
    return Call("POST", "/v1/batches", _model(BatchResource), json=payload, headers=headers, idempotent=True)


def upload_batch(
    archive: Path | bytes | IO[bytes], fields: Mapping[str, Any], idempotency_key: str | None = None
) -> Call[BatchResource]:
    form = {k: _form_value(v) for k, v in fields.items() if v is not None}
    headers = _idempotency(idempotency_key or form.pop("idempotency_key", None))
    upload = _upload_of(archive, None)
    return Call(
        "POST",
        "/v1/batches/upload",
        _model(BatchResource),
        form=form,
        upload=upload,
        headers=headers,
        idempotent=True,
    )


# --------------------------------------------------------------------------- tasks
def task(task_id: str, wait_s: float | None = None) -> Call[TaskResource]:
    return _read(f"/v1/tasks/{task_id}", _model(TaskResource), wait=wait_s)


def tasks(status: str | None = None, limit: int | None = None, cursor: str | None = None) -> Call[TaskList]:
    return _read("/v1/tasks", _model(TaskList), status=status, limit=limit, cursor=cursor)


def pages(task_id: str, after: int | None = None, limit: int | None = None) -> Call[PageList]:
    return _read(f"/v1/tasks/{task_id}/pages", _model(PageList), after=after, limit=limit)


def cancel(task_id: str) -> Call[TaskResource]:
    return Call("POST", f"/v1/tasks/{task_id}/cancel", _model(TaskResource))


def delete(task_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/tasks/{task_id}", _nothing)


def retry(task_id: str) -> Call[TaskResource]:
    return Call("POST", f"/v1/tasks/{task_id}/retry", _model(TaskResource))


def markdown(task_id: str) -> Call[str]:
    return _read(f"/v1/tasks/{task_id}/result.md", _text)


def layout(task_id: str) -> Call[Any]:
    return _read(f"/v1/tasks/{task_id}/result.json", _json)


def image(task_id: str, name: str) -> Call[bytes]:
    return _read(f"/v1/tasks/{task_id}/images/{name}", _bytes)


# --------------------------------------------------------------------------- batches
def batch(batch_id: str) -> Call[BatchResource]:
    return _read(f"/v1/batches/{batch_id}", _model(BatchResource))


def batches(
    limit: int | None = None, cursor: str | None = None, idempotency_key: str | None = None
) -> Call[BatchList]:
    return _read(
        "/v1/batches", _model(BatchList), limit=limit, cursor=cursor, idempotency_key=idempotency_key
    )


def batch_tasks(
    batch_id: str, status: str | None = None, limit: int | None = None, cursor: int | None = None
) -> Call[BatchItemList]:
    path = f"/v1/batches/{batch_id}/tasks"
    return _read(path, _model(BatchItemList), status=status, limit=limit, cursor=cursor)


def retry_failed(batch_id: str) -> Call[RetryResult]:
    return Call("POST", f"/v1/batches/{batch_id}/retry-failed", _model(RetryResult))


def cancel_batch(batch_id: str) -> Call[BatchResource]:
    return Call("DELETE", f"/v1/batches/{batch_id}", _model(BatchResource))


def manifest(batch_id: str) -> Call[list[dict[str, Any]]]:
    return _read(f"/v1/batches/{batch_id}/manifest.jsonl", _jsonl)


# --------------------------------------------------------------------------- webhooks
def deliveries(task_id: str) -> Call[WebhookDeliveryList]:
    return _read(f"/v1/tasks/{task_id}/webhook-deliveries", _model(WebhookDeliveryList))


def delivery(delivery_id: str) -> Call[WebhookDeliveryResource]:
    return _read(f"/v1/webhook-deliveries/{delivery_id}", _model(WebhookDeliveryResource))


def redeliver(delivery_id: str) -> Call[WebhookDeliveryResource]:
    return Call("POST", f"/v1/webhook-deliveries/{delivery_id}/redeliver", _model(WebhookDeliveryResource))
