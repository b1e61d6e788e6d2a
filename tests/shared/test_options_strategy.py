"""`strategy` travels from every request shape into the task options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.interactive.schemas import OcrFields
from server.openai.schemas import ChatRequest
from server.tasks.schemas import OptionFields
from shared.options import TaskOptions


def test_json_bodies_of_tasks_batches_and_ocr_carry_the_strategy() -> None:
    assert OptionFields(strategy="text").options().strategy == "text"
    assert OcrFields(strategy="ocr").options().strategy == "ocr"
    chat = ChatRequest.model_validate(
        {"model": "ocrp", "messages": [{"role": "user", "content": "x"}], "strategy": "auto"}
    )
    assert chat.strategy == "auto"


def test_no_strategy_means_the_server_default() -> None:
    assert TaskOptions().strategy is None
    assert "strategy" in TaskOptions().model_dump()


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValidationError):
        TaskOptions(strategy="fast")  # type: ignore[arg-type]
