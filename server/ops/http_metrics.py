"""HTTP request metrics of the API, as a pure ASGI middleware (it sees streamed downloads to
their last byte, which `BaseHTTPMiddleware` would not).

Requests are labelled by route template (`/v1/tasks/{task_id}`), never by raw path, so that ids
and scanners' random URLs cannot blow up the number of series; unmatched paths share one label.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"

HTTP_REQUESTS = Counter(
    "ocrp_http_requests", "HTTP requests answered by the API.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "ocrp_http_request_duration_seconds",
    "Time from the request to the last byte of the response.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
HTTP_IN_PROGRESS = Gauge(
    "ocrp_http_requests_in_progress", "HTTP requests being served now.", multiprocess_mode="livesum"
)


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else UNMATCHED


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets when the app raises before answering
        started = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        HTTP_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            HTTP_IN_PROGRESS.dec()
            method, route = scope["method"], route_label(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
