"""Every setting of the platform, read from `OCR_*` environment variables and `.env`.

One class, `Settings`, holds them all so that `docs/configuration.md` and `.env.example` can be
generated from it (`ocrp config docs`) and checked against it in the tests. It is assembled
from one group of settings per domain (`platform.py`, `webhooks.py`, `batches.py`,
`observability.py`, `security.py`, `interactive.py`, `engines.py`); the `group` key of each
field only drives the documentation.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config.batches import BatchSettings
from shared.config.engines import EngineSettings
from shared.config.fields import EngineName, StorageBackend, setting
from shared.config.http_server import HttpServerSettings
from shared.config.interactive import InteractiveSettings
from shared.config.observability import ObservabilitySettings
from shared.config.platform import PlatformSettings
from shared.config.security import SecuritySettings
from shared.config.webhooks import WebhookSettings

__all__ = ["EngineName", "Settings", "StorageBackend", "get_settings", "setting"]


# pydantic lists the fields of the last base first: the documentation starts with the platform
class Settings(
    BaseSettings,
    EngineSettings,
    InteractiveSettings,
    SecuritySettings,
    ObservabilitySettings,
    BatchSettings,
    WebhookSettings,
    HttpServerSettings,
    PlatformSettings,
):
    model_config = SettingsConfigDict(
        env_prefix="OCR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
