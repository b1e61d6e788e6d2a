"""The n-gram processor alone on the GPU: its bans against the plain rule, and its cost per
decode step next to DeepSeek-OCR's per-request processor (vLLM's NoRepeatNGramLogitsProcessor),
at 256 and 512 running pages with 500-token histories and the real vocabulary size.

usage (GPU machine): python -m bench.gpu.ngram_micro --out bench/results/raw.jsonl
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench.gpu.common import record
from worker.engines.deepseek.ngram import NGramRule, NoRepeatNGramBatch, ngram_extra_args, reference_bans

VOCAB = 129280
RULE = NGramRule(30, 90, (128821, 128822))


@dataclass
class Params:
    extra_args: dict[str, Any]


@dataclass
class Update:
    batch_size: int
    removed: list[int]
    added: list[Any]
    moved: list[Any]


def histories(rows: int, length: int, rnd: random.Random) -> list[list[int]]:
    out = []
    for _ in range(rows):
        tokens = [rnd.randrange(VOCAB) for _ in range(40)]
        while len(tokens) < length:
            # long verbatim repeats, as a looping page produces
            start = rnd.randrange(len(tokens))
            tokens += (
                tokens[start : start + rnd.randint(5, 60)] if rnd.random() < 0.5 else [rnd.randrange(50)]
            )
        out.append(tokens[:length])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    from vllm.model_executor.models.deepseek_ocr import NoRepeatNGramLogitsProcessor

    device = torch.device("cuda")
    gpu = torch.cuda.get_device_name()
    rnd = random.Random(3)
    for rows in (256, 512):
        outputs = histories(rows, 500, rnd)
        state = NoRepeatNGramBatch(rows, device, pin_memory=True)
        params = Params(ngram_extra_args(RULE))
        state.update(Update(rows, [], [(i, params, None, outputs[i]) for i in range(rows)], []))
        logits = torch.randn(rows, VOCAB, device=device)
        mismatches = 0
        for _ in range(5):  # correctness on the device, against the plain rule
            out = state.apply(logits.clone())
            banned = torch.isneginf(out).nonzero().tolist()
            got: dict[int, set[int]] = {}
            for r, t in banned:
                got.setdefault(r, set()).add(t)
            mismatches += sum(got.get(i, set()) != reference_bans(outputs[i], RULE) for i in range(rows))
            for o in outputs:
                o.append(o[-rnd.randint(1, 30)])
        host, device_ms = [], []
        for _ in range(args.steps):
            for o in outputs:
                o.append(o[-rnd.randint(1, 30)] if rnd.random() < 0.7 else rnd.randrange(VOCAB))
            work = logits.clone()
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            t0 = time.perf_counter()
            start.record()
            state.apply(work)
            end.record()
            host.append(time.perf_counter() - t0)
            torch.cuda.synchronize()
            device_ms.append(start.elapsed_time(end))
        upstream = NoRepeatNGramLogitsProcessor(RULE.ngram_size, RULE.window_size, set(RULE.whitelist))
        up = []
        for _ in range(5):
            work = logits.clone()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for i in range(rows):
                upstream(outputs[i], work[i])
            torch.cuda.synchronize()
            up.append(time.perf_counter() - t0)
        host.sort(), device_ms.sort(), up.sort()
        record(
            Path(args.out),
            {
                "bench": "ngram_micro",
                "gpu": gpu,
                "rows": rows,
                "history": 500,
                "rule": [RULE.ngram_size, RULE.window_size],
                "rows_mismatching_reference": mismatches,
                "ours_host_ms_median": round(1000 * host[len(host) // 2], 3),
                "ours_device_ms_median": round(device_ms[len(device_ms) // 2], 3),
                "upstream_ms_median": round(1000 * up[len(up) // 2], 2),
            },
        )


if __name__ == "__main__":
    main()
