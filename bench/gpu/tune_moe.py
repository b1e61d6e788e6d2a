"""Tune vLLM's fused-MoE Triton kernel for DeepSeek-OCR's decoder (E=64 experts, N=896) on the
GPU at hand, with vLLM's own tuning tool, and write the JSON that VLLM_TUNED_CONFIG_FOLDER reads.

The tool (`benchmarks/kernels/benchmark_moe.py` of the vLLM repository) is not in the wheel
and is not part of ocrp: fetch its text into an ignored folder and pass its path. This driver
only adapts it to run here:
- it distributes work with Ray, which the GPU image lacks: a local stand-in runs its workers
  in this process, one GPU;
- its text is newer than vLLM 0.25 in three call sites: `fused_topk` moved out of the fused_moe
  module, `fused_experts` lost its `inplace`/`allow_deep_gemm` arguments and the platform has
  no `seed_everything`; all three are bridged;
- it tunes one batch size at a time, most important first (decode batches, then prefill
  chunks), saving after each, so a time box still leaves a usable file;
- `--space narrow` restricts the tool's 1,920-config grid (each config compiles two Triton
  kernels) to the tile shapes that fit N=896/K=1280 matrices; `--space full` keeps it.

usage (on the GPU machine, vLLM importable):
  python bench/gpu/tune_moe.py --tool .gpu_src/moe/benchmark_moe.py --model /tmp/ocr-model \\
      --out worker/engines/deepseek/moe_configs --deadline 240
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

# decode batches (running pages) first, then the token counts of mixed prefill steps
BATCH_ORDER = [512, 256, 1024, 2048, 128, 384, 768, 1536, 4096, 64, 3072, 8192, 16384, 32, 16, 1]


def ray_stand_in() -> types.ModuleType:
    """The part of Ray's API the tool uses, run in this process."""

    class Handle:
        def __init__(self, obj: Any) -> None:
            self._obj = obj

        def __getattr__(self, name: str) -> Any:
            method = getattr(self._obj, name)
            return types.SimpleNamespace(remote=lambda *a, **k: method(*a, **k))

    def remote(*args: Any, **kwargs: Any) -> Any:
        def wrap(cls: type) -> Any:
            return types.SimpleNamespace(remote=lambda *a, **k: Handle(cls(*a, **k)))

        return wrap(args[0]) if args and isinstance(args[0], type) else wrap

    ray = types.ModuleType("ray")
    ray.remote = remote  # type: ignore[attr-defined]
    ray.init = lambda *a, **k: None  # type: ignore[attr-defined]
    ray.get = lambda refs: refs  # type: ignore[attr-defined]
    ray.available_resources = lambda: {"GPU": 1}  # type: ignore[attr-defined]
    ray.get_gpu_ids = lambda: [0]  # type: ignore[attr-defined]
    experimental = types.ModuleType("ray.experimental")
    tqdm_ray = types.ModuleType("ray.experimental.tqdm_ray")
    tqdm_ray.tqdm = lambda iterable, **_: iterable  # type: ignore[attr-defined]
    experimental.tqdm_ray = tqdm_ray  # type: ignore[attr-defined]
    ray.experimental = experimental  # type: ignore[attr-defined]
    sys.modules.update({"ray": ray, "ray.experimental": experimental, "ray.experimental.tqdm_ray": tqdm_ray})
    return ray


def bridge_vllm_025() -> None:
    import vllm.model_executor.layers.fused_moe.fused_moe as fm
    from vllm.model_executor.layers.fused_moe import fused_topk

    original = fm.fused_experts

    def fused_experts(*args: Any, inplace: bool = False, allow_deep_gemm: bool = False, **kwargs: Any) -> Any:
        return original(*args, **kwargs)

    fm.fused_topk = fused_topk
    fm.fused_experts = fused_experts


class SeededPlatform:
    """vLLM 0.25's platform, plus the `seed_everything` the tool calls."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def seed_everything(self, seed: int) -> None:
        from vllm.utils.torch_utils import set_random_seed

        set_random_seed(seed)


def narrow(space: list[dict[str, int]]) -> list[dict[str, int]]:
    return [
        c
        for c in space
        if c["BLOCK_SIZE_M"] <= 128
        and c["BLOCK_SIZE_N"] in (64, 128)
        and c["BLOCK_SIZE_K"] in (64, 128)
        and c["GROUP_SIZE_M"] in (1, 16)
        and c["num_stages"] in (3, 4)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="path of the fetched benchmark_moe.py")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--space", choices=["narrow", "full"], default="narrow")
    ap.add_argument("--deadline", type=float, default=240, help="start no batch size after this many s")
    ap.add_argument("--batches", default=",".join(map(str, BATCH_ORDER)))
    args = ap.parse_args()
    started = time.time()

    ray_stand_in()
    bridge_vllm_025()
    spec = importlib.util.spec_from_file_location("benchmark_moe", args.tool)
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.current_platform = SeededPlatform(tool.current_platform)

    config = tool.get_config(model=args.model, trust_remote_code=False).text_config
    experts, topk = config.n_routed_experts, config.num_experts_per_tok
    shard = 2 * config.moe_intermediate_size
    hidden, dtype = config.hidden_size, config.dtype
    space = tool.get_configs_compute_bound(True, None)
    if args.space == "narrow":
        space = narrow(space)
    print(f"E={experts} N={shard // 2} hidden={hidden} topk={topk} {dtype}: {len(space)} configs", flush=True)
    worker = tool.BenchmarkWorker.remote(0)
    best: dict[int, Any] = {}
    report = []
    for batch in [int(b) for b in args.batches.split(",") if b]:
        if time.time() - started > args.deadline:
            print(f"deadline: batch {batch} not tuned", flush=True)
            continue
        t0 = time.time()
        _default_cfg, default_us = worker.benchmark.remote(
            batch, experts, shard, hidden, topk, dtype, False, False
        )
        chosen = worker.tune.remote(
            batch, experts, shard, hidden, topk, dtype, False, False, space, None, False
        )
        tuned_us = tool.benchmark_config(chosen, batch, experts, shard, hidden, topk, dtype, False, False)
        best[batch] = tool.sort_config(chosen)
        tool.save_configs(
            dict(sorted(best.items())), experts, shard, hidden, topk, dtype, False, False, None, args.out
        )
        row = {
            "batch": batch,
            "default_us": round(default_us, 1),
            "tuned_us": round(tuned_us, 1),
            "speedup": round(default_us / tuned_us, 3),
            "tune_s": round(time.time() - t0, 1),
            "config": best[batch],
        }
        report.append(row)
        print("RESULT", json.dumps(row), flush=True)
    Path(args.out, "tuning-report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"tuned {len(best)} batch sizes in {time.time() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
