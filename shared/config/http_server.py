"""HTTP server settings: the bounds `ocrp serve` puts on connections and request headers, which
hold before any route (or API key check) runs."""

from __future__ import annotations

from pydantic import BaseModel

from shared.config.fields import setting


class HttpServerSettings(BaseModel):
    api_max_header_bytes: int = setting(
        32 * 1024,
        "Largest request line plus headers `ocrp serve` buffers, in bytes; a larger request is "
        "answered 400 and its connection closed, before any key check.",
        "api",
        ge=1024,
    )
    api_max_headers: int = setting(
        100, "Most header fields a request may carry (431 `too_many_headers`).", "api", ge=10
    )
    api_header_timeout_s: float = setting(
        10.0,
        "Time a connection has to send a complete request line and headers (on a new connection, "
        "or after the previous answer on a kept-alive one); then it is answered 408 and closed, so "
        "idle and slow-header (slowloris) connections cannot pile up.",
        "api",
        gt=0,
    )
    api_keep_alive_s: float = setting(
        5.0, "How long an idle kept-alive connection stays open after an answer.", "api", gt=0
    )
    api_limit_concurrency: int = setting(
        1000,
        "Most connections and requests one `ocrp serve` process holds at once; more are "
        "answered 503. 0: no limit.",
        "api",
        ge=0,
    )
    leftover_max_age_s: float = setting(
        3600.0,
        "Upload staging files (`ocrp-upload-*` in the temporary folder) and partial local-storage "
        "writes older than this are removed, at API start and by the workers' sweep: what a "
        "killed API process leaves. Longer than any upload takes.",
        "api",
        gt=0,
    )
