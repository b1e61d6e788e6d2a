"""Observability settings: worker heartbeats and metrics, the dashboard's sampling."""

from __future__ import annotations

from pydantic import BaseModel

from shared.config.fields import setting


class ObservabilitySettings(BaseModel):
    worker_heartbeat_s: float = setting(
        10.0,
        "How often a worker publishes its heartbeat (engine, model, GPUs, queues, tasks in "
        "flight) to the database.",
        "observability",
    )
    worker_stale_after_s: float = setting(
        45.0,
        "A worker whose last heartbeat is older than this is shown as stale (probably dead).",
        "observability",
    )
    worker_forget_after_s: float = setting(
        3600.0,
        "Heartbeats of stale workers are deleted this long after they were last seen.",
        "observability",
    )
    worker_metrics_port: int = setting(
        9102,
        "Port of the worker's Prometheus endpoint (page and task histograms, engine tokens, "
        "webhook outcomes). 0 turns it off.",
        "observability",
    )
    worker_metrics_host: str = setting(
        "0.0.0.0",  # noqa: S104  (Prometheus scrapes workers from another container)
        "Address the worker's Prometheus endpoint binds to.",
        "observability",
    )
    ops_sample_interval_s: float = setting(
        30.0,
        "Period of the beat task that records queue depths for the dashboard's history.",
        "observability",
    )
    ops_history_s: float = setting(
        86400.0, "How long queue-depth samples are kept, in seconds.", "observability"
    )
    ops_refresh_s: int = setting(10, "Seconds between refreshes of the `/ops` dashboard.", "observability")
