"""The GPU engine's configuration and what it becomes for vLLM: engine arguments, environment
and sampling arguments. Plain data in, plain data out (tested without vLLM)."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shared.config import Settings
from worker.engines.deepseek.modes import ModeSpec, mode_spec
from worker.engines.deepseek.ngram import NGramRule, ngram_extra_args, parse_token_ids

TABLE_CELL_TOKENS = (128821, 128822)  # <td>, </td>: table rows legitimately repeat them
DEFAULT_NGRAM = NGramRule(30, 90, TABLE_CELL_TOKENS)  # DeepSeek-OCR's own values
DEFAULT_RETRY_NGRAM = NGramRule(20, 180, TABLE_CELL_TOKENS)
MOE_CONFIG_DIR = Path(__file__).parent / "moe_configs"
# named, not imported: the engine-core process imports it (this module must not import vLLM)
LOGITS_PROCESSOR_FQCN = "worker.engines.deepseek.logits_processor:NoRepeatNGramLogitsProcessor"


@dataclass(frozen=True)
class DeepSeekConfig:
    model_path: str
    spec: ModeSpec
    load_format: str = "auto"
    dtype: str = "bfloat16"
    gpu_memory_utilization: float = 0.90
    max_num_seqs: int = 512
    max_model_len: int = 8192
    max_tokens: int = 8192
    max_num_batched_tokens: int = 16384
    cudagraph_max_size: int = 512
    async_scheduling: bool = True
    stream_interval: int = 8
    tensor_parallel_size: int = 1
    enforce_eager: bool = False
    ngram: NGramRule | None = DEFAULT_NGRAM
    retry_ngram: NGramRule | None = DEFAULT_RETRY_NGRAM
    tuned_config_dir: str = ""
    prepare_processes: int = 0  # 0: cores minus 4
    ignore_eos: bool = False  # benchmarks only: every page decodes exactly max_tokens
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeepSeekConfig:
        ngram = retry = None
        whitelist = parse_token_ids(settings.deepseek_ngram_whitelist)
        if settings.deepseek_ngram_size:
            ngram = NGramRule(settings.deepseek_ngram_size, settings.deepseek_ngram_window, whitelist)
        if settings.deepseek_retry_ngram_size:
            retry = NGramRule(
                settings.deepseek_retry_ngram_size, 2 * settings.deepseek_ngram_window, whitelist
            )
        return cls(
            model_path=settings.deepseek_model_path,
            spec=mode_spec(settings.deepseek_mode, settings.deepseek_min_crops, settings.deepseek_max_crops),
            load_format=settings.deepseek_load_format,
            dtype=settings.deepseek_dtype,
            gpu_memory_utilization=settings.deepseek_gpu_memory_utilization,
            max_num_seqs=settings.deepseek_max_num_seqs,
            max_model_len=settings.deepseek_max_model_len,
            max_tokens=settings.deepseek_max_tokens,
            max_num_batched_tokens=settings.deepseek_max_num_batched_tokens,
            cudagraph_max_size=settings.deepseek_cudagraph_max_size,
            async_scheduling=settings.deepseek_async_scheduling,
            stream_interval=settings.deepseek_stream_interval,
            tensor_parallel_size=settings.deepseek_tensor_parallel_size,
            enforce_eager=settings.deepseek_enforce_eager,
            ngram=ngram,
            retry_ngram=retry,
            tuned_config_dir=settings.deepseek_tuned_config_dir,
            prepare_processes=settings.deepseek_prepare_processes or default_prepare_processes(),
            ignore_eos=settings.deepseek_bench_ignore_eos,
        )

    def with_mode(self, spec: ModeSpec) -> DeepSeekConfig:
        return replace(self, spec=spec)


def default_prepare_processes() -> int:
    # leave cores to vLLM's engine core, the worker's own threads and the system
    return max(2, (os.cpu_count() or 6) - 4)


def engine_kwargs(config: DeepSeekConfig) -> dict[str, Any]:
    """Keyword arguments of vLLM's (Async)EngineArgs."""
    kwargs: dict[str, Any] = {
        "model": config.model_path,
        "tokenizer": config.model_path,
        "load_format": config.load_format,
        "dtype": config.dtype,
        "max_model_len": config.max_model_len,
        "max_num_seqs": config.max_num_seqs,
        "max_num_batched_tokens": config.max_num_batched_tokens,
        "gpu_memory_utilization": config.gpu_memory_utilization,
        "tensor_parallel_size": config.tensor_parallel_size,
        "enforce_eager": config.enforce_eager,
        "async_scheduling": config.async_scheduling,
        "stream_interval": config.stream_interval,
        # every page is a new image: prefix caching and the processor cache only cost memory
        # and hashing time
        "enable_prefix_caching": False,
        "mm_processor_cache_gb": 0,
        "limit_mm_per_prompt": {"image": 1},
        "mm_processor_kwargs": config.spec.processor_kwargs(),
        "seed": config.seed,
        "disable_log_stats": True,
    }
    if not config.enforce_eager:
        kwargs["compilation_config"] = {"max_cudagraph_capture_size": config.cudagraph_max_size}
    if config.ngram is not None or config.retry_ngram is not None:
        kwargs["logits_processors"] = [LOGITS_PROCESSOR_FQCN]
    return kwargs


def engine_environment(config: DeepSeekConfig) -> dict[str, str]:
    """Variables vLLM reads at start (set before the engine and its processes start)."""
    env = {
        # a worker never downloads: the model directory is mounted
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "VLLM_TUNED_CONFIG_FOLDER": config.tuned_config_dir or str(MOE_CONFIG_DIR),
    }
    if importlib.util.find_spec("flashinfer") is None:
        # vLLM's top-k/top-p sampler imports FlashInfer even for greedy sampling
        env["VLLM_USE_FLASHINFER_SAMPLER"] = "0"
    return env


def sampling_args(config: DeepSeekConfig, rule: NGramRule | None, prompt_tokens: int) -> dict[str, Any]:
    """Keyword arguments of vLLM's SamplingParams for one page."""
    return {
        "temperature": 0.0,
        "max_tokens": max(1, min(config.max_tokens, config.max_model_len - prompt_tokens)),
        # grounding tags (<|ref|>, <|det|>) are special tokens and must reach the parser
        "skip_special_tokens": False,
        "ignore_eos": config.ignore_eos,
        "extra_args": ngram_extra_args(rule) if rule is not None else None,
    }
