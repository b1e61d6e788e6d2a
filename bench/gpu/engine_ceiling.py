"""The engine ceiling: vLLM's AsyncLLM alone over pre-rendered (and, by default, pre-processed)
A4 pages, with the GPU worker's own engine settings.

All pages are submitted at once; every page decodes exactly --max-tokens (ignore_eos) with the
n-gram rule on. Inputs: `prepared` (made before the clock starts, by the same InputPreparer the
worker's render processes run; every request gets its own multimodal id, so the vision encoder
runs for each) or `raw` (PIL images: vLLM's frontend preprocesses them, the upstream way).
n-gram: `ours` (the batched processor), `upstream` (vLLM's NGramPerReqLogitsProcessor), `off`.

usage (GPU machine): python -m bench.gpu.engine_ceiling --model /tmp/ocr-model --mode gundam \\
    --pages 1024 --out bench/results/raw.jsonl [--max-num-seqs 512 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.gpu.common import GpuSampler, cpu_delta, cpu_seconds, kill_children, make_pdf, record, render_pages

UPSTREAM = "vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor"
DISTINCT_PAGES = 24


def _stats(worker: Any) -> dict[str, Any]:
    """Runs inside vLLM's GPU worker (collective_rpc)."""
    import torch

    from worker.engines.deepseek.logits_processor import STATS
    from worker.engines.deepseek.modes import current_constants

    return {
        **STATS,
        "constants": current_constants(),
        "torch_max_alloc_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
    }


_preparer: Any = None


def _init_preparer(model: str, spec: Any, max_len: int, env: dict[str, str]) -> None:
    global _preparer
    from worker.engines.deepseek.prepare import InputPreparer

    _preparer = InputPreparer(model, spec, max_len, env)


def _prepare(image: Any, prompt: str) -> Any:
    return _preparer.prepare(image, prompt)


def build_config(args: argparse.Namespace) -> Any:
    from shared.config import Settings
    from worker.engines.deepseek.config import DeepSeekConfig

    config = DeepSeekConfig.from_settings(
        Settings(deepseek_model_path=args.model, deepseek_mode=args.mode, deepseek_load_format="dummy")
    )
    overrides: dict[str, Any] = {"ignore_eos": True, "max_tokens": args.max_tokens, "retry_ngram": None}
    for name in ("max_num_seqs", "max_num_batched_tokens", "cudagraph_max_size", "gpu_memory_utilization"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_async_scheduling:
        overrides["async_scheduling"] = False
    if args.ngram == "off":
        overrides["ngram"] = None
    return replace(config, **overrides)


async def run(args: argparse.Namespace) -> None:
    from vllm import SamplingParams
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.sampling_params import RequestOutputKind
    from vllm.v1.engine.async_llm import AsyncLLM

    from worker.engines.deepseek.config import engine_environment, engine_kwargs, sampling_args
    from worker.engines.deepseek.modes import apply_mode, export_mode

    config = build_config(args)
    env = engine_environment(config)
    os.environ.update(env)
    os.environ["VLLM_ALLOW_INSECURE_SERIALIZATION"] = "1"  # the stats probe sends a function
    if args.no_tuned_moe:
        os.environ["VLLM_TUNED_CONFIG_FOLDER"] = "/nonexistent"
    export_mode(config.spec)
    apply_mode(config.spec)
    prompt = "<image>\n<|grounding|>Convert the document to markdown."

    with tempfile.TemporaryDirectory() as tmp:
        images = render_pages(make_pdf(Path(tmp) / "pages.pdf", DISTINCT_PAGES, 11), DISTINCT_PAGES)
    print(f"pages {images[0].size}", flush=True)
    if args.inputs == "prepared":
        t0 = time.time()
        with ProcessPoolExecutor(
            8,
            mp_context=get_context("spawn"),
            initializer=_init_preparer,
            initargs=(config.model_path, config.spec, config.max_model_len, env),
        ) as pool:
            distinct = list(pool.map(_prepare, images, [prompt] * len(images)))
        print(f"prepared {len(distinct)} pages in {time.time() - t0:.1f}s", flush=True)

        def page_input(i: int) -> Any:
            item = dict(distinct[i % len(distinct)])
            item["mm_hashes"] = {"image": [uuid.uuid4().hex]}  # its own id: no encoder-cache reuse
            return item

        prompt_tokens = len(distinct[0]["prompt_token_ids"])
    else:

        def page_input(i: int) -> Any:
            return {
                "prompt": prompt,
                "multi_modal_data": {"image": images[i % len(images)]},
                "mm_processor_kwargs": config.spec.processor_kwargs(),
            }

        prompt_tokens = 1000

    kwargs = engine_kwargs(config)
    if args.ngram == "upstream":
        kwargs["logits_processors"] = [UPSTREAM]
    sampler = GpuSampler()
    sampler.start()
    t0 = time.time()
    llm = AsyncLLM.from_engine_args(AsyncEngineArgs(**kwargs))
    start_s = time.time() - t0
    base = sampling_args(config, config.ngram if args.ngram != "off" else None, prompt_tokens)

    async def one(i: int, max_tokens: int) -> int:
        params = SamplingParams(
            **{**base, "max_tokens": max_tokens}, output_kind=RequestOutputKind.FINAL_ONLY
        )
        tokens = 0
        async for out in llm.generate(page_input(i), params, f"bench-{i}-{uuid.uuid4().hex[:6]}"):
            tokens = len(out.outputs[0].token_ids)
        return tokens

    t0 = time.time()
    await asyncio.gather(*(one(i, 16) for i in range(16)))
    print(f"engine start {start_s:.0f}s, warm-up {time.time() - t0:.1f}s", flush=True)

    before_stats = (await llm.collective_rpc(_stats))[0]
    cpu0 = cpu_seconds(os.getpid())
    t1 = time.time()
    counts = await asyncio.gather(*(one(i, args.max_tokens) for i in range(args.pages)))
    t2 = time.time()
    cpu1 = cpu_seconds(os.getpid())
    after_stats = (await llm.collective_rpc(_stats))[0]
    wall = t2 - t1
    steps = after_stats["steps"] - before_stats["steps"]
    cpu = cpu_delta(cpu0, cpu1)
    engine_cpu = round(sum(v for k, v in cpu.items() if k != "self"), 1)
    row = {
        "bench": "engine_ceiling",
        "label": args.label,
        "gpu": sampler.gpu,
        "mode": config.spec.name,
        "inputs": args.inputs,
        "ngram": args.ngram,
        "pages": args.pages,
        "max_tokens": args.max_tokens,
        "all_exact": all(c == args.max_tokens for c in counts),
        "prompt_tokens": prompt_tokens,
        "seconds": round(wall, 2),
        "pages_per_s": round(args.pages / wall, 3),
        "output_tokens_per_s": round(sum(counts) / wall, 1),
        **sampler.window(t1, t2),
        "frontend_cpu_s": cpu.get("self"),
        "engine_core_cpu_s": engine_cpu,
        "processor_steps": steps,
        "engine_cpu_ms_per_step": round(1000 * engine_cpu / steps, 2) if steps else None,
        "wall_ms_per_step": round(1000 * wall / steps, 2) if steps else None,
        "ngram_apply_ms_per_step": round(1000 * (after_stats["seconds"] - before_stats["seconds"]) / steps, 3)
        if steps
        else None,
        "engine_start_s": round(start_s, 1),
        "worker_constants": after_stats["constants"],
        "settings": {
            k: kwargs.get(k)
            for k in ("max_num_seqs", "max_num_batched_tokens", "async_scheduling", "gpu_memory_utilization")
        }
        | {"cudagraph_max": config.cudagraph_max_size, "tuned_moe": not args.no_tuned_moe},
    }
    record(Path(args.out), row)
    sampler.stopped.set()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--mode", default="gundam")
    ap.add_argument("--pages", type=int, default=1024)
    ap.add_argument("--max-tokens", type=int, default=1000)
    ap.add_argument("--inputs", choices=["prepared", "raw"], default="prepared")
    ap.add_argument("--ngram", choices=["ours", "upstream", "off"], default="ours")
    ap.add_argument("--max-num-seqs", type=int)
    ap.add_argument("--max-num-batched-tokens", type=int)
    ap.add_argument("--cudagraph-max-size", type=int)
    ap.add_argument("--gpu-memory-utilization", type=float)
    ap.add_argument("--no-async-scheduling", action="store_true")
    ap.add_argument("--no-tuned-moe", action="store_true")
    ap.add_argument("--label", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    status = 0
    try:
        asyncio.run(run(args))
    except BaseException:
        # os._exit below skips the interpreter's own report: print the failure first
        traceback.print_exc()
        status = 1
    finally:
        kill_children()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


if __name__ == "__main__":
    main()
