"""Chat messages → one document and one prompt, with the OpenAI `param` of whatever is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from server.openai.messages import ChatInputError, prompt_for, read_messages
from server.openai.schemas import Message

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}


def messages(*items: dict[str, Any]) -> list[Message]:
    return [Message.model_validate(item) for item in items]


def test_no_text_asks_for_the_document_preset() -> None:
    chat = read_messages(messages({"role": "user", "content": [IMAGE]}))
    assert chat.image_url == "data:image/png;base64,AAAA"
    assert chat.prompt is None


def test_text_becomes_the_prompt_after_the_image_placeholder() -> None:
    chat = read_messages(
        messages({"role": "user", "content": [{"type": "text", "text": " Free OCR. "}, IMAGE]})
    )
    assert chat.prompt == "<image>\nFree OCR."


def test_text_that_places_the_image_itself_is_kept_as_it_is() -> None:
    assert (
        prompt_for("<|grounding|>Locate <image> and read it.") == "<|grounding|>Locate <image> and read it."
    )


def test_only_the_last_user_message_counts() -> None:
    chat = read_messages(
        messages(
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": [{"type": "text", "text": "old question"}, IMAGE]},
            {"role": "assistant", "content": "an old answer"},
            {"role": "user", "content": [{"type": "text", "text": "Parse the figure."}, IMAGE]},
        )
    )
    assert chat.prompt == "<image>\nParse the figure."
    assert chat.image_param == "messages[3].content[1].image_url.url"


@pytest.mark.parametrize(
    ("items", "code", "param"),
    [
        ([{"role": "system", "content": "hi"}], "invalid_messages", "messages"),
        ([{"role": "user", "content": "just text"}], "image_required", "messages[0].content"),
        ([{"role": "user", "content": [IMAGE, IMAGE]}], "too_many_images", "messages[0].content"),
        (
            [{"role": "user", "content": [IMAGE, {"type": "input_audio", "input_audio": {}}]}],
            "unsupported_content",
            "messages[0].content[1].type",
        ),
        (
            [{"role": "user", "content": [IMAGE, {"type": "text", "text": "<image> and <image>"}]}],
            "invalid_prompt",
            "messages[0].content",
        ),
        (
            [{"role": "user", "content": [IMAGE, {"type": "text", "text": "x" * 2500}]}],
            "invalid_prompt",
            "messages[0].content",
        ),
    ],
)
def test_what_cannot_be_served_names_the_member_at_fault(
    items: list[dict[str, Any]], code: str, param: str
) -> None:
    with pytest.raises(ChatInputError) as caught:
        read_messages(messages(*items))
    assert caught.value.code == code
    assert caught.value.param == param
    assert caught.value.status in (400, 422)
