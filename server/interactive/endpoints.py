"""`POST /v1/ocr`: submit a document to the interactive queue and answer with its result, or
stream its text as it is read. The task goes through the queue and the workers like any other;
this route only waits on it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from server.deps import CallerDep, CeleryDep, SettingsDep, StorageDep
from server.errors import TaskTimeoutResponse, error_json, responses
from server.events import sse
from server.events.deps import EventFeedDep, EventPublisherDep
from server.interactive.follow import ClientGone, TimedOut, Waiting
from server.interactive.request import read_ocr_request
from server.interactive.results import load_outcome
from server.interactive.schemas import OcrJson, inline_schema
from server.interactive.submit import submit
from server.tasks.uploads import staging_file
from shared.config import Settings
from shared.errors import OcrpError

router = APIRouter(tags=["interactive"])

# nobody reads the answer to a request whose client left; nginx logs the same case as 499
CLIENT_CLOSED = 499
NO_RETRY = {"x-should-retry": "false"}  # an SDK retrying a timeout would submit the document again


def timeout_message(settings: Settings, task_id: str) -> str:
    return (
        f"the task did not finish within {settings.interactive_timeout_s:g} s; it keeps running: poll "
        f"GET /v1/tasks/{task_id} or follow GET /v1/tasks/{task_id}/events"
    )


def timeout_response(settings: Settings, task_id: str) -> JSONResponse:
    headers = {"Location": f"/v1/tasks/{task_id}", **NO_RETRY}
    return error_json(504, "ocr_timeout", timeout_message(settings, task_id), headers, task_id=task_id)


def _failure_body(code: str, message: str, task_id: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}, "task_id": task_id}


_JSON_SCHEMA = inline_schema(OcrJson)
_FORM_FIELDS = ("mode", "prompt", "custom_prompt", "dpi", "pages", "strategy", "stream")
_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    **{k: v for k, v in _JSON_SCHEMA["properties"].items() if k in _FORM_FIELDS},
                },
            }
        },
        "application/json": {"schema": _JSON_SCHEMA},
    },
}


@router.post(
    "/v1/ocr",
    responses={
        200: {
            "description": "`ocr.result` (markdown, layout, task); with stream=true, Server-Sent "
            "Events: status, page and delta events, then `result` (or `error`), then `[DONE]`",
            "content": {"application/json": {}, sse.MEDIA_TYPE: {}},
        },
        **responses(400, 409, 413, 415, 422, 503),
        504: {
            "model": TaskTimeoutResponse,
            "description": "ocr_timeout: the task keeps running; its id is in the body",
        },
    },
    openapi_extra={"requestBody": _REQUEST_BODY},
    summary="OCR a document now: wait for its markdown and layout, or stream them",
)
async def ocr(
    request: Request,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    feed: EventFeedDep,
    publisher: EventPublisherDep,
) -> Response:
    with staging_file() as path:
        fields, document = await read_ocr_request(request, settings, path)
        submitted = await submit(settings, storage, celery, caller.owner, fields.options(), document)
    waiter = _Waiter(
        Waiting(request, settings, storage, celery, feed, publisher, caller.owner, submitted.task_id)
    )
    if fields.stream:
        return StreamingResponse(waiter.stream(), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)
    return await waiter.answer()


class _Waiter:
    """`/v1/ocr`'s answer: the result once the task ends, or its events as they come."""

    def __init__(self, waiting: Waiting) -> None:
        self.waiting = waiting
        self.settings, self.storage, self.task_id = waiting.settings, waiting.storage, waiting.task_id

    async def answer(self) -> Response:
        try:
            async for _event in self.waiting.events():
                pass
        except ClientGone:
            await self.waiting.abandon()
            return Response(status_code=CLIENT_CLOSED)
        except TimedOut:
            return timeout_response(self.settings, self.task_id)
        outcome = await load_outcome(self.settings, self.storage, self.task_id)
        if outcome.succeeded:
            return JSONResponse(outcome.result_json())
        status, code, message = outcome.failure()
        return error_json(status, code, message, task_id=self.task_id)

    async def stream(self) -> AsyncIterator[str]:
        settled = False  # the task ended, or the client was told it timed out
        try:
            yield sse.retry()
            last_write = time.monotonic()
            try:
                async for event in self.waiting.events():
                    if event is not None:
                        yield sse.frame(event.encode(), event.type.value)
                        last_write = time.monotonic()
                    elif time.monotonic() - last_write >= self.settings.events_keepalive_s:
                        yield sse.comment("keep-alive")
                        last_write = time.monotonic()
            except TimedOut:
                settled = True
                body = _failure_body(
                    "ocr_timeout", timeout_message(self.settings, self.task_id), self.task_id
                )
                yield sse.json_frame(body, "error")
                yield sse.DONE
                return
            settled = True
            yield await self._final_frame()
            yield sse.DONE
        except ClientGone:
            return
        finally:
            if not settled:
                await self.waiting.abandon()

    async def _final_frame(self) -> str:
        try:
            outcome = await load_outcome(self.settings, self.storage, self.task_id)
        except OcrpError as exc:
            return sse.json_frame(_failure_body(exc.code, exc.message, self.task_id), "error")
        if outcome.succeeded:
            return sse.json_frame(outcome.result_json(), "result")
        _status, code, message = outcome.failure()
        return sse.json_frame(_failure_body(code, message, self.task_id), "error")
