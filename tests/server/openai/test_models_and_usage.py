"""Model ids from heartbeats, the names a request may use, and usage counts."""

from __future__ import annotations

import pytest

from server.openai.models import ALIAS, model_id, resolve_model
from server.openai.usage import usage
from shared.errors import NotFound
from shared.worker_liveness import ServedModel

TESSERACT = ServedModel("tesseract", "tesseract 5.3.4 (eng, tessdata_fast)", ("base", "gundam"), False, 1)
DEEPSEEK = ServedModel("deepseek", "DeepSeek-OCR gundam (DeepSeek-OCR)", ("gundam",), True, 2)


def test_model_ids_are_url_safe_names_of_the_engine_model() -> None:
    assert model_id(TESSERACT) == "tesseract-5.3.4-eng-tessdata_fast"
    assert model_id(DEEPSEEK) == "deepseek-ocr-gundam-deepseek-ocr"
    assert model_id(ServedModel("replay", None, (), False, 1)) == "replay"


def test_a_request_names_a_model_by_id_by_engine_or_by_the_alias() -> None:
    served = [TESSERACT, DEEPSEEK]
    assert resolve_model("deepseek-ocr-gundam-deepseek-ocr", served) is DEEPSEEK
    assert resolve_model("tesseract", served) is TESSERACT
    assert resolve_model(ALIAS, served) is None
    assert resolve_model(ALIAS, []) is None  # nothing connected yet: the task waits in the queue


def test_an_unknown_model_is_refused_with_the_names_that_work() -> None:
    with pytest.raises(NotFound) as caught:
        resolve_model("gpt-4o", [TESSERACT])
    assert caught.value.code == "model_not_found"
    assert "tesseract-5.3.4-eng-tessdata_fast" in caught.value.message


def test_usage_counts_engine_tokens_where_reported_else_words() -> None:
    prompt = "<image>\n<|grounding|>Convert the document to markdown."
    assert usage(prompt, "ignored here", [120, 80]) == {
        "prompt_tokens": 5,
        "completion_tokens": 200,
        "total_tokens": 205,
    }
    words = usage(prompt, "<!-- page 1 -->\n\nThree little words", [None])
    assert words["completion_tokens"] == 3
    assert words["total_tokens"] == 8
