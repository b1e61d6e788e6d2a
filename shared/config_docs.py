"""docs/configuration.md and .env.example, generated from the Settings class so they cannot
drift from the code (a test regenerates them and compares)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from shared.config import Settings

GROUP_TITLES = {
    "general": "General",
    "database": "Database",
    "queue": "Queue and events",
    "storage": "Storage",
    "api": "API",
    "documents": "Documents and inputs",
    "worker": "Worker",
    "replay": "Replay engine",
    "observability": "Observability (metrics, heartbeats, dashboard)",
    "webhooks": "Webhooks",
    "batches": "Batch backfills",
    "security": "Security, limits and retention",
    "interactive": "Interactive OCR and live events",
    "deepseek": "GPU engine (DeepSeek-OCR on vLLM)",
}

CLIENT_VARIABLES = [
    ("OCR_API_URL", "http://127.0.0.1:8000", "Base URL the `ocrp` client commands talk to."),
    (
        "OCR_API_KEY",
        "",
        "API key the `ocrp` client commands send as `Authorization: Bearer`. Empty: the key "
        "`ocrp run` saved in `$OCR_DATA_DIR/local-api-key`, if any.",
    ),
]


def _default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _groups() -> dict[str, list[tuple[str, str, str]]]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        group = str(extra.get("group", "general"))
        env = f"OCR_{name.upper()}"
        groups.setdefault(group, []).append((env, _default(field.default), field.description or ""))
    return groups


def configuration_markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable prefixed `OCR_`, also read from a `.env` file in the",
        "working directory. The defaults run the embedded mode (SQLite, local storage, the filesystem",
        "broker, the Tesseract engine). This page is generated from `shared/config/` by",
        "`ocrp config docs --write .`; a test fails when it drifts.",
        "",
    ]
    for group, rows in _groups().items():
        lines += [
            f"## {GROUP_TITLES.get(group, group.title())}",
            "",
            "| Variable | Default | Meaning |",
            "|---|---|---|",
        ]
        for env, default, description in rows:
            shown = f"`{default}`" if default else "(empty)"
            cell = description.replace("|", "\\|")
            lines.append(f"| `{env}` | {shown} | {cell} |")
        lines.append("")
    lines += [
        "## Client (`ocrp submit`, `status`, `fetch`, `backfill`)",
        "",
        "| Variable | Default | Meaning |",
        "|---|---|---|",
    ]
    for env, default, description in CLIENT_VARIABLES:
        lines.append(f"| `{env}` | {'`' + default + '`' if default else '(empty)'} | {description} |")
    return "\n".join(lines) + "\n"


def env_example() -> str:
    lines = ["# Every ocrp setting with its default. Copy to .env and change what you need.", ""]
    for group, rows in _groups().items():
        lines.append(f"# --- {GROUP_TITLES.get(group, group)} ---")
        for env, default, description in rows:
            lines.append(f"# {description}")
            lines.append(f"{env}={default}")
        lines.append("")
    lines.append("# --- client ---")
    for env, default, description in CLIENT_VARIABLES:
        lines += [f"# {description}", f"{env}={default}"]
    return "\n".join(lines) + "\n"
