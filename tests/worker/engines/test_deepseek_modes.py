"""The resolution-mode switch: what each mode asks of vLLM's DeepSeek-OCR processor, and that
applying a mode really rewrites the constants and defaults vLLM 0.25 bound at import."""

from __future__ import annotations

import types

import pytest

from worker.engines.deepseek.modes import (
    ModeSpec,
    ModeSwitchError,
    apply_mode,
    crop_grid,
    current_constants,
    export_mode,
    image_tokens,
    mode_spec,
    rebind_defaults,
    vllm_plugin,
)

# The shape of vLLM 0.25's processor and model modules, as far as the switch touches them: module
# constants, and functions and methods whose defaults were evaluated from them at import.
PROCESSOR_SOURCE = """
BASE_SIZE = 1024
IMAGE_SIZE = 640
CROP_MODE = True
MIN_CROPS = 2
MAX_CROPS = 6

def calculate_aspect_ratios(min_num=MIN_CROPS, max_num=MAX_CROPS):
    return min_num, max_num

def count_tiles(orig_width, orig_height, min_num=MIN_CROPS, max_num=MAX_CROPS, image_size=640, use_thumbnail=False):
    return min_num, max_num

def dynamic_preprocess(image, min_num=MIN_CROPS, max_num=MAX_CROPS, image_size=640, use_thumbnail=False):
    return min_num, max_num

class DeepseekOCRProcessor:
    def __init__(self, tokenizer, patch_size=16, image_size=IMAGE_SIZE, base_size=BASE_SIZE, max_crops=MAX_CROPS, **kwargs):
        self.image_size, self.base_size, self.max_crops = image_size, base_size, max_crops

    def process_one(self, prompt, images, crop_mode=CROP_MODE):
        return crop_mode

    def __call__(self, *, prompt, images, crop_mode=CROP_MODE, **kwargs):
        return self.process_one(prompt, images, crop_mode=crop_mode)
"""
MODEL_SOURCE = "BASE_SIZE = 1024\nIMAGE_SIZE = 640\nCROP_MODE = True\n"


def stand_ins() -> tuple[types.ModuleType, types.ModuleType]:
    processor = types.ModuleType("processor")
    exec(PROCESSOR_SOURCE, processor.__dict__)
    model = types.ModuleType("model")
    exec(MODEL_SOURCE, model.__dict__)
    return processor, model


@pytest.mark.parametrize(
    ("mode", "base", "image", "crop"),
    [
        ("tiny", 512, 512, False),
        ("small", 640, 640, False),
        ("base", 1024, 1024, False),
        ("large", 1280, 1280, False),
        ("gundam", 1024, 640, True),
    ],
)
def test_each_mode_asks_the_processor_for_its_sizes(mode: str, base: int, image: int, crop: bool) -> None:
    spec = mode_spec(mode, 2, 6)
    assert spec.processor_kwargs() == {
        "base_size": base,
        "image_size": image,
        "crop_mode": crop,
        "max_crops": 6,
    }


def test_crop_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="crops"):
        mode_spec("gundam", 3, 2)
    with pytest.raises(ValueError, match="crops"):
        mode_spec("gundam", 2, 10)
    with pytest.raises(ValueError, match="huge"):
        mode_spec("huge")


def test_applying_a_mode_rewrites_constants_and_bound_defaults() -> None:
    processor, model = stand_ins()
    apply_mode(mode_spec("base", 1, 4), processor, model)
    assert current_constants(processor, model) == {
        "processor": [1024, 1024, False],
        "model": [1024, 1024, False],
        "crops": [1, 4],
    }
    # defaults evaluated at import now carry the mode too
    assert processor.count_tiles(100, 100) == (1, 4)
    assert processor.dynamic_preprocess(None) == (1, 4)
    assert processor.calculate_aspect_ratios() == (1, 4)
    made = processor.DeepseekOCRProcessor(tokenizer=None)
    assert (made.image_size, made.base_size, made.max_crops) == (1024, 1024, 4)
    assert made(prompt="p", images=[]) is False
    assert made.process_one("p", []) is False
    # and back to Gundam
    apply_mode(mode_spec("gundam"), processor, model)
    assert current_constants(processor, model)["model"] == [1024, 640, True]
    assert processor.DeepseekOCRProcessor(tokenizer=None)(prompt="p", images=[]) is True


def test_a_vllm_without_the_constants_is_refused() -> None:
    processor, model = stand_ins()
    del model.CROP_MODE
    with pytest.raises(ModeSwitchError, match="CROP_MODE"):
        apply_mode(mode_spec("base"), processor, model)


def test_rebinding_an_unknown_default_is_refused() -> None:
    def f(a: int, b: int = 1) -> int:
        return a + b

    rebind_defaults(f, b=5)
    assert f(1) == 6
    with pytest.raises(ModeSwitchError, match="'c'"):
        rebind_defaults(f, c=1)


def test_the_plugin_applies_the_exported_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    processor, model = stand_ins()
    monkeypatch.setattr(
        "worker.engines.deepseek.modes.importlib.import_module",
        lambda name: {
            "vllm.transformers_utils.processors.deepseek_ocr": processor,
            "vllm.model_executor.models.deepseek_ocr": model,
        }[name],
    )
    monkeypatch.delenv("OCRP_DEEPSEEK_MODE_SPEC", raising=False)
    vllm_plugin()  # nothing exported: nothing changes
    assert processor.IMAGE_SIZE == 640
    export_mode(mode_spec("small"))
    vllm_plugin()
    assert current_constants(processor, model)["processor"] == [640, 640, False]
    assert ModeSpec.from_env(mode_spec("large").to_env()) == mode_spec("large")


@pytest.mark.parametrize(
    ("mode", "size", "tokens"),
    [
        ("gundam", (1240, 1754), 903),  # 6 crops (2 x 3) + the global view: vLLM's count
        ("gundam", (600, 600), 273),  # fits one crop: the global view alone
        ("base", (1240, 1754), 273),
        ("tiny", (1240, 1754), 73),
        ("large", (1240, 1754), 421),
    ],
)
def test_image_tokens(mode: str, size: tuple[int, int], tokens: int) -> None:
    assert image_tokens(mode_spec(mode), *size) == tokens


def test_crop_grid_follows_the_page_shape() -> None:
    spec = mode_spec("gundam")
    assert crop_grid(spec, 1240, 1754) == (2, 3)
    assert crop_grid(spec, 1754, 1240) == (3, 2)
    assert crop_grid(spec, 3000, 600) == (5, 1)


def test_the_switch_on_the_installed_vllm() -> None:
    """Runs where vLLM is installed (the GPU image; not CI): the real modules change."""
    processor = pytest.importorskip("vllm.transformers_utils.processors.deepseek_ocr")
    model = pytest.importorskip("vllm.model_executor.models.deepseek_ocr")
    try:
        apply_mode(mode_spec("base", 1, 4))
        assert [model.BASE_SIZE, model.IMAGE_SIZE, model.CROP_MODE] == [1024, 1024, False]
        assert processor.dynamic_preprocess.__defaults__[:2] == (1, 4)
        apply_mode(mode_spec("gundam"))
        spec = mode_spec("gundam")
        for size in [(1240, 1754), (1754, 1240), (3000, 600), (900, 2000), (641, 641)]:
            assert crop_grid(spec, *size) == tuple(processor.count_tiles(*size, image_size=640))
    finally:
        apply_mode(mode_spec("gundam"))
