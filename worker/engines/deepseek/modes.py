"""DeepSeek-OCR resolution modes and the switch that makes vLLM 0.25 serve one of them.

vLLM 0.25 hard-codes Gundam as module constants of
`vllm/transformers_utils/processors/deepseek_ocr.py` (BASE_SIZE, IMAGE_SIZE, CROP_MODE,
MIN_CROPS, MAX_CROPS). The model file imports three of them by value and counts image tokens
with them, and several function defaults were bound to them at import. Passing
`mm_processor_kwargs` alone therefore gives a token-count mismatch. `apply_mode` sets the
constants in both modules and rebinds those defaults; it must run in every process that
imports them:

- the worker process (frontend: it counts prompt tokens) and the preprocessing processes:
  the engine calls `apply_mode` before it starts vLLM;
- vLLM's engine-core and GPU-worker processes: the engine exports the mode in
  `OCRP_DEEPSEEK_MODE_SPEC`, and `vllm_plugin` (registered as a `vllm.general_plugins` entry
  point, which vLLM loads in each of its processes, forked or spawned) applies it there.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

from shared.options import Mode

PROCESSOR_MODULE = "vllm.transformers_utils.processors.deepseek_ocr"
MODEL_MODULE = "vllm.model_executor.models.deepseek_ocr"
SPEC_ENV = "OCRP_DEEPSEEK_MODE_SPEC"
MAX_CROPS_LIMIT = 9  # DeepSeek-OCR's tiling supports up to 3x3


class ModeSwitchError(RuntimeError):
    """The installed vLLM does not have the constants this switch expects."""


@dataclass(frozen=True)
class ModeSpec:
    name: str
    base_size: int  # side of the global view
    image_size: int  # side of a crop (or of the resized page without crops)
    crop_mode: bool
    min_crops: int = 2
    max_crops: int = 6

    def processor_kwargs(self) -> dict[str, Any]:
        """`mm_processor_kwargs` for vLLM: the processor's own defaults were bound at import."""
        return {
            "base_size": self.base_size,
            "image_size": self.image_size,
            "crop_mode": self.crop_mode,
            "max_crops": self.max_crops,
        }

    def to_env(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_env(cls, value: str) -> ModeSpec:
        return cls(**json.loads(value))


_SIZES: dict[Mode, tuple[int, int, bool]] = {
    Mode.tiny: (512, 512, False),
    Mode.small: (640, 640, False),
    Mode.base: (1024, 1024, False),
    Mode.large: (1280, 1280, False),
    Mode.gundam: (1024, 640, True),
}


def mode_spec(mode: Mode | str, min_crops: int = 2, max_crops: int = 6) -> ModeSpec:
    mode = Mode(mode)
    if not 1 <= min_crops <= max_crops <= MAX_CROPS_LIMIT:
        raise ValueError(
            f"crops must satisfy 1 <= min_crops <= max_crops <= {MAX_CROPS_LIMIT} "
            f"(got {min_crops}, {max_crops})"
        )
    base, image, crop = _SIZES[mode]
    return ModeSpec(mode.value, base, image, crop, min_crops, max_crops)


def image_tokens(spec: ModeSpec, width: int, height: int) -> int:
    """Prompt tokens vLLM's DeepSeek-OCR gives one image (global view, its row ends and the
    view separator, plus the crops' grid with its row ends). Mirrors the model's own count;
    a test checks the two agree."""
    global_side = -(-(spec.base_size // 16) // 4)
    tokens = global_side * (global_side + 1) + 1
    if spec.crop_mode and (width > spec.image_size or height > spec.image_size):
        tiles_w, tiles_h = crop_grid(spec, width, height)
        if tiles_w > 1 or tiles_h > 1:
            crop_side = -(-(spec.image_size // 16) // 4)
            tokens += (tiles_h * crop_side) * (tiles_w * crop_side + 1)
    return tokens


def crop_grid(spec: ModeSpec, width: int, height: int) -> tuple[int, int]:
    """The (columns, rows) of crops DeepSeek-OCR picks: the allowed grid whose aspect ratio is
    closest to the page's, ties going to the larger grid when the page is big enough."""
    ratios = sorted(
        {
            (i, j)
            for n in range(spec.min_crops, spec.max_crops + 1)
            for i in range(1, n + 1)
            for j in range(1, n + 1)
            if spec.min_crops <= i * j <= spec.max_crops
        },
        key=lambda r: r[0] * r[1],
    )
    aspect = width / height
    best, best_diff = (1, 1), float("inf")
    for ratio in ratios:
        diff = abs(aspect - ratio[0] / ratio[1])
        if diff < best_diff:
            best, best_diff = ratio, diff
        elif diff == best_diff and width * height > 0.5 * spec.image_size**2 * ratio[0] * ratio[1]:
            best = ratio
    return best


def apply_mode(spec: ModeSpec, processor: ModuleType | None = None, model: ModuleType | None = None) -> None:
    """Make vLLM's DeepSeek-OCR processor and model (in this process) serve `spec`."""
    processor = processor or importlib.import_module(PROCESSOR_MODULE)
    model = model or importlib.import_module(MODEL_MODULE)
    for module, names in (
        (processor, ("BASE_SIZE", "IMAGE_SIZE", "CROP_MODE", "MIN_CROPS", "MAX_CROPS")),
        (model, ("BASE_SIZE", "IMAGE_SIZE", "CROP_MODE")),
    ):
        missing = [n for n in names if not hasattr(module, n)]
        if missing:
            raise ModeSwitchError(
                f"{module.__name__} has no {', '.join(missing)}: this vLLM is not the 0.25 line "
                "the DeepSeek mode switch was written for"
            )
    # module constants of vLLM's DeepSeek-OCR files, checked just above: set by name
    sizes = {"BASE_SIZE": spec.base_size, "IMAGE_SIZE": spec.image_size, "CROP_MODE": spec.crop_mode}
    crops_bounds = {"MIN_CROPS": spec.min_crops, "MAX_CROPS": spec.max_crops}
    for name, value in {**sizes, **crops_bounds}.items():
        setattr(processor, name, value)
    for name, value in sizes.items():
        setattr(model, name, value)
    crops = {"min_num": spec.min_crops, "max_num": spec.max_crops}
    for name in ("calculate_aspect_ratios", "count_tiles", "dynamic_preprocess"):
        rebind_defaults(getattr(processor, name), **crops)
    cls = processor.DeepseekOCRProcessor
    rebind_defaults(
        cls.__init__, image_size=spec.image_size, base_size=spec.base_size, max_crops=spec.max_crops
    )
    rebind_defaults(cls.__call__, crop_mode=spec.crop_mode)
    rebind_defaults(cls.process_one, crop_mode=spec.crop_mode)


def rebind_defaults(func: Any, **values: Any) -> None:
    """Replace default argument values that were evaluated when `func` was defined."""
    code = func.__code__
    positional = code.co_varnames[: code.co_argcount]
    defaults = list(func.__defaults__ or ())
    first_default = len(positional) - len(defaults)
    kwdefaults = dict(func.__kwdefaults__ or {})
    for name, value in values.items():
        if name in positional[first_default:]:
            defaults[positional.index(name) - first_default] = value
        elif name in kwdefaults:
            kwdefaults[name] = value
        else:
            raise ModeSwitchError(f"{func.__qualname__} has no default for {name!r}")
    func.__defaults__ = tuple(defaults)
    func.__kwdefaults__ = kwdefaults or None


def export_mode(spec: ModeSpec) -> None:
    """Hand the mode to vLLM's child processes (read there by `vllm_plugin`)."""
    os.environ[SPEC_ENV] = spec.to_env()


def vllm_plugin() -> None:
    """vLLM general plugin: apply the exported mode in each vLLM process (no-op without one)."""
    value = os.environ.get(SPEC_ENV)
    if value:
        apply_mode(ModeSpec.from_env(value))


def current_constants(processor: ModuleType | None = None, model: ModuleType | None = None) -> dict[str, Any]:
    """What vLLM's modules hold now in this process (for checks and the engine's start log)."""
    processor = processor or importlib.import_module(PROCESSOR_MODULE)
    model = model or importlib.import_module(MODEL_MODULE)
    return {
        "processor": [processor.BASE_SIZE, processor.IMAGE_SIZE, processor.CROP_MODE],
        "model": [model.BASE_SIZE, model.IMAGE_SIZE, model.CROP_MODE],
        "crops": [processor.MIN_CROPS, processor.MAX_CROPS],
    }
