"""Task options shared by the API (validation) and the workers (execution)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.errors import Unprocessable
from shared.page_ranges import parse_page_ranges


class Mode(StrEnum):
    """DeepSeek-OCR resolution modes (the CPU engine records but ignores them)."""

    tiny = "tiny"
    small = "small"
    base = "base"
    large = "large"
    gundam = "gundam"


class Strategy(StrEnum):
    """Where a page's text comes from: the PDF's text layer where it is usable (`auto`), always
    the OCR engine (`ocr`), or never the engine (`text`; pages without a usable layer are
    flagged in layout.json). Image documents always go to the engine."""

    auto = "auto"
    ocr = "ocr"
    text = "text"


class TableFormat(StrEnum):
    """How tables are written in the markdown (layout.json always keeps the engine's HTML)."""

    html = "html"
    markdown = "markdown"


class PromptPreset(StrEnum):
    document = "document"
    free_ocr = "free_ocr"
    figure = "figure"
    image = "image"
    custom = "custom"


PROMPTS: dict[PromptPreset, str] = {
    PromptPreset.document: "<image>\n<|grounding|>Convert the document to markdown.",
    PromptPreset.free_ocr: "<image>\nFree OCR.",
    PromptPreset.figure: "<image>\nParse the figure.",
    PromptPreset.image: "<image>\n<|grounding|>OCR this image.",
}

MAX_CUSTOM_PROMPT_CHARS = 2000


def validate_custom_prompt(text: str) -> str:
    """A custom prompt must hold exactly one `<image>` placeholder and stay short."""
    if len(text) > MAX_CUSTOM_PROMPT_CHARS:
        raise Unprocessable(
            f"custom_prompt is {len(text)} characters; the limit is {MAX_CUSTOM_PROMPT_CHARS}",
            "invalid_prompt",
        )
    count = text.count("<image>")
    if count != 1:
        raise Unprocessable(
            f"custom_prompt must contain exactly one '<image>' placeholder (found {count})",
            "invalid_prompt",
        )
    return text


class TaskOptions(BaseModel):
    """What a client may ask of a task. Stored on the task row as JSON.

    The one definition of the option fields: the JSON bodies (`server.tasks.schemas`,
    `server.interactive.schemas`) inherit them, the form parameters of the upload routes
    (`server.forms`) and the CLI flags (`ocrp.commands.task_options`) are generated from them,
    and so is the OpenAPI document. A field added here appears everywhere."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    mode: Mode = Field(Mode.gundam, description="DeepSeek-OCR resolution mode.")
    prompt: PromptPreset = Field(PromptPreset.document, description="Prompt preset.")
    custom_prompt: str | None = Field(
        None,
        max_length=10_000,  # a guard on the body; the prompt's own limit is checked below
        description="Prompt text when prompt=custom: exactly one `<image>`, at most 2000 characters.",
    )
    dpi: int | None = Field(None, description="PDF render resolution; the server default when empty.")
    pages: str | None = Field(
        None, max_length=1000, description="Pages to process, e.g. `1-3,7` or `5-`; all when empty."
    )
    strategy: Strategy | None = Field(
        None,
        description="`auto` (the PDF text layer where usable, OCR otherwise), `ocr` or `text`; "
        "the server default (OCR_DEFAULT_STRATEGY) when empty.",
    )
    table_format: TableFormat | None = Field(
        None,
        description="Tables in the markdown as `html` (the default: keeps merged cells) or "
        "`markdown` pipe tables.",
    )

    @field_validator("pages")
    @classmethod
    def _pages(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_page_ranges(value)
        return value.strip()

    @model_validator(mode="after")
    def _prompt(self) -> TaskOptions:
        if self.prompt == PromptPreset.custom:
            if not self.custom_prompt:
                raise Unprocessable("prompt=custom needs custom_prompt", "invalid_prompt")
            validate_custom_prompt(self.custom_prompt)
        elif self.custom_prompt:
            raise Unprocessable("custom_prompt is only allowed with prompt=custom", "invalid_prompt")
        return self

    def prompt_text(self) -> str:
        if self.prompt == PromptPreset.custom:
            assert self.custom_prompt is not None
            return self.custom_prompt
        return PROMPTS[PromptPreset(self.prompt)]
