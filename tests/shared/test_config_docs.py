"""docs/configuration.md and .env.example are generated from the Settings class; they must not
drift. Regenerate with `ocrp config docs --write .`."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings
from shared.config_docs import configuration_markdown, env_example

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_matches_the_settings() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == configuration_markdown(), (
        "docs/configuration.md is stale: run `ocrp config docs --write .`"
    )


def test_env_example_matches_the_settings() -> None:
    assert (ROOT / ".env.example").read_text() == env_example(), (
        ".env.example is stale: run `ocrp config docs --write .`"
    )


def test_every_setting_is_documented_with_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"OCR_{name.upper()}" in configuration_markdown()
