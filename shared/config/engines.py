"""OCR engine settings: the replay engine and the DeepSeek-OCR engine on vLLM."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from shared.config.fields import setting
from shared.options import Mode


class EngineSettings(BaseModel):
    replay_dir: Path | None = setting(
        None,
        "Folder of recorded DeepSeek-OCR raw outputs that the `replay` engine plays back through "
        "the grounding parser: `page-{n}.txt` for page n, else `page.txt` for any page.",
        "replay",
    )

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
    deepseek_engines_per_gpu: int = setting(
        1,
        "Engine processes `ocrp worker --engine deepseek` runs on each GPU, for hosts where one "
        "engine's CPU-bound core leaves the GPU idle. Above 1 the worker supervises one child "
        "process per engine (as with `--gpus`), and each gets gpu_memory_utilization divided by "
        "this number and its own VLLM_CACHE_ROOT.",
        "deepseek",
        ge=1,
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
        "decoding): bounds its memory, about 28 MB a Gundam page. 0: 2 x max_num_seqs, so a "
        "whole batch is prepared and queued while the current one decodes (~28 GB at 1,024 "
        "Gundam pages). Needs OCR_WORKER_CONCURRENCY x OCR_PAGES_IN_FLIGHT at least as large.",
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

    @property
    def routed_modes(self) -> set[str]:
        return {m.strip() for m in self.mode_queues.split(",") if m.strip()}
