"""What the GPU worker's settings become for vLLM: engine arguments, environment, sampling."""

from __future__ import annotations

import importlib
from pathlib import Path

from shared.config import Settings
from worker.engines.deepseek.config import (
    LOGITS_PROCESSOR_FQCN,
    MOE_CONFIG_DIR,
    DeepSeekConfig,
    engine_environment,
    engine_kwargs,
    sampling_args,
)
from worker.engines.deepseek.ngram import NGramRule


def config(**env: object) -> DeepSeekConfig:
    return DeepSeekConfig.from_settings(Settings(deepseek_model_path="/models/dsocr", **env))  # type: ignore[arg-type]


def test_settings_become_engine_arguments() -> None:
    kwargs = engine_kwargs(
        config(deepseek_mode="base", deepseek_max_num_seqs=384, deepseek_cudagraph_max_size=384)
    )
    assert kwargs["model"] == kwargs["tokenizer"] == "/models/dsocr"
    assert kwargs["max_num_seqs"] == 384
    assert kwargs["compilation_config"] == {"max_cudagraph_capture_size": 384}
    assert kwargs["enable_prefix_caching"] is False
    assert kwargs["mm_processor_cache_gb"] == 0
    assert kwargs["mm_processor_kwargs"] == {
        "base_size": 1024,
        "image_size": 1024,
        "crop_mode": False,
        "max_crops": 6,
    }
    assert kwargs["logits_processors"] == [LOGITS_PROCESSOR_FQCN]
    assert kwargs["async_scheduling"] is True
    assert kwargs["stream_interval"] == 8


def test_the_logits_processor_name_points_at_its_class() -> None:
    module, name = LOGITS_PROCESSOR_FQCN.split(":")
    source = Path(importlib.util.find_spec(module).origin).read_text()  # type: ignore[union-attr,arg-type]
    assert f"class {name}(LogitsProcessor)" in source


def test_eager_mode_and_no_ngram() -> None:
    kwargs = engine_kwargs(
        config(deepseek_enforce_eager=True, deepseek_ngram_size=0, deepseek_retry_ngram_size=0)
    )
    assert "compilation_config" not in kwargs
    assert "logits_processors" not in kwargs


def test_ngram_rules_from_settings() -> None:
    made = config(deepseek_ngram_size=25, deepseek_ngram_window=80, deepseek_ngram_whitelist="7, 9")
    assert made.ngram == NGramRule(25, 80, (7, 9))
    assert made.retry_ngram == NGramRule(20, 160, (7, 9))
    assert config(deepseek_retry_ngram_size=0).retry_ngram is None


def test_the_environment_keeps_the_worker_offline_and_loads_our_moe_configs() -> None:
    env = engine_environment(config())
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["VLLM_TUNED_CONFIG_FOLDER"] == str(MOE_CONFIG_DIR)
    assert (
        engine_environment(config(deepseek_tuned_config_dir="/tuned"))["VLLM_TUNED_CONFIG_FOLDER"] == "/tuned"
    )


def test_sampling_is_greedy_keeps_grounding_tags_and_fits_the_context() -> None:
    made = config(deepseek_max_tokens=8192, deepseek_max_model_len=8192)
    args = sampling_args(made, made.ngram, prompt_tokens=916)
    assert args["temperature"] == 0.0
    assert args["skip_special_tokens"] is False
    assert args["max_tokens"] == 8192 - 916
    assert args["extra_args"] == {
        "ngram_size": 30,
        "window_size": 90,
        "whitelist_token_ids": [128821, 128822],
    }
    assert sampling_args(made, None, 100)["extra_args"] is None
    assert sampling_args(config(deepseek_max_tokens=1000), None, 916)["max_tokens"] == 1000
