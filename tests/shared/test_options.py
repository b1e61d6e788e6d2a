from __future__ import annotations

import pytest

from shared.errors import Unprocessable
from shared.options import PROMPTS, PromptPreset, TaskOptions


def test_defaults_are_gundam_and_the_document_prompt() -> None:
    options = TaskOptions()
    assert options.mode == "gundam"
    assert options.prompt_text() == "<image>\n<|grounding|>Convert the document to markdown."


@pytest.mark.parametrize("preset", [p for p in PromptPreset if p != PromptPreset.custom])
def test_every_preset_has_exactly_one_image_placeholder(preset: PromptPreset) -> None:
    assert PROMPTS[preset].count("<image>") == 1
    assert TaskOptions(prompt=preset).prompt_text() == PROMPTS[preset]


def test_custom_prompt_is_used_when_valid() -> None:
    options = TaskOptions(prompt="custom", custom_prompt="<image>\nList the tables.")
    assert options.prompt_text() == "<image>\nList the tables."


@pytest.mark.parametrize(
    ("prompt", "custom", "message"),
    [
        ("custom", None, "needs custom_prompt"),
        ("custom", "no placeholder", "exactly one"),
        ("custom", "<image><image> twice", "exactly one"),
        ("custom", "<image>" + "x" * 2001, "limit"),
        ("document", "<image> stray", "only allowed"),
    ],
)
def test_invalid_prompts_are_refused(prompt: str, custom: str | None, message: str) -> None:
    with pytest.raises(Unprocessable, match=message) as caught:
        TaskOptions(prompt=prompt, custom_prompt=custom)
    assert caught.value.code == "invalid_prompt"


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        TaskOptions.model_validate({"mode": "base", "colour": "blue"})
