"""Every setting of the platform, read from `OCR_*` environment variables and `.env`.

One class holds them all so that `docs/configuration.md` and `.env.example` can be generated
from it (`ocrp config docs`) and checked against it in the tests. Settings are grouped by the
`group` key of each field's `json_schema_extra`; the group only drives the documentation.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.options import Mode


class StorageBackend(StrEnum):
    local = "local"
    s3 = "s3"


class EngineName(StrEnum):
    tesseract = "tesseract"
    deepseek = "deepseek"
    replay = "replay"


def setting(default: Any, description: str, group: str, **kwargs: Any) -> Any:
    """A field with its documentation group attached."""
    return Field(default, description=description, json_schema_extra={"group": group}, **kwargs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- general -------------------------------------------------------------------------
    data_dir: Path = setting(
        Path("./var"),
        "Root folder for everything the embedded default keeps on disk: the SQLite database, "
        "the filesystem broker and local storage.",
        "general",
    )
    log_level: str = setting("INFO", "Log level of the API and the workers.", "general")
    log_format: str = setting(
        "console", "`console` for people, `json` for log shippers (one object a line).", "general"
    )
    public_url: str = setting(
        "http://127.0.0.1:8000",
        "Base URL clients reach the API at; used for result links in task resources and webhooks.",
        "general",
    )

    # --- database ------------------------------------------------------------------------
    database_url: str = setting(
        "",
        "SQLAlchemy URL. Empty means SQLite at `{data_dir}/ocrp.db`. Production: "
        "`postgresql+psycopg://user:pass@host:5432/ocrp`.",
        "database",
    )
    database_pool_size: int = setting(10, "Connection pool size (PostgreSQL).", "database")

    # --- queue ---------------------------------------------------------------------------
    broker_url: str = setting(
        "filesystem://",
        "Celery broker. `filesystem://` is the embedded broker (no server, messages under "
        "`{data_dir}/broker`); production uses `redis://host:6379/0`.",
        "queue",
    )
    broker_visibility_timeout_s: int = setting(
        3600,
        "Redis only: seconds before an unacknowledged message is handed to another worker.",
        "queue",
    )
    redis_url: str = setting(
        "",
        "Redis for live events, heartbeats and shared rate limits. Empty: the broker URL when it "
        "is Redis, otherwise none (the embedded default uses the database).",
        "queue",
    )

    # --- storage -------------------------------------------------------------------------
    storage_backend: StorageBackend = setting(
        StorageBackend.local, "`local` (a folder) or `s3` (any S3-compatible service).", "storage"
    )
    storage_dir: Path | None = setting(
        None, "Folder of the local backend. Empty means `{data_dir}/storage`.", "storage"
    )
    s3_endpoint_url: str | None = setting(
        None, "S3 endpoint, e.g. `http://minio:9000`. Empty means AWS.", "storage"
    )
    s3_bucket: str = setting("ocrp", "Bucket holding inputs and results.", "storage")
    s3_region: str = setting("us-east-1", "S3 region.", "storage")
    s3_access_key_id: str | None = setting(
        None, "Access key. Empty: boto3's default credential chain.", "storage"
    )
    s3_secret_access_key: str | None = setting(None, "Secret key.", "storage")
    s3_addressing_style: str = setting("path", "`path` (MinIO, SeaweedFS) or `virtual` (AWS).", "storage")
    s3_create_bucket: bool = setting(
        False, "Create the bucket at start when it is missing (dev and compose).", "storage"
    )
    s3_multipart_chunk_mb: int = setting(8, "Part size of multipart uploads, in MiB.", "storage")
    presign_expires_s: int = setting(3600, "Lifetime of presigned result URLs (S3 only).", "storage")

    # --- API -----------------------------------------------------------------------------
    api_host: str = setting("127.0.0.1", "Address `ocrp serve` binds to.", "api")
    api_port: int = setting(8000, "Port `ocrp serve` binds to.", "api")
    max_upload_bytes: int = setting(
        200 * 1024 * 1024,
        "Largest accepted document, in bytes. Enforced while the upload streams (413).",
        "api",
    )
    max_json_body_bytes: int = setting(1024 * 1024, "Largest JSON request body, in bytes (413).", "api")
    list_page_size_max: int = setting(200, "Largest `limit` of list endpoints.", "api")

    # --- documents -----------------------------------------------------------------------
    max_pages: int = setting(2000, "Most pages a document may have (422 `too_many_pages`).", "documents")
    max_image_pixels: int = setting(
        80_000_000,
        "Most pixels of an uploaded image or a rendered page; larger is refused before decoding.",
        "documents",
    )
    default_dpi: int = setting(144, "Render resolution of PDF pages when a task sets none.", "documents")
    min_dpi: int = setting(50, "Lowest `dpi` a task may ask for.", "documents")
    max_dpi: int = setting(400, "Highest `dpi` a task may ask for.", "documents")
    fetch_timeout_s: float = setting(
        60.0, "Time limit for downloading a `url` source, in seconds.", "documents"
    )
    fetch_max_redirects: int = setting(
        3, "Redirects followed when downloading a `url` source (each hop is checked again).", "documents"
    )
    url_allowlist: str = setting(
        "",
        "Comma-separated networks (CIDR) and host names that `url` sources and webhooks may "
        "reach even though they are private, loopback or link-local.",
        "documents",
    )

    # --- worker --------------------------------------------------------------------------
    engine: EngineName = setting(
        EngineName.tesseract,
        "OCR engine of `ocrp worker`: `tesseract` (CPU), `deepseek` (GPU) or `replay` (recorded "
        "DeepSeek-OCR outputs, for tests and debugging).",
        "worker",
    )
    worker_concurrency: int = setting(
        2,
        "Tasks one worker process runs at once (Celery threads). The GPU worker wants many "
        "(32+) so that pages of many documents share the engine's batches.",
        "worker",
    )
    worker_queues: str = setting(
        "ocr.interactive,ocr.batch",
        "Comma-separated queues `ocrp worker` consumes, most urgent first.",
        "worker",
    )
    pages_in_flight: int = setting(4, "Pages of one task being rendered or recognised at once.", "worker")
    task_heartbeat_s: float = setting(10.0, "How often a running task refreshes its heartbeat.", "worker")
    task_stale_after_s: float = setting(
        90.0, "A running task whose heartbeat is older than this is re-queued by the sweep.", "worker"
    )
    requeue_queued_after_s: float = setting(
        300.0,
        "A task still queued this long after its last enqueue is sent again by the sweep "
        "(covers messages lost with a broker).",
        "worker",
    )
    sweep_interval_s: float = setting(30.0, "Period of the maintenance sweep (Celery beat).", "worker")
    task_max_attempts: int = setting(3, "Attempts before a task is moved to the dead-letter state.", "worker")
    tesseract_lang: str = setting("eng", "Tesseract language(s), e.g. `eng+deu`.", "worker")

    # --- replay engine (issue: GPU worker) -----------------------------------------------
    replay_dir: Path | None = setting(
        None,
        "Folder of recorded DeepSeek-OCR raw outputs that the `replay` engine plays back through "
        "the grounding parser: `page-{n}.txt` for page n, else `page.txt` for any page.",
        "replay",
    )

    # --- webhooks (issue: webhook callbacks) ---------------------------------------------
    webhook_secrets: str = setting(
        "",
        "Comma-separated Standard Webhooks signing secrets (`whsec_` + base64). Every secret signs "
        "each request, so during a rotation receivers holding the old or the new one both verify. "
        "Generate one with `ocrp webhooks new-secret`. Empty: tasks with a `webhook_url` are refused.",
        "webhooks",
    )
    webhook_default_url: str = setting(
        "",
        "Where events go when a task or batch names no `webhook_url`. Empty: such events are not sent.",
        "webhooks",
    )
    webhook_timeout_s: float = setting(
        10.0, "Time limit of one delivery attempt (connect, send, response), in seconds.", "webhooks"
    )
    webhook_retry_schedule: str = setting(
        "5,300,1800,7200,18000,36000,50400,72000,86400",
        "Seconds to wait before each retry of a failed delivery (Standard Webhooks schedule: 5 s, "
        "5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each with +-20 % jitter. A `Retry-After` "
        "answer can only lengthen a wait.",
        "webhooks",
    )
    webhook_max_redirects: int = setting(
        0,
        "Redirects a delivery follows (the same signed POST to the new location, each hop checked "
        "against the private-address rules). 0: a redirect is a failed attempt.",
        "webhooks",
    )
    webhook_presigned_urls: bool = setting(
        True,
        "Add presigned result URLs (valid `OCR_PRESIGN_EXPIRES_S`) to `task.succeeded` events when "
        "storage is S3.",
        "webhooks",
    )
    webhook_sweep_interval_s: float = setting(
        30.0,
        "Period of the webhook sweep (Celery beat), which sends due deliveries whose message was "
        "lost, e.g. with a killed webhook worker.",
        "webhooks",
    )

    # --- batches (issue: batch backfills) ------------------------------------------------
    batch_max_in_flight: int = setting(
        200,
        "Tasks of one batch queued or running at once; expansion creates more only as they finish.",
        "batches",
    )
    batch_owner_max_in_flight: int = setting(
        1000,
        "Batch tasks of one owner queued or running at once, across all of the owner's batches.",
        "batches",
    )
    batch_list_page_size: int = setting(
        200,
        "Source objects listed per expansion step (S3 keys, URLs or archive members). A page is "
        "listed only once every listed object has its task, so listing stays a page ahead at most.",
        "batches",
    )
    batch_expand_interval_s: float = setting(
        2.0, "Pause between two expansion runs of an active batch, in seconds.", "batches"
    )
    batch_stalled_after_s: float = setting(
        60.0,
        "An active batch whose expansion has not run for this long is re-armed by the periodic "
        "watchdog (covers expansion messages lost with a killed worker).",
        "batches",
    )
    batch_max_urls: int = setting(1_000_000, "Most URLs one batch may list.", "batches")
    batch_max_upload_bytes: int = setting(
        4 * 1024 * 1024 * 1024,
        "Largest uploaded archive or URL list, in bytes (413).",
        "batches",
    )
    archive_max_members: int = setting(
        100_000, "Most entries an uploaded archive may hold (422 `archive_too_many_members`).", "batches"
    )
    archive_max_uncompressed_bytes: int = setting(
        20 * 1024 * 1024 * 1024,
        "Most bytes an archive may expand to, summed over its entries (422 `archive_too_large`).",
        "batches",
    )
    archive_max_ratio: int = setting(
        100,
        "Highest compression ratio of an archive entry (or of a compressed tar as a whole) before "
        "it is refused as a zip bomb (422 `archive_bomb`).",
        "batches",
    )

    # --- observability (issue: ops dashboard and metrics) --------------------------------
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

    # --- security (issue: keys, limits, retention) ---------------------------------------
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

    # --- interactive (issue: SSE, /v1/ocr, chat completions) -----------------------------
    interactive_timeout_s: float = setting(
        120.0,
        "How long `POST /v1/ocr` and `POST /v1/chat/completions` wait for the result. Past it they "
        "answer 504 `ocr_timeout` with the task id; the task keeps running and can be polled.",
        "interactive",
    )
    interactive_max_inline_bytes: int = setting(
        20 * 1024 * 1024,
        "Largest document sent inline (`image_base64`, or a `data:` URL in a chat message), in bytes "
        "once decoded (413). Inline documents are held in memory; larger ones go by upload or URL.",
        "interactive",
    )
    events_retention_s: float = setting(
        3600.0,
        "How long live task events are kept after they are published: a Redis stream expires this "
        "long after its last event; without Redis the sweep deletes older rows of `task_events`.",
        "interactive",
    )
    events_max_per_task: int = setting(
        10_000, "Redis only: the events kept per task (the oldest are trimmed).", "interactive"
    )
    events_delta_interval_ms: int = setting(
        100,
        "Text deltas of a page are sent at most this often (tokens in between are merged). The "
        "first delta of a page and its last text are sent at once.",
        "interactive",
    )
    events_keepalive_s: float = setting(
        15.0, "Seconds between keep-alive comments on an idle event stream.", "interactive"
    )
    events_poll_s: float = setting(
        0.25, "Without Redis: how often a live event stream polls the database.", "interactive"
    )
    events_row_check_s: float = setting(
        5.0,
        "How often a live event stream re-reads the task row, so that it ends even when an event "
        "was lost (the row is the truth).",
        "interactive",
    )

    # --- deepseek engine (issue: GPU worker) ---------------------------------------------
    # Defaults and the measurements behind them: docs/gpu-worker.md.
    deepseek_model_path: str = setting(
        "",
        "Local DeepSeek-OCR model directory (config.json, tokenizer, weights). Never downloaded "
        "at run time: the worker sets HF_HUB_OFFLINE.",
        "deepseek",
    )
    deepseek_load_format: str = setting(
        "auto",
        "vLLM load format: `auto` reads the weights; `dummy` fills random weights (benchmarks).",
        "deepseek",
    )
    deepseek_mode: Mode = setting(
        Mode.gundam,
        "Resolution mode this worker's engine serves: tiny 512, small 640, base 1024, large 1280, "
        "gundam 1024 + 640 crops. Tasks asking for another mode are routed to `ocr.<mode>.*` queues.",
        "deepseek",
    )
    deepseek_min_crops: int = setting(2, "Gundam: fewest 640-pixel crops of a large page.", "deepseek")
    deepseek_max_crops: int = setting(6, "Gundam: most 640-pixel crops of a large page (≤ 9).", "deepseek")
    deepseek_gpu_memory_utilization: float = setting(
        0.90, "Share of GPU memory vLLM may take (weights, activations, KV cache).", "deepseek"
    )
    deepseek_max_num_seqs: int = setting(
        512,
        "Pages decoded together. Measured on one H100 (bench/results): throughput grows with the "
        "batch until the KV cache is full; 512 pages of ~1,900 tokens fit in 0.90 of 80 GB.",
        "deepseek",
    )
    deepseek_max_model_len: int = setting(8192, "Longest prompt + output of one page, tokens.", "deepseek")
    deepseek_max_tokens: int = setting(
        8192,
        "Most output tokens of one page (capped by max_model_len minus the prompt). A page that "
        "reaches it is kept and flagged truncated.",
        "deepseek",
    )
    deepseek_dtype: str = setting("bfloat16", "Weights and activations dtype.", "deepseek")
    deepseek_tensor_parallel_size: int = setting(1, "GPUs one engine spans.", "deepseek")
    deepseek_enforce_eager: bool = setting(
        False, "Disable CUDA graphs (debugging only: decode is several times slower).", "deepseek"
    )
    deepseek_max_num_batched_tokens: int = setting(
        16384,
        "Tokens one engine step may carry (prefill chunks + decodes). Large enough for 15+ "
        "Gundam prompts (915 tokens each) per step next to 512 decodes.",
        "deepseek",
    )
    deepseek_cudagraph_max_size: int = setting(
        512,
        "Largest decode batch captured as a CUDA graph (vLLM captures 1, 2, 4, 8..., 256, 272... "
        "up to this). Should be ≥ max_num_seqs so that full decode steps replay a graph.",
        "deepseek",
    )
    deepseek_async_scheduling: bool = setting(
        True, "Schedule step N+1 on the CPU while the GPU runs step N.", "deepseek"
    )
    deepseek_stream_interval: int = setting(
        8,
        "Tokens per streamed text delta of a page. vLLM's frontend builds one output object per "
        "page and interval, on one thread shared with every page: at 512 pages, 1 means ~12,000 "
        "objects a second; 8 keeps deltas ~0.35 s apart (live events merge at 0.1 s anyway).",
        "deepseek",
    )
    deepseek_ngram_size: int = setting(
        30, "No-repeat n-gram size (DeepSeek-OCR's value); 0 disables the protection.", "deepseek"
    )
    deepseek_ngram_window: int = setting(
        90, "Output tokens searched for a repeated n-gram (DeepSeek-OCR's value).", "deepseek"
    )
    deepseek_ngram_whitelist: str = setting(
        "128821,128822",
        "Token ids never banned by the n-gram rule, comma-separated (`<td>`, `</td>`: table cells "
        "legitimately repeat).",
        "deepseek",
    )
    deepseek_retry_ngram_size: int = setting(
        20,
        "A page that ends without end-of-sequence is run once more with this n-gram size and the "
        "doubled window; 0 disables the retry.",
        "deepseek",
    )
    deepseek_tuned_config_dir: str = setting(
        "",
        "Folder of tuned fused-MoE kernel configs (VLLM_TUNED_CONFIG_FOLDER). Empty: the configs "
        "shipped in worker/engines/deepseek/moe_configs.",
        "deepseek",
    )
    deepseek_prepare_processes: int = setting(
        0,
        "Processes that render pages and run DeepSeek-OCR's image preprocessing off the engine's "
        "critical path (Gundam: about 190 ms of CPU per A4 page). 0: the machine's cores minus 4 "
        "(12 on the 16-core H100 host measured).",
        "deepseek",
    )
    deepseek_max_pages_in_flight: int = setting(
        0,
        "Pages of all tasks held at once by one GPU worker (rendered, prepared, queued in vLLM or "
        "decoding): bounds its memory, about 28 MB a Gundam page. 0: max_num_seqs + 128. "
        "Benchmarks of equal-length pages use 2 x max_num_seqs (a whole batch prepared ahead).",
        "deepseek",
    )
    deepseek_bench_ignore_eos: bool = setting(
        False, "Benchmarks only: ignore end-of-sequence, so every page decodes max_tokens.", "deepseek"
    )
    mode_queues: str = setting(
        "",
        "Modes with queues of their own, comma-separated (e.g. `base,large`): a task asking for "
        "one goes to `ocr.interactive.<mode>` / `ocr.batch.<mode>`, served by GPU workers started "
        "with that mode. Empty: every mode shares the queues and each worker's mode wins.",
        "deepseek",
    )

    @field_validator("webhook_secrets", "webhook_retry_schedule")
    @classmethod
    def _check_webhooks(cls, value: str, info: ValidationInfo) -> str:
        # a malformed secret or schedule must stop the process at start, not fail every delivery
        from shared.webhooks.schedule import parse_schedule
        from shared.webhooks.signing import parse_secrets

        if info.field_name == "webhook_secrets":
            parse_secrets(value)
        else:
            parse_schedule(value)
        return value

    @model_validator(mode="after")
    def _check_webhook_default(self) -> Settings:
        if self.webhook_default_url and not self.webhook_secrets.strip():
            raise ValueError("OCR_WEBHOOK_DEFAULT_URL needs OCR_WEBHOOK_SECRETS to sign its deliveries")
        return self

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'ocrp.db').resolve()}"
        if self.storage_dir is None:
            self.storage_dir = self.data_dir / "storage"
        return self

    # --- derived -------------------------------------------------------------------------
    @property
    def broker_dir(self) -> Path:
        return (self.data_dir / "broker").resolve()

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("filesystem://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def webhook_retry_delays(self) -> list[float]:
        from shared.webhooks.schedule import parse_schedule

        return parse_schedule(self.webhook_retry_schedule)

    @property
    def queue_list(self) -> list[str]:
        return [q.strip() for q in self.worker_queues.split(",") if q.strip()]

    @property
    def routed_modes(self) -> set[str]:
        return {m.strip() for m in self.mode_queues.split(",") if m.strip()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
