"""Cluster-level gauges, computed when Prometheus scrapes the API's `/metrics`.

They describe the whole installation, whichever API replica answers: queue depths read from the
broker, tasks by status read from the database, and every worker's heartbeat. Counters and
histograms of the work itself are observed by the workers (`shared/metrics/pipeline.py`).

A source that cannot be read (database, broker) drops its gauges from that scrape and sets
`ocrp_ops_source_up{source=...}` to 0, so that a broken database never breaks `/metrics`.
"""

from __future__ import annotations

from collections.abc import Iterator

from celery import Celery
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.ops import queries
from shared import queue_samples, worker_liveness
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import TaskStatus
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.queue import ALL_QUEUES, queue_depth

log = get_logger(__name__)
WORKER_LABELS = ["worker", "node"]


class ClusterCollector(Collector):
    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings = settings
        self.celery = celery

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ocrp_ops_source_up", "1 when the source could be read during this scrape.", labels=["source"]
        )
        database_ok = broker_ok = True
        try:
            with session_scope(self.settings.database_url, self.settings.database_pool_size) as session:
                now = utcnow()
                loads = queue_samples.current_load(session, ALL_QUEUES, self._depth)
                counts = queries.task_counts(session)
                oldest = queries.oldest_queued_age(session, now)
                workers = worker_liveness.list_workers(session)
        except Exception as exc:
            log.warning("metrics.collect.failed", source="database", reason=str(exc)[:200])
            database_ok = False
        else:
            broker_ok = all(load.depth is not None for load in loads)
            yield from self._queues(loads, oldest)
            yield _task_gauge(counts.model_dump())
            yield from self._workers(workers)
        up.add_metric(["database"], 1 if database_ok else 0)
        if database_ok:
            up.add_metric(["broker"], 1 if broker_ok else 0)
        yield up

    def _depth(self, queue: str) -> int | None:
        return queue_depth(self.celery, queue)

    def _queues(
        self, loads: list[queue_samples.QueueLoad], oldest: dict[str, float]
    ) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "ocrp_queue_depth", "Messages waiting in the broker, per queue.", labels=["queue"]
        )
        tasks = GaugeMetricFamily(
            "ocrp_queue_tasks", "Unfinished tasks per queue and status.", labels=["queue", "status"]
        )
        age = GaugeMetricFamily(
            "ocrp_queue_oldest_task_age_seconds",
            "Seconds since the oldest queued task of the queue was submitted (0 when none waits).",
            labels=["queue"],
        )
        for load in loads:
            if load.depth is not None:
                depth.add_metric([load.queue], load.depth)
            tasks.add_metric([load.queue, TaskStatus.queued], load.queued_tasks)
            tasks.add_metric([load.queue, TaskStatus.running], load.running_tasks)
            age.add_metric([load.queue], oldest.get(load.queue, 0.0))
        yield from (depth, tasks, age)

    def _workers(self, workers: list[worker_liveness.WorkerState]) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        stale_after = self.settings.worker_stale_after_s
        families = {
            "info": GaugeMetricFamily(
                "ocrp_worker_info",
                "One series per worker process with a heartbeat; the labels say what it runs.",
                labels=[*WORKER_LABELS, "host", "engine", "model", "queues", "gpu"],
            ),
            "age": GaugeMetricFamily(
                "ocrp_worker_heartbeat_age_seconds",
                "Seconds since the worker's last heartbeat.",
                labels=WORKER_LABELS,
            ),
            "seen": GaugeMetricFamily(
                "ocrp_worker_last_seen_timestamp_seconds",
                "Unix time of the last heartbeat.",
                labels=WORKER_LABELS,
            ),
            "busy": GaugeMetricFamily(
                "ocrp_worker_tasks_in_flight", "Celery tasks the worker is executing.", labels=WORKER_LABELS
            ),
            "slots": GaugeMetricFamily(
                "ocrp_worker_concurrency", "Tasks the worker runs at once at most.", labels=WORKER_LABELS
            ),
        }
        gpu_labels = [*WORKER_LABELS, "gpu", "name"]
        gpu = {
            "used": GaugeMetricFamily(
                "ocrp_worker_gpu_memory_used_bytes", "GPU memory in use (NVML).", labels=gpu_labels
            ),
            "total": GaugeMetricFamily(
                "ocrp_worker_gpu_memory_total_bytes", "GPU memory in total (NVML).", labels=gpu_labels
            ),
            "util": GaugeMetricFamily(
                "ocrp_worker_gpu_utilization_ratio",
                "GPU busy time over NVML's last sample period, 0-1.",
                labels=gpu_labels,
            ),
        }
        alive = GaugeMetricFamily(
            "ocrp_workers",
            "Workers by heartbeat state (alive or stale) and whether they have a GPU.",
            labels=["state", "gpu"],
        )
        tally = {(state, has_gpu): 0 for state in ("alive", "stale") for has_gpu in ("true", "false")}
        for w in workers:
            ids = [w.id, w.node]
            has_gpu = "true" if w.gpu_present else "false"
            families["info"].add_metric(
                [*ids, w.host, w.engine or "", w.model or "", ",".join(w.queues), has_gpu], 1
            )
            families["age"].add_metric(ids, w.age_s(now))
            families["seen"].add_metric(ids, w.seen_at.timestamp())
            families["busy"].add_metric(ids, w.tasks_in_flight)
            families["slots"].add_metric(ids, w.concurrency)
            for g in w.gpus:
                labels = [*ids, str(g.index), g.name]
                gpu["used"].add_metric(labels, g.memory_used_bytes)
                gpu["total"].add_metric(labels, g.memory_total_bytes)
                if g.utilization_percent is not None:
                    gpu["util"].add_metric(labels, g.utilization_percent / 100)
            tally[("alive" if w.alive(now, stale_after) else "stale", has_gpu)] += 1
        for (state, has_gpu), n in tally.items():
            alive.add_metric([state, has_gpu], n)
        yield from families.values()
        yield from gpu.values()
        yield alive


def _task_gauge(counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily("ocrp_tasks", "Tasks in the database by status.", labels=["status"])
    for status, n in counts.items():
        family.add_metric([status], n)
    return family
