"""Every OCR_* variable the deployment files set or mention is a real setting of
shared.config.Settings (or a documented client variable), so compose, the Helm chart, the
Dockerfiles and the operations guide cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from shared.config import Settings
from shared.config_docs import CLIENT_VARIABLES
from tests.deploy.chart import GPU_VALUES, load_values, render
from tests.deploy.compose_cli import compose_config
from tests.deploy.paths import (
    CHART,
    COMPOSE_ENV_EXAMPLE,
    COMPOSE_FILE,
    DOCKERFILES,
    OPERATIONS_DOC,
    ROOT,
)

VARIABLE = re.compile(r"\bOCR_[A-Z0-9_]+\b")

# Settings that the deployment already wires up while the branch that adds them to Settings is
# still being merged. Each entry must go once its setting exists (a test below says so).
PENDING_SETTINGS: dict[str, str] = {}


def known_variables() -> set[str]:
    settings = {f"OCR_{name.upper()}" for name in Settings.model_fields}
    return settings | {name for name, _, _ in CLIENT_VARIABLES}


def deployment_files() -> list[Path]:
    files = [COMPOSE_FILE, COMPOSE_ENV_EXAMPLE, OPERATIONS_DOC, *DOCKERFILES.values()]
    files += sorted(p for p in CHART.rglob("*") if p.is_file())
    return files


def unknown_in(text: str) -> set[str]:
    return set(VARIABLE.findall(text)) - known_variables() - set(PENDING_SETTINGS)


def test_deployment_files_mention_only_real_settings() -> None:
    unknown = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in deployment_files()
        if (found := unknown_in(path.read_text()))
    }
    assert unknown == {}, f"OCR_* names that are not settings (see docs/configuration.md): {unknown}"


def test_resolved_compose_environment_uses_only_real_settings() -> None:
    for profile in (None, "cpu"):
        for name, service in compose_config(profile)["services"].items():
            names = {key for key in service.get("environment", {}) if key.startswith("OCR_")}
            assert not unknown_in(" ".join(names)), f"{name}: {sorted(unknown_in(' '.join(names)))}"


def test_rendered_chart_uses_only_real_settings() -> None:
    for values in ({}, load_values(GPU_VALUES)):
        rendered = "\n".join(render(values).values())
        assert not unknown_in(rendered), sorted(unknown_in(rendered))


def test_the_check_catches_an_invented_setting() -> None:
    assert unknown_in("env:\n  - name: OCR_NOT_A_SETTING\n") == {"OCR_NOT_A_SETTING"}
    assert unknown_in("OCR_DATABASE_URL=postgresql+psycopg://x OCR_API_URL=http://x") == set()


def test_pending_settings_are_dropped_once_they_exist() -> None:
    landed = set(PENDING_SETTINGS) & known_variables()
    assert not landed, f"{sorted(landed)} now exist in Settings: remove them from PENDING_SETTINGS"
