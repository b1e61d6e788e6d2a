"""Request and response bodies of the batch API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.tasks.schemas import OptionFields, TaskError
from shared.db.models.batches import BatchStatus
from shared.errors import InvalidRequest

# a batch item: waiting for its task, its task's status, or never a task (skipped)
ItemStatusName = Literal["pending", "queued", "running", "succeeded", "failed", "canceled", "skipped"]


class BatchCreate(OptionFields):
    """`POST /v1/batches`: an S3 prefix or a list of URLs, plus the task options."""

    model_config = ConfigDict(extra="forbid")

    s3_prefix: str | None = Field(
        None, max_length=2048, description="s3://bucket/prefix/: every object under it (see `glob`)."
    )
    glob: str | None = Field(
        None,
        max_length=500,
        description="With s3_prefix: fnmatch pattern on keys relative to the prefix, e.g. `*.pdf`.",
    )
    urls: list[str] | None = Field(None, description="http(s) URLs of documents.")
    output_prefix: str | None = Field(
        None, max_length=2048, description="s3://bucket/prefix/ to mirror markdown and layout into."
    )
    webhook_url: str | None = Field(None, max_length=2048, description="Receives `batch.completed`.")
    dedupe: bool = Field(False, description="Reuse the result of an identical earlier document.")
    idempotency_key: str | None = Field(
        None, max_length=200, description="Submitting the same key again returns the same batch."
    )

    @model_validator(mode="after")
    def _one_source(self) -> BatchCreate:
        if (self.s3_prefix is None) == (self.urls is None):
            raise InvalidRequest("give exactly one of s3_prefix or urls", "invalid_source")
        if self.glob and self.s3_prefix is None:
            raise InvalidRequest("glob only applies to s3_prefix", "invalid_glob")
        return self


class BatchSource(BaseModel):
    kind: str = Field(description="`s3`, `urls` or `archive`.")
    uri: str | None = Field(description="The S3 prefix, or the uploaded file's name.")
    glob: str | None
    format: str | None = Field(description="Archive format (`zip`, `tar`, `tar.gz`...).")
    total: int | None = Field(description="Source objects in all; null until an S3 listing ends.")
    listed: int = Field(description="Source objects listed so far.")
    exhausted: bool = Field(description="The whole source has been listed.")


class BatchCounts(BaseModel):
    pending: int = Field(description="Listed, waiting for room under the in-flight bounds.")
    queued: int
    running: int
    succeeded: int
    failed: int
    canceled: int
    skipped: int = Field(description="Archive members that are not documents or are unsafe.")
    reused: int = Field(description="Succeeded by reusing an identical earlier document (dedupe).")


class BatchProgress(BaseModel):
    documents_done: int = Field(description="Source objects with a final outcome.")
    documents_total: int | None
    pages_done: int
    percent: float | None
    documents_per_min: float | None = Field(description="Since the first task was created.")
    pages_per_min: float | None
    eta_s: float | None = Field(description="Seconds left at the current rate.")
    eta_partial: bool = Field(description="True while the total is unknown: the ETA covers listed objects.")
    pages_text_layer: int = Field(0, description="Succeeded pages read from the PDF's text layer (strategy).")
    pages_ocr: int = Field(0, description="Succeeded pages read by the OCR engine.")


class FailureGroup(BaseModel):
    code: str = Field(description="The error code the documents failed with.")
    count: int
    message: str = Field(description="The message of one of them.")


class BatchResource(BaseModel):
    object: Literal["batch"] = "batch"
    id: str
    status: BatchStatus
    source: BatchSource
    options: dict[str, Any]
    output_prefix: str | None
    webhook_url: str | None
    dedupe: bool
    idempotency_key: str | None
    counts: BatchCounts
    progress: BatchProgress
    error: TaskError | None
    manifest: str | None = Field(
        description="Download URL of manifest.jsonl: while the batch runs, the documents settled "
        "so far; the whole list once it ends."
    )
    failures: list[FailureGroup] = Field(
        default_factory=list, description="Failed documents by error code, most frequent first (10 codes)."
    )
    retry_hint: str | None = Field(
        None, description="When documents failed and the batch has ended: how to queue them again."
    )
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchList(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchResource]
    next_cursor: str | None


class BatchItemResource(BaseModel):
    object: Literal["batch_item"] = "batch_item"
    id: int
    source: str = Field(description="s3://bucket/key, the URL, or the archive member's name.")
    status: ItemStatusName = Field(description="Its task's status, or pending or skipped.")
    task_id: str | None
    pages_done: int | None
    error: TaskError | None
    output: dict[str, str] | None
    reused_from: str | None


class BatchItemList(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchItemResource]
    next_cursor: str | None


class RetryResult(BaseModel):
    object: Literal["batch_retry"] = "batch_retry"
    retrying: int = Field(description="Failed documents queued again (gradually, under the bounds).")
    batch: BatchResource
