"""The stand-in engine (benchmarks only): the GPU worker's whole page path without a GPU.

It asks for prepared inputs like the DeepSeek engine (`preparation`: the render processes make
Gundam-size bf16 pixel tensors, ~21 MB an A4 page, the size vLLM's processor makes there), and
answers every page at once with DeepSeek-style grounding markdown of `tokens` tokens (about
four characters a token). A page that asks for deltas (a watched task) gets them as vLLM's
DELTA outputs come: chunks of `stream_interval` tokens, `delta_pace_s` apart (0.11 s; on the
GPU 8 tokens take 0.3-0.6 s). The pacing costs no CPU; it only keeps the page's thread waiting
as vLLM would. Everything else -- claim, render, layout, crops, checkpoints, events, results --
is the worker's own code, so `bench/worker_path.py` measures what the worker process spends per
page apart from the engine itself.
"""

from __future__ import annotations

import functools
import random
from typing import TYPE_CHECKING, Any

from shared.options import Mode
from worker.engines.base import EngineCanceled, EngineInfo, PageRequest, Preparation
from worker.engines.deepseek.modes import ModeSpec, crop_grid, image_tokens, mode_spec
from worker.layout.grounding import recognized_from_raw
from worker.layout.recognized import RecognizedPage

if TYPE_CHECKING:
    from PIL import Image

    from shared.options import TaskOptions

CHARS_PER_TOKEN = 4
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "this",
    "are",
    "or",
    "from",
    "at",
    "which",
    "invoice",
    "total",
    "amount",
    "date",
    "customer",
    "order",
    "number",
    "page",
    "section",
    "table",
    "figure",
    "report",
    "summary",
    "result",
    "method",
    "analysis",
    "value",
    "system",
    "data",
    "model",
    "process",
    "2024",
    "12.50",
    "340.00",
    "EUR",
    "Ltd.",
]


def grounding_text(tokens: int, seed: int) -> str:
    """DeepSeek-OCR grounding markdown of about `tokens` tokens: a title, paragraphs and a
    table, each block with its label and box (coordinates on the model's 0-999 grid)."""
    rnd = random.Random(seed)
    want = tokens * CHARS_PER_TOKEN
    parts: list[str] = []
    size, y = 0, 40

    def block(label: str, body: str, height: int) -> None:
        nonlocal size, y
        top, y = y, min(999, y + height)
        part = f"<|ref|>{label}<|/ref|><|det|>[[80, {top}, 920, {y}]]<|/det|>\n{body}\n\n"
        parts.append(part)
        size += len(part)

    block("title", "# " + " ".join(rnd.choice(_WORDS).title() for _ in range(5)), 30)
    while size < want and y < 990:
        if len(parts) % 4 == 3:
            rows = "".join(
                "<tr>" + "".join(f"<td>{rnd.choice(_WORDS)}</td>" for _ in range(4)) + "</tr>"
                for _ in range(6)
            )
            block("table", f"<table>{rows}</table>", 60)
        else:
            words = " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(60, 110)))
            block("text", words[:1].upper() + words[1:] + ".", 40)
    return "".join(parts)[:want]


class GundamSizePreparer:
    """Built once per render process: turns a page into tensors of the shapes and dtype vLLM's
    DeepSeek-OCR processor gives it (global view base x base, crops image x image, bf16)."""

    def __init__(self, spec: ModeSpec, prompt_tokens: int) -> None:
        import torch

        torch.set_num_threads(1)  # one thread per process: the pool is the parallelism
        self.spec = spec
        self.prompt_tokens = prompt_tokens

    def __call__(self, image: Image.Image, options: TaskOptions) -> dict[str, Any]:
        import numpy as np
        import torch

        spec = self.spec
        width, height = image.size
        views = [image.resize((spec.base_size, spec.base_size))]
        columns, rows = crop_grid(spec, width, height) if spec.crop_mode else (1, 1)
        if columns * rows > 1:
            tiled = image.resize((spec.image_size * columns, spec.image_size * rows))
            side = spec.image_size
            views += [
                tiled.crop((c * side, r * side, (c + 1) * side, (r + 1) * side))
                for r in range(rows)
                for c in range(columns)
            ]

        def pixels(view: Image.Image) -> torch.Tensor:
            array = torch.from_numpy(np.asarray(view, dtype=np.uint8).copy())
            return ((array.permute(2, 0, 1).float() / 127.5) - 1.0).to(torch.bfloat16)

        tokens = image_tokens(spec, width, height) + self.prompt_tokens
        return {
            "type": "multimodal",
            "prompt": options.prompt_text(),
            "prompt_token_ids": [128815] * tokens,
            "mm_kwargs": {
                "pixel_values": pixels(views[0]).unsqueeze(0),
                "images_crop": torch.stack([pixels(v) for v in views[1:]])
                if len(views) > 1
                else torch.zeros((0, 3, spec.image_size, spec.image_size), dtype=torch.bfloat16),
                "images_spatial_crop": torch.tensor([[columns, rows]]),
            },
        }


def _preparer(spec: ModeSpec, prompt_tokens: int) -> GundamSizePreparer:
    return GundamSizePreparer(spec, prompt_tokens)


def standin_preparation(processes: int, mode: str) -> Preparation:
    # 13: the prompt's text tokens next to its image tokens, as DeepSeek-OCR's prompt has
    return Preparation(factory=functools.partial(_preparer, mode_spec(mode), 13), processes=processes)


class StandInEngine:
    def __init__(
        self,
        processes: int,
        tokens: int = 1000,
        stream_interval: int = 8,
        mode: str = Mode.gundam,
        delta_pace_s: float = 0.11,
    ) -> None:
        self.tokens = tokens
        self.delta_pace_s = delta_pace_s
        self.stream_interval = max(1, stream_interval)
        spec = mode_spec(mode)
        self.preparation = standin_preparation(processes, mode)
        self.info = EngineInfo(
            name="standin", model=f"stand-in ({spec.name} inputs)", modes=(spec.name,), streams_tokens=True
        )

    def recognize(self, request: PageRequest) -> RecognizedPage:
        if request.cancel.is_set():
            raise EngineCanceled(request.task_id)
        if request.prepared is None:
            raise RuntimeError("the stand-in engine expects inputs prepared by the render pool")
        raw = grounding_text(self.tokens, request.page)
        if request.on_delta is not None:
            step = self.stream_interval * CHARS_PER_TOKEN
            for start in range(0, len(raw), step):
                request.on_delta(raw[start : start + step])
                if request.cancel.wait(self.delta_pace_s):
                    raise EngineCanceled(request.task_id)
        width, height = request.image.size
        return recognized_from_raw(raw, width, height, eos=True, output_tokens=self.tokens)

    def cancel(self, task_id: str) -> None:
        return None  # a page takes milliseconds; cancellation is honoured between pages

    def close(self) -> None:
        return None
