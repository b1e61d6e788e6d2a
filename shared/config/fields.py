"""What every settings group shares: the field helper and the enums settings refer to."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field


class StorageBackend(StrEnum):
    local = "local"
    s3 = "s3"


class EngineName(StrEnum):
    tesseract = "tesseract"
    deepseek = "deepseek"
    replay = "replay"
    standin = "standin"


def setting(default: Any, description: str, group: str, **kwargs: Any) -> Any:
    """A field with its documentation group attached (`docs/configuration.md` is built from it)."""
    return Field(default, description=description, json_schema_extra={"group": group}, **kwargs)
