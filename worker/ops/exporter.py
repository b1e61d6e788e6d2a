"""The worker's own Prometheus endpoint: page and task histograms, engine tokens and webhook
outcomes live in the process that observes them, and Prometheus scrapes each worker."""

from __future__ import annotations

from prometheus_client import start_http_server

from shared.config import Settings
from shared.logs import get_logger

log = get_logger(__name__)


def start_metrics_server(settings: Settings) -> int | None:
    """Serve this process's metrics; returns the port, or None when off or the port is taken.
    A busy port must not stop OCR work, so it is logged as an error and the worker carries on
    without an endpoint (the heartbeat then shows no metrics port)."""
    port = settings.worker_metrics_port
    if port <= 0:
        return None
    try:
        start_http_server(port, addr=settings.worker_metrics_host)
    except OSError as exc:
        log.error("worker.metrics.unavailable", port=port, reason=str(exc))
        return None
    log.info("worker.metrics.listening", host=settings.worker_metrics_host, port=port)
    return port
