"""DeepSeek-OCR page inputs prepared outside the engine's process.

vLLM's frontend runs the DeepSeek-OCR image processor (resize, tiling, normalisation) on one
thread: 130-150 ms a Gundam A4 page, which caps a frontend near 7 pages/s. `InputPreparer` runs
vLLM's own multimodal processor in the render processes instead and returns the processed
prompt (token ids, pixel tensors, placeholder ranges) that `AsyncLLM.generate` accepts as is:
a dict with `type: "multimodal"` skips vLLM's preprocessing.

Each image gets a fresh uuid as its multimodal identifier. With the processor cache and prefix
caching off, vLLM would otherwise name items by a per-process counter, and counters of several
processes would collide in the engine's encoder cache.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

from worker.engines.deepseek.modes import ModeSpec, apply_mode

if TYPE_CHECKING:
    from PIL import Image

    from shared.options import TaskOptions


class InputPreparer:
    """Built once per render process (it imports vLLM and loads the tokenizer)."""

    def __init__(self, model_path: str, spec: ModeSpec, max_model_len: int, env: dict[str, str]) -> None:
        for name, value in env.items():
            os.environ.setdefault(name, value)
        import torch

        # one thread per process: the pool is the parallelism
        torch.set_num_threads(1)
        apply_mode(spec)
        from vllm.config import ModelConfig
        from vllm.multimodal import MULTIMODAL_REGISTRY

        self.spec = spec
        self.model_config = ModelConfig(
            model=model_path,
            tokenizer=model_path,
            max_model_len=max_model_len,
            mm_processor_kwargs=spec.processor_kwargs(),
            mm_processor_cache_gb=0,
            limit_mm_per_prompt={"image": 1},
        )
        self.processor = MULTIMODAL_REGISTRY.create_processor(self.model_config)

    def __call__(self, image: Image.Image, options: TaskOptions) -> dict[str, Any]:
        return self.prepare(image, options.prompt_text())

    def prepare(self, image: Image.Image, prompt: str) -> dict[str, Any]:
        from vllm.multimodal.processing import ProcessorInputs, TimingContext

        inputs = ProcessorInputs(
            prompt=prompt,
            mm_data_items=self.processor.info.parse_mm_data({"image": image}),
            mm_uuid_items={"image": [uuid.uuid4().hex]},
            hf_processor_mm_kwargs=self.spec.processor_kwargs(),
        )
        prepared: dict[str, Any] = dict(self.processor.apply(inputs, TimingContext(enabled=False)))
        prepared["prompt"] = prompt
        return prepared


def prompt_tokens(prepared: dict[str, Any]) -> int:
    return len(prepared["prompt_token_ids"])
