"""The platform's core settings: where data lives, the database, the queue, storage, the API,
document limits and the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, field_validator, model_validator

from shared.config.fields import EngineName, StorageBackend, setting
from shared.options import Strategy
from shared.outbound.allowlist import parse_allowlist


class PlatformSettings(BaseModel):
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
        None,
        "Access key. Empty (and `OCR_S3_DEFAULT_CREDENTIALS` off): no S3 at all; `s3_uri` tasks "
        "and `s3_prefix` batches are refused with `s3_not_configured`.",
        "storage",
    )
    s3_secret_access_key: str | None = setting(None, "Secret key.", "storage")
    s3_default_credentials: bool = setting(
        False,
        "Let boto3 find S3 credentials itself when no key is set: environment, `~/.aws`, "
        "container and instance metadata (IAM roles, IRSA). Off, only the keys above are used "
        "and nothing asks the metadata service (169.254.169.254).",
        "storage",
    )
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
    default_strategy: Strategy = setting(
        Strategy.auto,
        "Where page text comes from when a task sets no `strategy`: `auto` (the PDF's text layer "
        "where it is usable, the OCR engine otherwise), `ocr` (always the engine) or `text` "
        "(never the engine). See docs/layout-json.md for the usability rule.",
        "documents",
    )
    min_dpi: int = setting(50, "Lowest `dpi` a task may ask for.", "documents")
    max_dpi: int = setting(400, "Highest `dpi` a task may ask for.", "documents")
    fetch_timeout_s: float = setting(
        60.0,
        "Longest wait for any one connect or read while downloading a `url` source, in seconds.",
        "documents",
    )
    fetch_deadline_s: float = setting(
        600.0,
        "Time limit for a whole `url` download (redirects, headers and body), in seconds; a "
        "longer one fails the attempt with `fetch_timeout`.",
        "documents",
        gt=0,
    )
    fetch_min_bytes_per_s: int = setting(
        8192,
        "Slowest accepted `url` download, in bytes per second over each `OCR_FETCH_RATE_WINDOW_S`; "
        "a slower one fails the attempt with `fetch_too_slow`. 0 turns the floor off.",
        "documents",
        ge=0,
    )
    fetch_rate_window_s: float = setting(
        20.0, "Window over which `OCR_FETCH_MIN_BYTES_PER_S` is measured, in seconds.", "documents", gt=0
    )
    fetch_max_redirects: int = setting(
        3, "Redirects followed when downloading a `url` source (each hop is checked again).", "documents"
    )
    url_allowlist: str = setting(
        "",
        "Comma-separated entries that `url` sources and webhooks may reach even though they are "
        "private, loopback or link-local: networks (`10.0.0.0/8`), addresses and host names, "
        "each optionally with one port (`127.0.0.1:8080`, `[::1]:8080`, `files.internal:8443`). "
        "An entry that cannot match is refused at start.",
        "documents",
    )

    # --- worker --------------------------------------------------------------------------
    engine: EngineName = setting(
        EngineName.tesseract,
        "OCR engine of `ocrp worker`: `tesseract` (CPU), `deepseek` (GPU), `replay` (recorded "
        "DeepSeek-OCR outputs, for tests and debugging) or `standin` (benchmarks only: the GPU "
        "worker's page path with an engine that answers at once, see bench/worker_path.py).",
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
    worker_shutdown_grace_s: float = setting(
        25.0,
        "Shutdown grace, seconds. A stopping worker aborts the engine requests of its tasks "
        "still running this long after SIGTERM, so they are handed back to the queue; `ocrp run` "
        "and `ocrp worker --gpus` kill their children this long after passing the signal on "
        "(their workers get 80% of it). Keep it below the orchestrator's own grace "
        "(`terminationGracePeriodSeconds`, compose `stop_grace_period`).",
        "worker",
    )
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

    @field_validator("url_allowlist")
    @classmethod
    def _allowlist_matches_something(cls, value: str) -> str:
        parse_allowlist(value)  # raises AllowlistError (a ValueError) on an entry that cannot match
        return value

    @model_validator(mode="after")
    def _derive_paths(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'ocrp.db').resolve()}"
        if self.storage_dir is None:
            self.storage_dir = self.data_dir / "storage"
        return self

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
    def queue_list(self) -> list[str]:
        return [q.strip() for q in self.worker_queues.split(",") if q.strip()]
