"""`POST /v1/chat/completions`: OCR through the OpenAI chat API. The image of the last user
message becomes a task on the interactive queue; the answer is its full.md, whole or streamed
as `chat.completion.chunk`s (see `messages.py` for how messages map to a task)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from server.deps import CallerDep, CeleryDep, SettingsDep, StorageDep
from server.errors import TaskTimeoutResponse, responses
from server.events import sse
from server.events.deps import EventFeedDep, EventPublisherDep
from server.interactive.endpoints import CLIENT_CLOSED, NO_RETRY, timeout_message
from server.interactive.follow import ClientGone, TimedOut, Waiting
from server.interactive.inputs import (
    decode_data_url,
    inline_body_limit,
    is_data_url,
    read_json_body,
    stage_bytes,
)
from server.interactive.request import limits_of, validated
from server.interactive.results import Outcome, load_outcome
from server.interactive.schemas import inline_schema
from server.interactive.submit import Document, Submitted, submit
from server.openai import schemas
from server.openai.errors import openai_error, openai_error_body
from server.openai.messages import ChatInput, ChatInputError, read_messages
from server.openai.models import live_workers, resolve_model
from server.openai.ordered_text import OrderedPages
from server.openai.usage import usage
from server.tasks.uploads import staging_file
from shared import worker_liveness
from shared.config import Settings
from shared.errors import InvalidRequest, NotFound, OcrpError
from shared.events import EventType, TaskEvent
from shared.options import Mode, PromptPreset, TaskOptions
from shared.urls import check_url, parse_allowlist

router = APIRouter(tags=["openai"])


@router.post(
    "/v1/chat/completions",
    responses={
        200: {
            "description": "`chat.completion`, or with stream=true `chat.completion.chunk` events",
            "content": {"application/json": {}, sse.MEDIA_TYPE: {}},
        },
        **responses(400, 404, 409, 413, 415, 422, 503),
        504: {
            "model": TaskTimeoutResponse,
            "description": "ocr_timeout: the task keeps running; its id is in the body",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(schemas.ChatRequest)}},
        }
    },
    summary="OCR an image or PDF through the OpenAI chat completions API",
)
async def chat_completions(
    request: Request,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    feed: EventFeedDep,
    publisher: EventPublisherDep,
) -> Response:
    try:
        body = validated(
            schemas.ChatRequest,
            await read_json_body(request, inline_body_limit(settings.interactive_max_inline_bytes)),
        )
        if body.n not in (None, 1):
            raise ChatInputError(InvalidRequest("n must be 1: one answer per document", "unsupported_n"), "n")
        chat = read_messages(body.messages)
        options = await _options(settings, body, chat)
        with staging_file() as path:
            document = await _document(settings, chat, path)
            submitted = await submit(settings, storage, celery, caller.owner, options, document)
    except ChatInputError as exc:
        return openai_error(exc.status, exc.code, exc.message, exc.param)
    waiting = Waiting(request, settings, storage, celery, feed, publisher, caller.owner, submitted.task_id)
    completion = _Completion(waiting, body, options, submitted)
    if body.stream:
        return StreamingResponse(completion.stream(), media_type=sse.MEDIA_TYPE, headers=completion.headers)
    return await completion.answer()


async def _options(settings: Settings, body: schemas.ChatRequest, chat: ChatInput) -> TaskOptions:
    try:
        served = resolve_model(body.model, worker_liveness.served_models(await live_workers(settings)))
    except NotFound as exc:
        raise ChatInputError(exc, "model") from None
    mode = body.mode
    if mode is None and served is not None and len(served.modes) == 1:
        mode = Mode(served.modes[0])  # a model served in one mode only: ask for that mode
    return TaskOptions(
        mode=mode or Mode.gundam,
        prompt=PromptPreset.custom if chat.prompt else PromptPreset.document,
        custom_prompt=chat.prompt,
        dpi=body.dpi,
        pages=body.pages,
        strategy=body.strategy,
    )


async def _document(settings: Settings, chat: ChatInput, path: str) -> Document:
    try:
        if is_data_url(chat.image_url):
            data = decode_data_url(chat.image_url, settings.interactive_max_inline_bytes, "image_url")
            return Document(staged=await stage_bytes(data, path, limits_of(settings)), filename="image")
        if not chat.image_url.lower().startswith(("http://", "https://")):
            raise InvalidRequest("image_url must be a base64 data URL or an http(s) URL", "invalid_image_url")
        check_url(chat.image_url, parse_allowlist(settings.url_allowlist))
        return Document(url=chat.image_url)
    except OcrpError as exc:
        raise ChatInputError(exc, chat.image_param) from None


class _Completion:
    """The chat answer: a `chat.completion` once the task ends, or chunks as it is read."""

    def __init__(
        self, waiting: Waiting, body: schemas.ChatRequest, options: TaskOptions, submitted: Submitted
    ) -> None:
        self.waiting, self.body = waiting, body
        self.settings, self.storage, self.task_id = waiting.settings, waiting.storage, waiting.task_id
        self.prompt = options.prompt_text()
        self.pages = submitted.pages
        self.id = f"chatcmpl-{self.task_id}"
        self.created = int(time.time())
        self.headers = {**sse.HEADERS, "x-ocrp-task-id": self.task_id}

    def _timeout(self) -> tuple[int, dict[str, Any]]:
        body = openai_error_body(504, "ocr_timeout", timeout_message(self.settings, self.task_id))
        return 504, {**body, "task_id": self.task_id}

    def _failure(self, outcome: Outcome) -> tuple[int, dict[str, Any]]:
        status, code, message = outcome.failure()
        return status, {**openai_error_body(status, code, message), "task_id": self.task_id}

    def _usage(self, outcome: Outcome) -> dict[str, int]:
        return usage(self.prompt, outcome.markdown or "", outcome.page_tokens)

    @staticmethod
    def _finish_reason(outcome: Outcome) -> str:
        return "length" if outcome.task.progress.pages_truncated else "stop"

    async def answer(self) -> Response:
        try:
            async for _event in self.waiting.events():
                pass
        except ClientGone:
            await self.waiting.abandon()
            return Response(status_code=CLIENT_CLOSED)
        except TimedOut:
            status, error = self._timeout()
            return JSONResponse(
                error, status_code=status, headers={**NO_RETRY, "x-ocrp-task-id": self.task_id}
            )
        outcome = await load_outcome(self.settings, self.storage, self.task_id)
        if not outcome.succeeded:
            status, error = self._failure(outcome)
            return JSONResponse(error, status_code=status, headers={"x-ocrp-task-id": self.task_id})
        body = schemas.completion(
            self.id,
            self.created,
            self.body.model,
            outcome.markdown or "",
            self._finish_reason(outcome),
            self._usage(outcome),
        )
        return JSONResponse(body, headers={"x-ocrp-task-id": self.task_id})

    def _chunk(self, delta: dict[str, Any] | None, finish: str | None = None, use: Any = None) -> str:
        include = self.body.include_usage
        return sse.json_frame(
            schemas.chunk(self.id, self.created, self.body.model, delta, finish, use, include)
        )

    async def stream(self) -> AsyncIterator[str]:
        settled = False  # the task ended, or the client was told it timed out
        pages = OrderedPages(self.pages)
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            last_write = time.monotonic()
            try:
                async for event in self.waiting.events():
                    text = _text_of(pages, event) if event is not None else ""
                    if text:
                        yield self._chunk({"content": text})
                        last_write = time.monotonic()
                    elif time.monotonic() - last_write >= self.settings.events_keepalive_s:
                        yield sse.comment("keep-alive")
                        last_write = time.monotonic()
            except TimedOut:
                settled = True
                yield sse.json_frame(self._timeout()[1])
                yield sse.DONE
                return
            settled = True
            async for frame in self._ending(pages):
                yield frame
        except ClientGone:
            return
        finally:
            if not settled:
                await self.waiting.abandon()

    async def _ending(self, pages: OrderedPages) -> AsyncIterator[str]:
        try:
            outcome = await load_outcome(self.settings, self.storage, self.task_id)
        except OcrpError as exc:
            yield sse.json_frame(
                {**openai_error_body(exc.status, exc.code, exc.message), "task_id": self.task_id}
            )
            yield sse.DONE
            return
        if not outcome.succeeded:
            yield sse.json_frame(self._failure(outcome)[1])
            yield sse.DONE
            return
        if tail := pages.finish():
            yield self._chunk({"content": tail})
        yield self._chunk({}, self._finish_reason(outcome))
        if self.body.include_usage:
            yield self._chunk(None, use=self._usage(outcome))
        yield sse.DONE


def _text_of(pages: OrderedPages, event: TaskEvent) -> str:
    data = event.data
    if event.type == EventType.delta:
        return pages.delta(int(data["page"]), int(data["offset"]), str(data["text"]))
    if event.type == EventType.page:
        return pages.page_done(int(data["page"]))
    if event.type == EventType.status and data.get("pages") is not None:
        return pages.set_pages([int(n) for n in data["pages"]])
    return ""
