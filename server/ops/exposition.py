"""What the API's `/metrics` serves: this app's cluster collector plus the process metrics
(HTTP requests, Python runtime).

With several uvicorn worker processes (`ocrp serve --workers N`), each scrape reaches one of
them at random; prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, which
`ocrp serve` sets up for N > 1) then sums the HTTP metrics of all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from celery import Celery
from prometheus_client import REGISTRY, CollectorRegistry, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from server.ops.collector import ClusterCollector
from shared.config import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _ProcessMetrics:
    """The metrics of this process (or of every uvicorn process, in multiprocess mode)."""

    def __init__(self) -> None:
        if os.environ.get(MULTIPROC_ENV):
            self.source = CollectorRegistry()
            MultiProcessCollector(self.source)  # type: ignore[no-untyped-call]
        else:
            self.source = REGISTRY

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


def metrics_registry(settings: Settings, celery: Celery) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_ProcessMetrics())
    registry.register(ClusterCollector(settings, celery))
    return registry
