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

from pydantic import Field, model_validator
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

    # --- batches (issue: batch backfills) ------------------------------------------------

    # --- observability (issue: ops dashboard and metrics) --------------------------------

    # --- security (issue: keys, limits, retention) ---------------------------------------

    # --- interactive (issue: SSE, /v1/ocr, chat completions) -----------------------------

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
    def queue_list(self) -> list[str]:
        return [q.strip() for q in self.worker_queues.split(",") if q.strip()]

    @property
    def routed_modes(self) -> set[str]:
        return {m.strip() for m in self.mode_queues.split(",") if m.strip()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
