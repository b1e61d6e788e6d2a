"""The batched no-repeat n-gram rule as a vLLM v1 logits processor.

Start the engine with `logits_processors=[FQCN]`; a request opts in through
`SamplingParams.extra_args` with DeepSeek-OCR's keys (`ngram_size`, `window_size`,
`whitelist_token_ids`), as with vLLM's own `NGramPerReqLogitsProcessor`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor

from worker.engines.deepseek.ngram import NoRepeatNGramBatch, rule_from_args

if TYPE_CHECKING:
    from vllm.config import VllmConfig

# host time spent in `apply` (the GPU work it queues runs asynchronously), read by benchmarks
STATS = {"steps": 0, "rows": 0, "seconds": 0.0}


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        rule_from_args(sampling_params.extra_args)

    def __init__(self, vllm_config: VllmConfig, device: torch.device, is_pin_memory: bool) -> None:
        self.state = NoRepeatNGramBatch(vllm_config.scheduler_config.max_num_seqs, device, is_pin_memory)

    def is_argmax_invariant(self) -> bool:
        return False  # bans change the greedy choice

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        self.state.update(batch_update)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        started = time.perf_counter()
        logits = self.state.apply(logits)
        STATS["steps"] += 1
        STATS["rows"] += logits.shape[0]
        STATS["seconds"] += time.perf_counter() - started
        return logits
