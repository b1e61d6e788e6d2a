"""`GET /v1/ops/stats`: everything the `/ops` dashboard shows, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class QueueStats(BaseModel):
    name: str
    depth: int | None = Field(
        description="Messages waiting in the broker; null when the broker could not be read."
    )
    queued_tasks: int = Field(description="Tasks in state `queued` routed to this queue.")
    running_tasks: int = Field(description="Tasks in state `running` taken from this queue.")
    oldest_queued_age_s: float | None = Field(
        description="Seconds since the oldest queued task of this queue was submitted."
    )


class TaskCounts(BaseModel):
    queued: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0


class ThroughputPoint(BaseModel):
    minute: datetime = Field(description="Start of the minute (UTC).")
    pages_succeeded: int
    pages_failed: int


class Throughput(BaseModel):
    window_s: int = Field(description="Length of the window the figures cover, in seconds.")
    pages_succeeded: int = Field(description="Pages finished successfully in the window.")
    pages_failed: int = Field(description="Pages that failed in the window.")
    pages_per_minute: float = Field(description="Pages finished per minute over the last 5 minutes.")
    tasks_succeeded: int
    tasks_failed: int
    tasks_canceled: int
    per_minute: list[ThroughputPoint] = Field(description="One point per minute of the window, oldest first.")


class QueueDepthPoint(BaseModel):
    at: datetime
    depth: int | None
    queued_tasks: int
    running_tasks: int


class QueueHistory(BaseModel):
    queue: str
    points: list[QueueDepthPoint] = Field(description="Samples of the `ops.sample` beat task, oldest first.")


class InFlightTask(BaseModel):
    id: str
    owner: str
    queue: str
    worker: str | None
    filename: str | None
    pages_done: int
    pages_total: int | None
    attempts: int
    started_at: datetime | None
    heartbeat_age_s: float | None = Field(description="Seconds since the task's worker last reported.")


class FailedTask(BaseModel):
    id: str
    owner: str
    queue: str
    filename: str | None
    code: str | None
    message: str | None
    finished_at: datetime | None


class FailureCode(BaseModel):
    code: str
    tasks: int = Field(description="Tasks that failed with this code in the window.")


class GpuStats(BaseModel):
    index: int
    name: str
    memory_used_bytes: int
    memory_total_bytes: int
    utilization_percent: int | None


class WorkerStats(BaseModel):
    id: str = Field(description="Heartbeat id of the worker process (new at every start).")
    node: str = Field(description="Celery node name, e.g. `deepseek@gpu-node-3`.")
    host: str
    pid: int
    engine: str | None
    model: str | None
    modes: list[str]
    gpu_present: bool
    gpus: list[GpuStats]
    queues: list[str]
    concurrency: int
    tasks_in_flight: int
    metrics_port: int | None
    started_at: datetime
    last_seen: datetime
    heartbeat_age_s: float
    state: Literal["alive", "stale"] = Field(
        description="`stale` once no heartbeat came for `OCR_WORKER_STALE_AFTER_S`: probably dead."
    )


class RunningBatch(BaseModel):
    id: str
    name: str | None
    tasks_total: int
    tasks_done: int
    tasks_failed: int
    tasks_per_minute: float | None
    eta_s: float | None = Field(description="Seconds until done at the current rate; null when unknown.")


class OpsStats(BaseModel):
    generated_at: datetime
    queues: list[QueueStats]
    tasks: TaskCounts = Field(description="Every task in the database, by status.")
    throughput: Throughput
    queue_history: list[QueueHistory]
    in_flight: list[InFlightTask] = Field(description="Running tasks, oldest first (at most 50).")
    recent_failures: list[FailedTask] = Field(description="The last failed tasks, newest first (at most 20).")
    failure_codes: list[FailureCode] = Field(description="Failure codes of the window, most frequent first.")
    workers: list[WorkerStats]
    batches: list[RunningBatch] = Field(description="Batches in progress with their ETA.")
    refresh_s: int = Field(description="How often the dashboard refreshes itself.")
