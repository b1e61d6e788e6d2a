"""Security settings: authentication, rate limits and quotas, idempotency, render deadline, retention."""

from __future__ import annotations

from pydantic import BaseModel

from shared.config.fields import setting


class SecuritySettings(BaseModel):
    auth_enabled: bool = setting(
        True,
        "Require an API key (`Authorization: Bearer ocrp_...`) on every `/v1` route. `false` makes "
        "every caller the `default` owner with every scope: for local experiments only (logged "
        "loudly at start).",
        "security",
    )
    metrics_public: bool = setting(
        True,
        "Serve `/metrics` without a key, for Prometheus (it holds cluster-level counts only, no "
        "owner or document data): keep it off the public ingress. `false`: it needs a key with "
        "the `admin` scope (give Prometheus one as bearer credentials).",
        "security",
    )
    auth_cache_s: float = setting(
        5.0,
        "Seconds an API process trusts a key it verified without asking the database again. A "
        "key revoked with `ocrp keys revoke` stops working on every API process within this "
        "time. 0: every request verifies its key in the database.",
        "security",
    )
    key_touch_interval_s: float = setting(
        60.0, "A key's `last_used_at` is written at most this often (one small UPDATE).", "security"
    )
    rate_limit_per_s: float = setting(
        20.0,
        "Requests per second one API key may make on average (a token bucket, shared through "
        "Redis when there is one). 0 turns rate limiting off.",
        "security",
    )
    rate_limit_burst: int = setting(
        200, "Requests one API key may make at once before the average rate applies.", "security"
    )
    quota_queued_tasks: int = setting(
        100_000,
        "Most tasks one owner may have queued (not yet started); more are refused with 429 "
        "`quota_exceeded`. 0: no quota.",
        "security",
    )
    quota_pages_in_flight: int = setting(
        2_000_000,
        "Most pages one owner may have in queued and running tasks (429 `quota_exceeded`). 0: no quota.",
        "security",
    )
    idempotency_ttl_s: int = setting(
        86_400, "How long an `Idempotency-Key` is remembered, in seconds.", "security"
    )
    render_timeout_s: float = setting(
        60.0,
        "Longest a page may take to render. Rendering then runs in a child process that is killed "
        "at the deadline (the page fails with `page_render_timeout`). 0: render in the worker "
        "process, without a deadline.",
        "security",
    )
    input_retention_s: int = setting(
        7 * 86_400,
        "Seconds after a task finishes before its input document is deleted from storage. 0: "
        "kept until the task is deleted.",
        "security",
    )
    result_retention_s: int = setting(
        30 * 86_400,
        "Seconds after a task finishes before its results are deleted from storage (result "
        "routes then answer 410 `result_expired`). 0: kept until the task is deleted.",
        "security",
    )
    retention_interval_s: float = setting(
        3600.0, "Period of the retention job that deletes expired inputs and results.", "security"
    )
