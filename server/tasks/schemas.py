"""Request and response bodies of the task API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.db.models import PageStatus, SourceKind, Task, TaskStatus
from shared.errors import InvalidRequest
from shared.filenames import filename_of_uri
from shared.options import TaskOptions
from shared.task_metadata import TaskMetadata


class OptionFields(TaskOptions):
    """The task options as flat JSON fields, shared by every request that creates work. The
    fields are `TaskOptions`' own; a body adds its other members beside them."""

    def options(self) -> TaskOptions:
        return TaskOptions.model_validate(self.model_dump(include=set(TaskOptions.model_fields)))


class TaskCreate(OptionFields):
    """`POST /v1/tasks`: a document by URL or S3 location, plus the options."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="http(s) URL of the document.", max_length=4096)
    s3_uri: str | None = Field(None, description="s3://bucket/key of the document.", max_length=4096)
    filename: str | None = Field(None, description="Name to record for the document.", max_length=255)
    webhook_url: str | None = Field(None, max_length=2048)
    metadata: TaskMetadata | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TaskCreate:
        if bool(self.url) == bool(self.s3_uri):
            raise InvalidRequest("give exactly one of url or s3_uri", "invalid_source")
        if not self.filename:  # named after the end of its URL's path or S3 key
            self.filename = filename_of_uri(self.url or self.s3_uri or "")
        return self


class Progress(BaseModel):
    pages_done: int = Field(description="Pages processed, successfully or not.")
    pages_total: int | None = Field(description="Pages to process; null until the document is opened.")
    pages_failed: int
    pages_truncated: int = Field(description="Pages whose output the engine cut short.")
    percent: float | None


class Timings(BaseModel):
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_s: float | None = Field(description="Seconds from creation to the first start.")
    run_s: float | None = Field(description="Seconds from the first start to the end (or now).")
    total_s: float | None = Field(description="Seconds from creation to the end.")


class TaskError(BaseModel):
    code: str
    message: str


class Source(BaseModel):
    kind: SourceKind
    filename: str | None
    uri: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    page_count: int | None


class ResultLinks(BaseModel):
    markdown: str
    layout: str
    zip: str
    images: list[str]


class TaskResource(BaseModel):
    object: Literal["task"] = "task"
    id: str
    owner: str
    status: TaskStatus
    source: Source
    options: dict[str, Any]
    progress: Progress
    timings: Timings
    attempts: int
    engine: str | None
    error: TaskError | None
    result: ResultLinks | None
    webhook_url: str | None
    cancel_requested: bool
    dead_lettered_at: datetime | None = Field(
        description="When the task failed for good after its attempts ran out (see retry)."
    )
    results_expired_at: datetime | None = Field(
        description="When the retention policy deleted the results (result routes answer 410)."
    )
    batch_id: str | None = Field(description="The batch that created this task, if any.")
    reused_from: str | None = Field(
        description="With batch dedupe: the earlier task of identical content whose results were copied."
    )
    metadata: dict[str, Any] | None = Field(description="The metadata the task was submitted with.")
    queue_position: int | None = Field(
        None,
        description="On `GET /v1/tasks/{id}` of a queued task: tasks ahead of it in its queue "
        "(0: next). Null otherwise.",
    )

    @classmethod
    def of(cls, task: Task, base_url: str, now: datetime) -> TaskResource:
        return cls(
            id=task.id,
            owner=task.owner,
            status=task.status,
            source=Source(
                kind=task.source_kind,
                filename=task.filename,
                uri=task.source_uri,
                content_type=task.content_type,
                size_bytes=task.size_bytes,
                sha256=task.sha256,
                page_count=task.page_count,
            ),
            options=task.options or {},
            progress=_progress(task),
            timings=_timings(task, now),
            attempts=task.attempts,
            engine=task.engine,
            error=TaskError(code=task.error_code, message=task.error_message or "")
            if task.error_code and task.status in ("failed", "canceled", "queued")
            else None,
            result=_links(task, base_url),
            webhook_url=task.webhook_url,
            cancel_requested=task.cancel_requested,
            dead_lettered_at=task.dead_lettered_at,
            results_expired_at=task.results_expired_at,
            batch_id=task.batch_id,
            reused_from=task.reused_from,
            metadata=task.client_metadata,
        )


def _progress(task: Task) -> Progress:
    total = task.pages_total
    percent = round(100.0 * task.pages_done / total, 1) if total else None
    return Progress(
        pages_done=task.pages_done,
        pages_total=total,
        pages_failed=task.pages_failed,
        pages_truncated=task.pages_truncated,
        percent=percent,
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def _timings(task: Task, now: datetime) -> Timings:
    end = task.finished_at
    return Timings(
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        queued_s=_seconds(task.created_at, task.started_at),
        run_s=_seconds(task.started_at, end or (now if task.started_at else None)),
        total_s=_seconds(task.created_at, end),
    )


def _links(task: Task, base_url: str) -> ResultLinks | None:
    if task.status != "succeeded" or not task.result_keys or task.results_expired_at is not None:
        return None
    base = f"{base_url.rstrip('/')}/v1/tasks/{task.id}"
    images = [f"{base}/images/{name}" for name in task.result_keys.get("images", [])]
    return ResultLinks(
        markdown=f"{base}/result.md", layout=f"{base}/result.json", zip=f"{base}/result.zip", images=images
    )


class TaskList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TaskResource]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class PageResource(BaseModel):
    number: int
    status: PageStatus
    width: int | None
    height: int | None
    dpi: int | None
    blocks: int
    output_tokens: int | None
    truncated: bool
    retried: bool
    error: TaskError | None
    render_ms: int | None
    engine_ms: int | None
    source: str | None = Field(None, description="`text_layer` or `ocr` once the page succeeded.")
    finished_at: datetime | None


class PageList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PageResource]
    next_cursor: str | None
