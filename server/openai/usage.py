"""The `usage` of a chat completion. Pure.

ocrp counts what it can: `completion_tokens` is the sum of the pages' output tokens where the
engine reports them (DeepSeek-OCR), otherwise the words of the answer (the CPU engine has no
tokenizer); `prompt_tokens` is the words of the prompt's text, without the image (its vision
tokens are not reported). Both are estimates for budgeting, not billing.
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<image>|<\|[^|<>]{1,40}\|>|<!-- page \d+ -->")


def words(text: str) -> int:
    return len(_MARKUP.sub(" ", text).split())


def usage(prompt: str, content: str, page_tokens: list[int | None]) -> dict[str, int]:
    counted = [tokens for tokens in page_tokens if tokens is not None]
    completion = sum(counted) if page_tokens and len(counted) == len(page_tokens) else words(content)
    prompt_tokens = words(prompt)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
